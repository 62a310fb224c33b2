//! `kabinet receipts`: renders every account's receipt for a period into a
//! folder, in parallel on all cores (one render worker process per core, see
//! [`crate::render_workers`]), resumable, optionally zipped.

use crate::exchange_cli::Progress;
use crate::render_workers::{Pool, Rendered};
use anyhow::{Context, bail};
use futures::StreamExt;
use kabinet_db::Db;
use kabinet_db::Repos;
use kabinet_domain::qr::QrCharset;
use kabinet_domain::{AccountId, AccountNumber, Period};
use kabinet_receipt::{ReceiptInput, ReceiptView, file_name};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A finished PDF ends with `%%EOF`; a file cut short by a crash does not.
fn complete(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let tail = || -> std::io::Result<Vec<u8>> {
        let mut file = std::fs::File::open(path)?;
        if file.metadata()?.len() <= 1000 {
            return Ok(Vec::new());
        }
        file.seek(SeekFrom::End(-32))?;
        let mut buf = Vec::with_capacity(32);
        file.read_to_end(&mut buf)?;
        Ok(buf)
    };
    tail().is_ok_and(|t| t.windows(5).any(|w| w == b"%%EOF"))
}

/// What `kabinet receipts` was asked to do.
pub struct Run<'a> {
    /// The period.
    pub period: Period,
    /// A file of account numbers, one per line (default: every invoiced account).
    pub accounts_file: Option<&'a Path>,
    /// The output folder.
    pub out: &'a Path,
    /// Also write `receipts-<period>.zip`.
    pub zip: bool,
    /// Render processes (default: one per core).
    pub jobs: Option<usize>,
    /// The character set of the payment QR codes.
    pub charset: QrCharset,
}

/// Renders the receipts with render workers started by `worker`; returns
/// (rendered, skipped, failed).
pub async fn run(
    db: &Db,
    worker: impl Fn() -> std::process::Command + Send + Sync + 'static,
    run: Run<'_>,
) -> anyhow::Result<(u64, u64, u64)> {
    let Run {
        period,
        accounts_file,
        out,
        zip,
        jobs,
        charset,
    } = run;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let ids: Vec<AccountId> = match accounts_file {
        Some(file) => {
            let text =
                std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
            let mut ids = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let number = AccountNumber::parse(line)
                    .map_err(|e| anyhow::anyhow!("{}:{}: {e}", file.display(), i + 1))?;
                match db.accounts().by_number(&number).await? {
                    Some(a) => ids.push(a.id),
                    None => bail!("{}:{}: account {number} not found", file.display(), i + 1),
                }
            }
            ids
        }
        None => db.billing().invoiced_accounts(period).await?,
    };
    let total = ids.len() as u64;
    let started = Instant::now();
    let workers = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let pool = Pool::start(workers, worker).await?;
    let mut progress = Progress::new("receipts");
    // Two stages: the records of the next batches of accounts are read while
    // the current ones render, exactly one render per worker at a time.
    let batches: Vec<Vec<AccountId>> = ids.chunks(BATCH).map(<[AccountId]>::to_vec).collect();
    let loads = futures::stream::iter(batches)
        .map(|batch| async move {
            let loaded = match kabinet_receipt::load::load_batch(db, &batch, period).await {
                Ok(inputs) => inputs
                    .into_iter()
                    .map(|(_, input)| prepare(input, period, out, charset))
                    .collect(),
                Err(e) => {
                    tracing::error!(error = %e, accounts = batch.len(), "reading receipts failed");
                    batch.iter().map(|_| Ok(Loaded::Missing)).collect()
                }
            };
            futures::stream::iter::<Vec<anyhow::Result<Loaded>>>(loaded)
        })
        .buffered(2)
        .flatten();
    let pool_ref = &pool;
    let jobs = loads.map(|loaded| async move {
        let (view, path) = match loaded? {
            Loaded::Ready(view, path) => (view, path),
            Loaded::Skipped => return Ok::<_, anyhow::Error>(Outcome::Skipped),
            Loaded::Missing => return Ok(Outcome::Missing),
        };
        Ok(match pool_ref.render(path, *view).await {
            Err(e) => Outcome::Stop(e),
            Ok(rendered) => match rendered {
                Rendered::Written(None) => Outcome::Rendered,
                Rendered::Written(Some(e)) => {
                    tracing::warn!(error = %e, "custom receipt template failed; built-in template used");
                    Outcome::Rendered
                }
                Rendered::Failed(e) => {
                    tracing::error!(error = %e, "receipt failed");
                    Outcome::Missing
                }
            },
        })
    });
    let mut jobs = Box::pin(jobs.buffer_unordered(workers));
    let (mut rendered, mut skipped, mut failed, mut done) = (0u64, 0u64, 0u64, 0u64);
    let mut stop = None;
    while let Some(result) = jobs.next().await {
        done += 1;
        match result {
            Ok(Outcome::Rendered) => rendered += 1,
            Ok(Outcome::Skipped) => skipped += 1,
            Ok(Outcome::Missing) => failed += 1,
            Ok(Outcome::Stop(e)) => {
                stop = Some(e);
                break;
            }
            Err(e) => {
                failed += 1;
                tracing::error!(error = %e, "receipt failed");
            }
        }
        progress.set(done, total);
    }
    progress.finish();
    drop(jobs);
    pool.finish().await;
    if let Some(e) = stop {
        return Err(e.context(format!("{rendered} receipt(s) were rendered before the stop")));
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "Receipts for {period}: {rendered} rendered, {skipped} already there, {failed} failed, in {secs:.1} s ({:.0} receipts/s).",
        rendered as f64 / secs.max(1e-9)
    );
    if zip {
        let archive = write_zip(out, period)?;
        eprintln!("Archive: {}", archive.display());
    }
    Ok((rendered, skipped, failed))
}

/// Accounts whose records are read together.
const BATCH: usize = 64;

/// Whether an account's receipt is still to render, and its data if so.
fn prepare(
    input: Option<ReceiptInput>,
    period: Period,
    out: &Path,
    charset: QrCharset,
) -> anyhow::Result<Loaded> {
    let Some(input) = input else {
        return Ok(Loaded::Missing);
    };
    let path = out.join(file_name(period, &input.account.number));
    if complete(&path) {
        return Ok(Loaded::Skipped);
    }
    Ok(Loaded::Ready(
        Box::new(ReceiptView::build(&input, charset)?),
        path,
    ))
}

/// A receipt's data, read ahead of its render.
enum Loaded {
    Ready(Box<ReceiptView>, PathBuf),
    Skipped,
    Missing,
}

enum Outcome {
    Rendered,
    Skipped,
    /// Not rendered: no invoice, or the render failed (logged).
    Missing,
    /// No render worker is left; the run ends.
    Stop(anyhow::Error),
}

/// Packs the period's receipts in `dir` into `receipts-<period>.zip` (stored:
/// PDFs are already compressed).
fn write_zip(dir: &Path, period: Period) -> anyhow::Result<PathBuf> {
    let path = dir.join(format!("receipts-{period}.zip"));
    let partial = path.with_extension("zip.partial");
    let file = std::fs::File::create(&partial)?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    let prefix = format!("receipt-{period}-");
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix) && n.ends_with(".pdf"))
        .collect();
    names.sort();
    for name in names {
        zip.start_file(name.as_str(), options)?;
        zip.write_all(&std::fs::read(dir.join(&name))?)?;
    }
    zip.finish()?.flush()?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}
