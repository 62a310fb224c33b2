//! Importing one exchange file, or a whole monthly package, into the database.
//!
//! The file is parsed on its own thread and streamed into a staging table inside
//! one transaction; memory stays flat whatever the file size. A file with any bad
//! line, or a line naming an unknown account, service or meter, changes nothing.

use crate::parse::{Header, Line, Record};
pub use crate::parse::{Problem, parse_date};
use crate::source::{LineTooLong, ReadOptions, TextEncoding, open};
use crate::{ExchangeError, ImportKind};
use kabinet_db::Db;
use kabinet_db::exchange::{ImportSession, PeriodDays, RunOutcome};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
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

/// Imports one file of `kind`. A report with problems is not an error: the
/// caller decides how to show it. `progress` gets (bytes read, file size).
pub async fn import_file(
    db: &Db,
    kind: ImportKind,
    path: &Path,
    options: &ImportOptions,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<ImportReport, ExchangeError> {
    let started = Instant::now();
    let opened = open(path, options.read)?;
    let (encoding, delimiter, size, position) = (
        opened.encoding,
        opened.delimiter,
        opened.size,
        opened.position.clone(),
    );
    let file_name = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into());
    let run = db
        .exchange()
        .start_run("import", kind.name(), &file_name, &options.actor)
        .await?;

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Parsed>(4);
    let offset = options.offset;
    let reader_thread = std::thread::spawn(move || parse_file(opened.reader, delimiter, kind, offset, tx));

    let mut session: ImportSession = match db.exchange().begin_import(kind, options.days).await {
        Ok(s) => s,
        Err(e) => {
            let outcome = RunOutcome {
                ok: false,
                rows_read: 0,
                rows_written: 0,
                errors: 1,
                message: e.to_string(),
            };
            db.exchange().finish_run(run, &outcome).await?;
            return Err(e.into());
        }
    };
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
                // Once a line is bad nothing will be written; keep parsing only
                // to report every problem.
                if report.total_problems == 0
                    && let Err(e) = stage_all(&mut session, &records).await
                {
                    failure = Some(e.into());
                }
                progress(position.load(Ordering::Relaxed), size);
            }
            _ => {}
        }
    }
    let parse_result = reader_thread.join();
    match parse_result {
        Ok(Ok(bad_lines)) => report.lines += bad_lines,
        Ok(Err(e)) => failure = failure.or(Some(e)),
        Err(_) => {
            failure = failure.or(Some(ExchangeError::Csv(
                "the file reader stopped unexpectedly".into(),
            )))
        }
    }
    if let Some(e) = failure {
        let _ = session.rollback().await;
        finish(db, run, &report, Some(&e.to_string())).await?;
        return Err(e);
    }
    if report.total_problems == 0 {
        let (problems, total) = session.check(options.max_problems).await?;
        report.total_problems = total;
        report.problems = problems
            .into_iter()
            .map(|p| Problem {
                line: p.line,
                column: p.column.to_string(),
                message: p.message,
            })
            .collect();
    }
    if report.total_problems == 0 {
        report.written = session.commit().await?;
        report.committed = true;
    } else {
        session.rollback().await?;
    }
    progress(size, size);
    report.elapsed = started.elapsed();
    finish(db, run, &report, None).await?;
    Ok(report)
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

async fn finish(
    db: &Db,
    run: kabinet_domain::ExchangeRunId,
    report: &ImportReport,
    error: Option<&str>,
) -> Result<(), ExchangeError> {
    let message = match error {
        Some(e) => e.to_string(),
        None if report.committed => format!("{} строк загружено", report.written),
        None => format!("{} ошибок, ничего не изменено", report.total_problems),
    };
    db.exchange()
        .finish_run(
            run,
            &RunOutcome {
                ok: report.committed,
                rows_read: report.lines,
                rows_written: report.written,
                errors: report.total_problems,
                message,
            },
        )
        .await?;
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

/// Imports every `<kind>.csv` found in `dir`, in package order, each file in
/// its own transaction. Stops at the first file that is not committed.
pub async fn import_dir(
    db: &Db,
    dir: &Path,
    options: &ImportOptions,
    progress: &mut (dyn FnMut(ImportKind, u64, u64) + Send),
) -> Result<Vec<ImportReport>, ExchangeError> {
    let mut reports = Vec::new();
    for kind in ImportKind::ALL {
        let path = dir.join(format!("{}.csv", kind.name()));
        if !path.exists() {
            continue;
        }
        let report = import_file(db, kind, &path, options, &mut |done, total| {
            progress(kind, done, total)
        })
        .await?;
        let stop = !report.committed;
        reports.push(report);
        if stop {
            break;
        }
    }
    Ok(reports)
}
