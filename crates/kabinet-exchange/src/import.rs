//! Importing one exchange file, or a whole monthly package, into the database.
//!
//! Each file is parsed on its own thread and streamed into a staging table;
//! memory stays flat whatever the file size. A package goes through one
//! transaction: if any line of any file is bad, or names an unknown account,
//! service or meter, nothing changes. The same run without the commit is
//! the check the office shows before an import is confirmed.

use crate::parse::{Header, Line, Record};
pub use crate::parse::{Problem, parse_date};
use crate::source::{LineTooLong, ReadOptions, TextEncoding, open};
use crate::{ExchangeError, ImportKind};
use kabinet_db::Db;
use kabinet_db::exchange::{ImportSession, PeriodDays, RunOutcome};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use time::UtcOffset;

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Forced encoding or separator.
    pub read: ReadOptions,
    /// Receipt and due days for billing periods the import creates.
    pub days: PeriodDays,
    /// The Organization's UTC offset, for times written without one.
    pub offset: UtcOffset,
    /// Who runs it (recorded in the run log).
    pub actor: String,
    /// Problems listed in the report (all are counted).
    pub max_problems: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            read: ReadOptions::default(),
            days: PeriodDays {
                receipt_day: 5,
                due_day: 15,
            },
            offset: UtcOffset::from_hms(3, 0, 0).unwrap_or(UtcOffset::UTC),
            actor: "cli".into(),
            max_problems: 100,
        }
    }
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// Kind of file.
    pub kind: ImportKind,
    /// The file.
    pub file: PathBuf,
    /// Encoding read.
    pub encoding: TextEncoding,
    /// Separator read.
    pub delimiter: u8,
    /// Data lines read (without the header).
    pub lines: u64,
    /// Rows inserted or updated.
    pub written: u64,
    /// The first problems found.
    pub problems: Vec<Problem>,
    /// How many problems there are.
    pub total_problems: u64,
    /// Header columns that were not used.
    pub ignored_columns: Vec<String>,
    /// Whether the data was committed.
    pub committed: bool,
    /// Wall time.
    pub elapsed: Duration,
}

enum Parsed {
    Header(Result<Vec<String>, Vec<Problem>>),
    Records(Vec<(u64, Record)>),
    Problems(Vec<Problem>),
}

/// A file of a package: what it holds and where it is.
#[derive(Debug, Clone)]
pub struct PackageFile {
    /// What the file holds.
    pub kind: ImportKind,
    /// Where it is.
    pub path: PathBuf,
}

/// Whether a package is only checked or imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageMode {
    /// Everything is read, checked and merged as for an import, then rolled
    /// back: the reports say what would change. No run is recorded.
    Check,
    /// The same, committed when no file has a problem.
    Import,
}

/// What a package import (or check) did: one report per file, in package order.
#[derive(Debug, Clone)]
pub struct PackageReport {
    /// The files' reports.
    pub files: Vec<ImportReport>,
    /// Whether the package was committed.
    pub committed: bool,
}

impl PackageReport {
    /// Problems in all files.
    pub fn total_problems(&self) -> u64 {
        self.files.iter().map(|f| f.total_problems).sum()
    }
}

/// Imports one file of `kind` on its own (a package of one file). A report
/// with problems is not an error: the caller decides how to show it.
/// `progress` gets (bytes read, file size).
pub async fn import_file(
    db: &Db,
    kind: ImportKind,
    path: &Path,
    options: &ImportOptions,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<ImportReport, ExchangeError> {
    let file = PackageFile {
        kind,
        path: path.to_path_buf(),
    };
    let mut report = import_package(
        db,
        &[file],
        options,
        PackageMode::Import,
        &mut |_, done, total| progress(done, total),
    )
    .await?;
    report
        .files
        .pop()
        .ok_or_else(|| ExchangeError::Csv("the file was not read".into()))
}

/// Imports (or only checks) a package: every file, in package order
/// ([`ImportKind::ALL`]), goes through one transaction, so the package is
/// loaded whole or not at all. A file with problems does not stop the
/// others: its good lines are merged in the transaction so that the files
/// after it are checked against them, and the report lists every file's
/// problems. `progress` gets (file, bytes read of the package, package size).
pub async fn import_package(
    db: &Db,
    files: &[PackageFile],
    options: &ImportOptions,
    mode: PackageMode,
    progress: &mut (dyn FnMut(ImportKind, u64, u64) + Send),
) -> Result<PackageReport, ExchangeError> {
    let started = OffsetDateTime::now_utc();
    let mut files: Vec<&PackageFile> = files.iter().collect();
    files.sort_by_key(|f| ImportKind::ALL.iter().position(|k| *k == f.kind));
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(&f.path).map_or(0, |m| m.len()))
        .sum();
    // An import's runs are recorded before its transaction (a run row
    // written during it would wait for the write lock the import holds on
    // SQLite), so a killed import stays visible as unfinished.
    let mut runs = Vec::new();
    if mode == PackageMode::Import {
        for f in &files {
            let name = f
                .path
                .file_name()
                .map_or_else(|| f.path.display().to_string(), |n| n.to_string_lossy().into());
            runs.push(
                db.exchange()
                    .start_run_at("import", f.kind.name(), &name, &options.actor, started)
                    .await?,
            );
        }
    }
    let mut session = db.exchange().begin_package(options.days).await?;
    let mut reports = Vec::with_capacity(files.len());
    let mut base = 0u64;
    let mut failure = None;
    for f in &files {
        let kind = f.kind;
        let result = read_file(&mut session, f, options, &mut |done, _| {
            progress(kind, base + done, total)
        })
        .await;
        match result {
            Ok((report, size)) => {
                base += size;
                reports.push(report);
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let clean = failure.is_none() && reports.iter().all(|r| r.total_problems == 0);
    let committed = clean && mode == PackageMode::Import;
    let end = if committed {
        session.commit().await.map(|_| ())
    } else {
        session.rollback().await
    };
    if let Err(e) = end {
        failure = failure.or(Some(e.into()));
    }
    for r in &mut reports {
        r.committed = committed && failure.is_none();
    }
    finish_runs(db, &runs, &reports, failure.as_ref()).await?;
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(PackageReport {
        committed,
        files: reports,
    })
}

/// Reads one file of a package into the session: parses and stages it,
/// checks it, and merges what can be merged. Returns its report (`written`
/// counts rows of a file without problems) and its size.
async fn read_file(
    session: &mut ImportSession,
    file: &PackageFile,
    options: &ImportOptions,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<(ImportReport, u64), ExchangeError> {
    let started = Instant::now();
    let (kind, path) = (file.kind, file.path.as_path());
    let opened = open(path, options.read)?;
    let (encoding, delimiter, size, position) = (
        opened.encoding,
        opened.delimiter,
        opened.size,
        opened.position.clone(),
    );
    session.next(kind).await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Parsed>(4);
    let offset = options.offset;
    let reader_thread = std::thread::spawn(move || parse_file(opened.reader, delimiter, kind, offset, tx));
    let mut report = ImportReport {
        kind,
        file: path.to_path_buf(),
        encoding,
        delimiter,
        lines: 0,
        written: 0,
        problems: Vec::new(),
        total_problems: 0,
        ignored_columns: Vec::new(),
        committed: false,
        elapsed: Duration::ZERO,
    };
    let mut failure: Option<ExchangeError> = None;
    while let Some(msg) = rx.recv().await {
        match msg {
            Parsed::Header(Ok(ignored)) => report.ignored_columns = ignored,
            Parsed::Header(Err(problems)) | Parsed::Problems(problems) if failure.is_none() => {
                report.total_problems += problems.len() as u64;
                let room = options.max_problems.saturating_sub(report.problems.len());
                report.problems.extend(problems.into_iter().take(room));
            }
            Parsed::Records(records) if failure.is_none() => {
                report.lines += records.len() as u64;
                if let Err(e) = stage_all(session, &records).await {
                    failure = Some(e.into());
                }
                progress(position.load(Ordering::Relaxed), size);
            }
            _ => {}
        }
    }
    match reader_thread.join() {
        Ok(Ok(bad_lines)) => report.lines += bad_lines,
        Ok(Err(e)) => failure = failure.or(Some(e)),
        Err(_) => {
            failure = failure.or(Some(ExchangeError::Csv(
                "the file reader stopped unexpectedly".into(),
            )))
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let (problems, total) = session.check(usize::MAX).await?;
    if total > 0 {
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        report.total_problems += total;
        let mut found: Vec<Problem> = problems
            .into_iter()
            .map(|p| Problem {
                line: p.line,
                column: p.column.to_string(),
                message: p.message,
            })
            .collect();
        found.truncate(options.max_problems.saturating_sub(report.problems.len()));
        report.problems.extend(found);
        report.problems.sort_by_key(|p| p.line);
        session.drop_lines(&lines).await?;
    }
    let written = session.merge().await?;
    if report.total_problems == 0 {
        report.written = written;
    }
    progress(size, size);
    report.elapsed = started.elapsed();
    Ok((report, size))
}

async fn stage_all(
    session: &mut ImportSession,
    records: &[(u64, Record)],
) -> Result<(), kabinet_db::DbError> {
    for (line, record) in records {
        match record {
            Record::Payee(r) => session.stage(*line, r).await?,
            Record::Service(r) => session.stage(*line, r).await?,
            Record::Account(r) => session.stage(*line, r).await?,
            Record::Meter(r) => session.stage(*line, r).await?,
            Record::Reading(r) => session.stage(*line, r).await?,
            Record::Charge(r) => session.stage(*line, r).await?,
            Record::Invoice(r) => session.stage(*line, r).await?,
            Record::Payment(r) => session.stage(*line, r).await?,
        }
    }
    Ok(())
}

/// Records how each file's run ended, once the package's transaction has
/// ended: its counts, and the failure's text when the package failed for a
/// reason other than its lines (a file not reached ends with it too).
async fn finish_runs(
    db: &Db,
    runs: &[kabinet_domain::ExchangeRunId],
    reports: &[ImportReport],
    error: Option<&ExchangeError>,
) -> Result<(), ExchangeError> {
    for (i, run) in runs.iter().enumerate() {
        let report = reports.get(i);
        let committed = report.is_some_and(|r| r.committed);
        let problems = report.map_or(0, |r| r.total_problems);
        // The counts are the run's own columns; the message is left for a
        // failure that is not about lines (the database, the file system).
        let message = error.map(ToString::to_string).unwrap_or_default();
        db.exchange()
            .finish_run(
                *run,
                &RunOutcome {
                    ok: committed,
                    rows_read: report.map_or(0, |r| r.lines),
                    rows_written: if committed {
                        report.map_or(0, |r| r.written)
                    } else {
                        0
                    },
                    errors: problems,
                    message,
                },
            )
            .await?;
    }
    Ok(())
}

/// Reads and parses the whole file on the calling (blocking) thread, sending
/// records and problems in chunks. Returns the number of lines that had problems.
fn parse_file(
    reader: Box<dyn std::io::Read + Send>,
    delimiter: u8,
    kind: ImportKind,
    offset: UtcOffset,
    tx: tokio::sync::mpsc::Sender<Parsed>,
) -> Result<u64, ExchangeError> {
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let header = match csv.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            let (_, message, _) = read_error(&e, 1, &[]);
            return Err(ExchangeError::Csv(format!(
                "не удалось прочитать заголовок: {message}"
            )));
        }
    };
    let header_names: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let header = match Header::new(kind, &header) {
        Ok(h) => {
            let _ = tx.blocking_send(Parsed::Header(Ok(h.ignored.clone())));
            h
        }
        Err(problems) => {
            let _ = tx.blocking_send(Parsed::Header(Err(problems)));
            return Ok(0);
        }
    };
    let mut records = Vec::with_capacity(2_000);
    let mut problems = Vec::new();
    let mut bad_lines = 0u64;
    let mut record = csv::StringRecord::new();
    let mut line_no = 1u64;
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                line_no = record.position().map_or(line_no + 1, |p| p.line());
                if record.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                let mut line = Line::new(&record, &header, line_no, offset);
                match line.parse(kind) {
                    Some(r) => records.push((line_no, r)),
                    None => {
                        bad_lines += 1;
                        problems.append(&mut line.problems);
                    }
                }
            }
            Err(e) => {
                bad_lines += 1;
                let (line, message, go_on) = read_error(&e, line_no + 1, &header_names);
                problems.push(Problem {
                    line,
                    column: String::new(),
                    message,
                });
                if !go_on {
                    break;
                }
            }
        }
        if records.len() >= 2_000
            && tx
                .blocking_send(Parsed::Records(std::mem::take(&mut records)))
                .is_err()
        {
            return Ok(bad_lines);
        }
        if problems.len() >= 200
            && tx
                .blocking_send(Parsed::Problems(std::mem::take(&mut problems)))
                .is_err()
        {
            return Ok(bad_lines);
        }
    }
    if !records.is_empty() {
        let _ = tx.blocking_send(Parsed::Records(records));
    }
    if !problems.is_empty() {
        let _ = tx.blocking_send(Parsed::Problems(problems));
    }
    Ok(bad_lines)
}

/// What to report for a line the CSV reader could not read: its line, the
/// message, and whether reading can go on after it.
fn read_error(e: &csv::Error, fallback_line: u64, header: &[String]) -> (u64, String, bool) {
    let line = e.position().map_or(fallback_line, |p| p.line());
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            let column = header.get(err.field()).map_or_else(
                || format!("поле {}", err.field() + 1),
                |c| format!("столбец «{c}»"),
            );
            (
                line,
                format!(
                    "{column}: текст не в кодировке UTF-8. Если файл выгружен в windows-1251, \
                     загрузите его с параметром --encoding windows-1251"
                ),
                true,
            )
        }
        csv::ErrorKind::UnequalLengths { .. } => (line, format!("строка не читается: {e}"), true),
        csv::ErrorKind::Io(io) => match io.get_ref().and_then(|i| i.downcast_ref::<LineTooLong>()) {
            Some(long) => (long.line, long.to_string(), false),
            None => (line, format!("файл не читается: {io}"), false),
        },
        _ => (line, format!("строка не читается: {e}"), false),
    }
}

/// The files of a package folder: every `<kind>.csv` found in `dir`.
pub fn package_in(dir: &Path) -> Vec<PackageFile> {
    ImportKind::ALL
        .iter()
        .map(|&kind| PackageFile {
            kind,
            path: dir.join(format!("{}.csv", kind.name())),
        })
        .filter(|f| f.path.exists())
        .collect()
}

/// Imports every `<kind>.csv` found in `dir` as one package: all of it or,
/// when any file has a problem, nothing. One report per file found.
pub async fn import_dir(
    db: &Db,
    dir: &Path,
    options: &ImportOptions,
    progress: &mut (dyn FnMut(ImportKind, u64, u64) + Send),
) -> Result<Vec<ImportReport>, ExchangeError> {
    let files = package_in(dir);
    if files.is_empty() {
        return Ok(Vec::new());
    }
    Ok(import_package(db, &files, options, PackageMode::Import, progress)
        .await?
        .files)
}
