//! Billing packages imported from the office (S1). An accountant uploads a
//! package (CSV files or a zip of them); its bytes are kept in the database
//! in chunks, so the server whose job runner checks it need not be the one
//! that received it. A background job checks the whole package as an import
//! would run — every file, one transaction — and rolls it back; the page then
//! shows the problems by file, line and column, or what would change. Once
//! the accountant confirms a clean package a second job imports it the same
//! way and commits, all or nothing. The CLI's `kabinet import --dir` is the
//! same package import without the upload.
//!
//! On SQLite the check and the import hold the database's write lock while
//! they run (residents' writes wait, then are told to try again): the demo
//! package takes well under a second, a month of 100 000 accounts some
//! seconds. On PostgreSQL only the rows being merged are locked.

use crate::Error;
use crate::FieldErrors;
use crate::jobs::imports::CheckPackage;
use crate::staff::By;
use kabinet_db::imports::{FileCount, Import, Outcome, StoredProblem};
use kabinet_db::{Backend, Db, Repos};
use kabinet_domain as d;
use kabinet_domain::ImportId;
use kabinet_domain::imports::{
    ImportState as S, MAX_PACKAGE_BYTES, MAX_PACKAGE_FILES, PROBLEMS_KEPT, PROBLEMS_SHOWN,
};
use kabinet_domain::staff::Permission;
use kabinet_exchange::import::{ImportOptions, PackageMode, import_package};
use kabinet_exchange::unpack::{PackageProblem, Uploaded, unpack};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// Bytes of a package kept per database row.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// Packages listed in the history.
pub const HISTORY_SHOWN: u64 = 50;

/// An upload not finished in this time was cut off, and a check or an
/// import not ended in it was given up (its job's attempts take at most an
/// hour each): it is marked failed and its bytes dropped by the next upload.
pub const UPLOAD_STALE_AFTER: Duration = Duration::hours(4);

/// The form field packages come in.
pub const FILES_FIELD: &str = "files";

type Progress = Arc<Mutex<HashMap<ImportId, (u64, u64)>>>;

/// The use cases of billing packages.
#[derive(Clone)]
pub struct Imports {
    db: Db,
    days: crate::org_settings::LiveBilling,
    clock: d::OrgClock,
    /// Progress of the work this process runs (on SQLite the import holds
    /// the write lock, so progress is not written to the database there).
    progress: Progress,
}

/// A package with what its page shows.
#[derive(Debug, Clone)]
pub struct PackageView {
    /// The package.
    pub import: Import,
    /// Its first [`PROBLEMS_SHOWN`] problems.
    pub problems: Vec<StoredProblem>,
    /// Whether it may be confirmed now.
    pub confirmable: bool,
}

/// A package being received.
pub struct Upload {
    db: Db,
    id: ImportId,
    names: Vec<String>,
    seq: i32,
    buf: Vec<u8>,
    size: u64,
}

impl Imports {
    /// Over `db`; periods a package creates get the receipt and due days
    /// in force when it runs.
    pub fn new(db: Db, days: crate::org_settings::LiveBilling, clock: d::OrgClock) -> Imports {
        Imports {
            db,
            days,
            clock,
            progress: Progress::default(),
        }
    }

    /// Begins receiving a package from `by`. Uploads cut off earlier, and
    /// checks or imports whose job gave up without ending them, are marked
    /// failed and their bytes dropped first.
    pub async fn upload(&self, by: By<'_>) -> Result<Upload, Error> {
        by.require(Permission::Billing)?;
        let now = OffsetDateTime::now_utc();
        let stuck = [S::Uploading, S::Checking, S::Importing];
        for id in self.db.imports().in_states(&stuck, None).await? {
            if let Some(i) = self.db.imports().get(id).await?
                && i.updated_at < now - UPLOAD_STALE_AFTER
                && self.db.imports().transition(id, &stuck, S::Failed, now).await?
            {
                tracing::warn!(import = %id, state = i.state.as_str(), "billing package never ended: marked failed");
                self.db.imports().drop_chunks(id).await?;
            }
        }
        let member = by.member();
        let id = self
            .db
            .imports()
            .create(
                member.map(|m| m.id),
                member.map_or("cli", |m| m.login.as_str()),
                now,
            )
            .await?;
        Ok(Upload {
            db: self.db.clone(),
            id,
            names: Vec::new(),
            seq: 0,
            buf: Vec::with_capacity(CHUNK_BYTES),
            size: 0,
        })
    }

    /// The newest packages, newest first.
    pub async fn history(&self, by: By<'_>) -> Result<Vec<Import>, Error> {
        by.require(Permission::Billing)?;
        let mut list = self.db.imports().list(HISTORY_SHOWN).await?;
        for i in &mut list {
            self.overlay(i);
        }
        Ok(list)
    }

    /// One package with its first problems.
    pub async fn package(&self, by: By<'_>, id: ImportId) -> Result<PackageView, Error> {
        by.require(Permission::Billing)?;
        let mut import = self.db.imports().get(id).await?.ok_or(Error::NotFound)?;
        self.overlay(&mut import);
        let problems = self.db.imports().problems(id, PROBLEMS_SHOWN as u64).await?;
        let confirmable = import.state == S::Checked && !self.busy(Some(id)).await?;
        Ok(PackageView {
            import,
            problems,
            confirmable,
        })
    }

    /// Every kept problem of a package (for the CSV download).
    pub async fn problems(&self, by: By<'_>, id: ImportId) -> Result<Vec<StoredProblem>, Error> {
        by.require(Permission::Billing)?;
        self.db.imports().get(id).await?.ok_or(Error::NotFound)?;
        Ok(self.db.imports().problems(id, PROBLEMS_KEPT as u64).await?)
    }

    /// Confirms a checked package: it is imported in the background. Refused
    /// unless it was checked without problems and no other import is queued
    /// or running. Audited.
    pub async fn confirm(&self, by: By<'_>, id: ImportId) -> Result<(), Error> {
        by.require(Permission::Billing)?;
        self.db.imports().get(id).await?.ok_or(Error::NotFound)?;
        if self.busy(Some(id)).await? {
            return Err(Error::Conflict(d::Text::new("error-import-busy")));
        }
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        if !tx
            .imports()
            .transition(id, &[S::Checked], S::Confirmed, now)
            .await?
        {
            return Err(Error::Conflict(d::Text::new("error-import-not-checked")));
        }
        crate::jobs::enqueue(&tx, &CheckPackage::import(id), now, now).await?;
        tx.audit()
            .record(
                &by.entry(d::AuditEvent::BillingImportConfirmed, format!("package {id}")),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether a package other than `except` is confirmed or being imported.
    async fn busy(&self, except: Option<ImportId>) -> Result<bool, Error> {
        Ok(!self
            .db
            .imports()
            .in_states(&[S::Confirmed, S::Importing], except)
            .await?
            .is_empty())
    }

    fn overlay(&self, i: &mut Import) {
        if i.state.in_progress()
            && let Ok(map) = self.progress.lock()
            && let Some(&(done, total)) = map.get(&i.id)
        {
            i.done = done;
            i.total = total;
        }
    }

    /// The background work on a package: its check (`import` false) or its
    /// import. Safe to run again: a package no longer waiting for this work
    /// is left alone, and a run cut off by a crash left nothing behind.
    pub(crate) async fn work(&self, id: ImportId, import: bool) -> Result<(), Error> {
        let (waiting, during) = if import {
            (S::Confirmed, S::Importing)
        } else {
            (S::Queued, S::Checking)
        };
        let now = OffsetDateTime::now_utc();
        if !self
            .db
            .imports()
            .transition(id, &[waiting, during], during, now)
            .await?
        {
            return Ok(());
        }
        let record = self.db.imports().get(id).await?.ok_or(Error::NotFound)?;
        let outcome = match self.run(&record, import).await {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(import = %id, error = %e, "billing package failed");
                Outcome {
                    state: S::Failed,
                    lines: 0,
                    written: 0,
                    problems: 0,
                    counts: Vec::new(),
                    message: e.to_string(),
                }
            }
        };
        if let Ok(mut map) = self.progress.lock() {
            map.remove(&id);
        }
        let now = OffsetDateTime::now_utc();
        self.db.imports().finish(id, &outcome, now).await?;
        if outcome.state == S::Imported {
            // Its new invoices and payments are announced now, not at the
            // producer's next minute.
            use crate::jobs::Job;
            self.db
                .jobs()
                .wake(crate::jobs::notify::ProduceNotifications::KIND, now)
                .await?;
        }
        if !outcome.state.keeps_files() {
            self.db.imports().drop_chunks(id).await?;
        }
        if outcome.state == S::Checked {
            for older in self.db.imports().in_states(&[S::Checked], Some(id)).await? {
                if older.0 < id.0
                    && self
                        .db
                        .imports()
                        .transition(older, &[S::Checked], S::Replaced, now)
                        .await?
                {
                    self.db.imports().drop_chunks(older).await?;
                }
            }
        }
        tracing::info!(
            import = %id,
            state = outcome.state.as_str(),
            lines = outcome.lines,
            written = outcome.written,
            problems = outcome.problems,
            "billing package {}",
            if import { "imported" } else { "checked" }
        );
        Ok(())
    }

    /// Unpacks the package into a temporary folder and runs it.
    async fn run(&self, record: &Import, import: bool) -> Result<Outcome, Error> {
        let dir = tempfile::Builder::new()
            .prefix("kabinet-import-")
            .tempdir()
            .map_err(|e| Error::Internal(format!("temporary folder: {e}")))?;
        let uploads = self.materialize(record, dir.path()).await?;
        let unpack_dir = dir.path().to_path_buf();
        let names: HashMap<std::path::PathBuf, String> =
            uploads.iter().map(|u| (u.path.clone(), u.name.clone())).collect();
        let (files, package_problems) = tokio::task::spawn_blocking(move || unpack(&uploads, &unpack_dir))
            .await
            .map_err(|e| Error::Internal(format!("unpack: {e}")))?
            .map_err(|e| Error::Internal(format!("unpack: {e}")))?;
        if !package_problems.is_empty() {
            let problems: Vec<StoredProblem> = package_problems.iter().map(stored).collect();
            self.db.imports().put_problems(record.id, &problems).await?;
            return Ok(Outcome {
                state: S::Rejected,
                lines: 0,
                written: 0,
                problems: problems.len() as u64,
                counts: Vec::new(),
                message: String::new(),
            });
        }
        let options = ImportOptions {
            days: self.days.current().await?,
            offset: self.clock.offset,
            actor: record.actor.clone(),
            max_problems: PROBLEMS_KEPT,
            ..ImportOptions::default()
        };
        let done = Arc::new(AtomicU64::new(0));
        let total = Arc::new(AtomicU64::new(record.size));
        let ticker = self.progress_ticker(record.id, done.clone(), total.clone());
        let mode = if import {
            PackageMode::Import
        } else {
            PackageMode::Check
        };
        let result = import_package(&self.db, &files, &options, mode, &mut |_, d, t| {
            done.store(d, Ordering::Relaxed);
            total.store(t, Ordering::Relaxed);
        })
        .await;
        ticker.abort();
        let report = result.map_err(|e| Error::Internal(format!("import: {e}")))?;
        let mut problems = Vec::new();
        let mut counts = Vec::new();
        for f in &report.files {
            let name = names
                .get(&f.file)
                .cloned()
                .unwrap_or_else(|| format!("{}.csv", f.kind.name()));
            counts.push(FileCount {
                kind: f.kind.name().to_string(),
                encoding: f.encoding.name().to_string(),
                lines: f.lines,
                written: f.written,
                problems: f.total_problems,
            });
            for p in &f.problems {
                if problems.len() >= PROBLEMS_KEPT {
                    break;
                }
                problems.push(StoredProblem {
                    file: name.clone(),
                    line: p.line,
                    column: p.column.clone(),
                    code: String::new(),
                    message: p.message.clone(),
                });
            }
        }
        self.db.imports().put_problems(record.id, &problems).await?;
        let total_problems = report.total_problems();
        let state = match (total_problems, report.committed) {
            (0, true) => S::Imported,
            (0, false) if !import => S::Checked,
            (0, false) => S::Failed,
            _ => S::Rejected,
        };
        Ok(Outcome {
            state,
            lines: report.files.iter().map(|f| f.lines).sum(),
            // A package with problems writes nothing (its files' own counts
            // still say what the clean ones would).
            written: if total_problems == 0 {
                report.files.iter().map(|f| f.written).sum()
            } else {
                0
            },
            problems: total_problems,
            counts,
            message: String::new(),
        })
    }

    /// Writes the package's uploaded files from the database into `dir`.
    async fn materialize(&self, record: &Import, dir: &Path) -> Result<Vec<Uploaded>, Error> {
        let io = |e: std::io::Error| Error::Internal(format!("package file: {e}"));
        let mut uploads = Vec::new();
        for (no, name) in record.files.iter().enumerate() {
            let file_no = i32::try_from(no).unwrap_or(i32::MAX);
            let path = dir.join(format!("upload-{no}"));
            let mut out = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io)?);
            let mut seq = 0;
            while let Some(data) = self.db.imports().chunk(record.id, file_no, seq).await? {
                out.write_all(&data).map_err(io)?;
                seq += 1;
            }
            out.flush().map_err(io)?;
            uploads.push(Uploaded {
                name: name.clone(),
                path,
            });
        }
        Ok(uploads)
    }

    /// Publishes progress every second: in this process, and in the
    /// database on PostgreSQL (where any server may show the page).
    fn progress_ticker(
        &self,
        id: ImportId,
        done: Arc<AtomicU64>,
        total: Arc<AtomicU64>,
    ) -> tokio::task::JoinHandle<()> {
        let map = self.progress.clone();
        let db = (self.db.backend() == Backend::Postgres).then(|| self.db.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tick.tick().await;
                let (d, t) = (done.load(Ordering::Relaxed), total.load(Ordering::Relaxed));
                if let Ok(mut m) = map.lock() {
                    m.insert(id, (d, t));
                }
                if let Some(db) = &db {
                    let _ = db.imports().progress(id, d, t, OffsetDateTime::now_utc()).await;
                }
            }
        })
    }
}

/// A package-level problem as stored: its message id in `code`.
fn stored(p: &PackageProblem) -> StoredProblem {
    let (code, file) = match p {
        PackageProblem::UnknownFile(f) => ("import-problem-unknown-file", f.clone()),
        PackageProblem::Repeated(f) => ("import-problem-repeated", f.clone()),
        PackageProblem::BrokenArchive(f) => ("import-problem-broken-archive", f.clone()),
        PackageProblem::TooLarge(f) => ("import-problem-too-large", f.clone()),
        PackageProblem::Empty => ("import-problem-empty", String::new()),
    };
    StoredProblem {
        file,
        line: 0,
        column: String::new(),
        code: code.into(),
        message: String::new(),
    }
}

impl Upload {
    /// The package being received.
    pub fn id(&self) -> ImportId {
        self.id
    }

    /// Begins the next file, named `name` as uploaded.
    pub async fn file(&mut self, name: &str) -> Result<(), Error> {
        self.flush().await?;
        if self.names.len() >= MAX_PACKAGE_FILES {
            return Err(Error::Invalid(FieldErrors::single(
                FILES_FIELD,
                d::Text::new("error-import-too-many-files").with("max", MAX_PACKAGE_FILES as i64),
            )));
        }
        let name: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
        self.names.push(name);
        self.seq = 0;
        Ok(())
    }

    /// Adds bytes to the current file.
    pub async fn write(&mut self, mut data: &[u8]) -> Result<(), Error> {
        if self.names.is_empty() {
            return Err(Error::Internal("package bytes before a file".into()));
        }
        self.size += data.len() as u64;
        if self.size > MAX_PACKAGE_BYTES {
            return Err(Error::Invalid(FieldErrors::single(
                FILES_FIELD,
                d::Text::new("error-import-too-big").with("max", (MAX_PACKAGE_BYTES / 1024 / 1024) as i64),
            )));
        }
        while !data.is_empty() {
            let room = CHUNK_BYTES - self.buf.len();
            let (now, rest) = data.split_at(room.min(data.len()));
            self.buf.extend_from_slice(now);
            data = rest;
            if self.buf.len() >= CHUNK_BYTES {
                self.flush().await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), Error> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let file_no = i32::try_from(self.names.len().saturating_sub(1)).unwrap_or(i32::MAX);
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES));
        self.db
            .imports()
            .add_chunk(self.id, file_no, self.seq, data)
            .await?;
        self.seq += 1;
        Ok(())
    }

    /// Ends the upload: the package is queued for its check. Refused (and
    /// the upload dropped) when no file had any bytes. Audited.
    pub async fn finish(mut self, by: By<'_>) -> Result<ImportId, Error> {
        self.flush().await?;
        if self.size == 0 {
            self.abandon().await;
            return Err(Error::Invalid(FieldErrors::single(
                FILES_FIELD,
                d::Text::new("error-import-no-files"),
            )));
        }
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.imports().set_files(self.id, &self.names, self.size).await?;
        tx.imports()
            .transition(self.id, &[S::Uploading], S::Queued, now)
            .await?;
        crate::jobs::enqueue(&tx, &CheckPackage::check(self.id), now, now).await?;
        tx.audit()
            .record(
                &by.entry(
                    d::AuditEvent::BillingUploaded,
                    format!(
                        "package {}: {} ({} bytes)",
                        self.id,
                        self.names.join(", "),
                        self.size
                    ),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        for older in self.db.imports().in_states(&[S::Checked], Some(self.id)).await? {
            if self
                .db
                .imports()
                .transition(older, &[S::Checked], S::Replaced, now)
                .await?
            {
                self.db.imports().drop_chunks(older).await?;
            }
        }
        Ok(self.id)
    }

    /// Gives the upload up: it is marked failed and its bytes dropped.
    pub async fn abandon(self) {
        let now = OffsetDateTime::now_utc();
        let _ = self
            .db
            .imports()
            .transition(self.id, &[S::Uploading], S::Failed, now)
            .await;
        let _ = self.db.imports().drop_chunks(self.id).await;
    }
}
