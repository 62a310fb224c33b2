//! `kabinet receipts`: renders every account's receipt for a period into a
//! folder, in parallel on all cores, resumable, optionally zipped.

use crate::exchange_cli::Progress;
use anyhow::{Context, bail};
use futures::StreamExt;
use kabinet_db::Db;
use kabinet_domain::{AccountId, AccountNumber, Period};
use kabinet_receipt::{ReceiptView, Renderer, file_name};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
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

/// Renders the receipts; returns (rendered, skipped, failed).
pub async fn run(
    db: &Db,
    renderer: Arc<Renderer>,
    period: Period,
    accounts_file: Option<&Path>,
    out: &Path,
    zip: bool,
) -> anyhow::Result<(u64, u64, u64)> {
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
                match db.find_account(&number).await? {
                    Some(a) => ids.push(a.id),
                    None => bail!("{}:{}: account {number} not found", file.display(), i + 1),
                }
            }
            ids
        }
        None => db.invoiced_accounts(period).await?,
    };
    let total = ids.len() as u64;
    let started = Instant::now();
    let mut progress = Progress::new("receipts");
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    // Two stages: database reads run a few receipts ahead, and exactly one
    // render per core runs at a time (more would only contend for the cores).
    let loads = futures::stream::iter(ids).map(|id| async move {
        let Some(account) = db.account(id).await? else {
            return Ok::<_, anyhow::Error>(Loaded::Missing);
        };
        let path = out.join(file_name(period, &account.number));
        if complete(&path) {
            return Ok(Loaded::Skipped);
        }
        Ok(match kabinet_receipt::load::load(db, id, period).await? {
            Some(input) => Loaded::Ready(Box::new(input), path),
            None => Loaded::Missing,
        })
    });
    let jobs = loads.buffered(workers * 2).map(|loaded| {
        let renderer = renderer.clone();
        async move {
            let (input, path) = match loaded? {
                Loaded::Ready(input, path) => (input, path),
                Loaded::Skipped => return Ok(Outcome::Skipped),
                Loaded::Missing => return Ok(Outcome::Missing),
            };
            tokio::task::spawn_blocking(move || -> anyhow::Result<Outcome> {
                let view = ReceiptView::build(&input)?;
                let (pdf, fallback) = renderer.render(&view)?;
                if let Some(e) = fallback {
                    tracing::warn!(error = %e, "custom receipt template failed; built-in template used");
                }
                let partial = path.with_extension("pdf.partial");
                std::fs::write(&partial, &pdf)?;
                std::fs::rename(&partial, &path)?;
                Ok(Outcome::Rendered)
            })
            .await?
        }
    });
    let mut jobs = std::pin::pin!(jobs.buffer_unordered(workers));
    let (mut rendered, mut skipped, mut failed, mut done) = (0u64, 0u64, 0u64, 0u64);
    while let Some(result) = jobs.next().await {
        done += 1;
        match result {
            Ok(Outcome::Rendered) => rendered += 1,
            Ok(Outcome::Skipped) => skipped += 1,
            Ok(Outcome::Missing) => failed += 1,
            Err(e) => {
                failed += 1;
                tracing::error!(error = %e, "receipt failed");
            }
        }
        progress.set(done, total);
    }
    progress.finish();
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

/// A receipt's data, read ahead of its render.
enum Loaded {
    Ready(Box<kabinet_receipt::ReceiptInput>, PathBuf),
    Skipped,
    Missing,
}

enum Outcome {
    Rendered,
    Skipped,
    Missing,
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
