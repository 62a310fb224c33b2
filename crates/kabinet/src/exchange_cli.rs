//! `kabinet import`, `kabinet export` and `kabinet demo --export-dir`: the
//! command-line face of the billing data exchange.

use crate::config::Config;
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use kabinet_db::Db;
use kabinet_db::exchange::ImportKind;
use kabinet_db::export::ExportFilter;
use kabinet_exchange::export::{ExportKind, export};
use kabinet_exchange::import::{ImportOptions, ImportReport, import_dir, import_file};
use kabinet_exchange::source::{ReadOptions, TextEncoding};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Reports progress as a bar on a terminal and as a line every 10 % otherwise.
pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    shown: u64,
}

impl Progress {
    /// A progress reporter for `label`.
    pub fn new(label: &str) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{msg:12} [{bar:40}] {percent:>3}% {elapsed_precise} ETA {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message(label.to_string());
            bar
        });
        Progress {
            bar,
            label: label.to_string(),
            shown: 0,
        }
    }

    /// Moves to `done` of `total`.
    pub fn set(&mut self, done: u64, total: u64) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(total);
                bar.set_position(done);
            }
            None => {
                let pct = done.saturating_mul(100).checked_div(total).unwrap_or(100);
                if pct >= self.shown + 10 || (done == total && self.shown < 100) {
                    eprintln!("{}: {pct}%", self.label);
                    self.shown = pct;
                }
            }
        }
    }

    /// Removes the bar.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

fn read_options(encoding: Option<&str>, delimiter: Option<&str>) -> anyhow::Result<ReadOptions> {
    let encoding = match encoding {
        Some(e) => Some(
            TextEncoding::parse(e)
                .with_context(|| format!("unknown encoding {e:?}: use utf-8 or windows-1251"))?,
        ),
        None => None,
    };
    let delimiter = match delimiter {
        None => None,
        Some("tab" | "\\t") => Some(b'\t'),
        Some(d) if d.len() == 1 => Some(d.as_bytes()[0]),
        Some(d) => bail!("the separator must be one character (or `tab`), not {d:?}"),
    };
    Ok(ReadOptions { encoding, delimiter })
}

fn print_report(r: &ImportReport) {
    let name = r.file.display();
    eprintln!(
        "{name}: {} ({}, separator {:?}), {} lines in {:.1} s",
        r.kind.name(),
        r.encoding.name(),
        char::from(r.delimiter),
        r.lines,
        r.elapsed.as_secs_f64()
    );
    if !r.ignored_columns.is_empty() {
        eprintln!("  ignored columns: {}", r.ignored_columns.join(", "));
    }
    if r.committed {
        let rate = r.lines as f64 / r.elapsed.as_secs_f64().max(1e-9);
        eprintln!("  loaded: {} rows written ({rate:.0} lines/s)", r.written);
    } else if r.total_problems == 0 {
        eprintln!("  not loaded: no problems here, but other files of the package have some");
    } else {
        eprintln!(
            "  NOT LOADED: {} problem(s); nothing was changed",
            r.total_problems
        );
        for p in &r.problems {
            if p.column.is_empty() {
                eprintln!("  строка {}: {}", p.line, p.message);
            } else {
                eprintln!("  строка {}, столбец «{}»: {}", p.line, p.column, p.message);
            }
        }
        if r.total_problems > r.problems.len() as u64 {
            eprintln!("  … and {} more", r.total_problems - r.problems.len() as u64);
        }
    }
}

/// `kabinet import`: one file or a package folder. Fails when a file is not loaded.
pub async fn import(
    db: &Db,
    config: &Config,
    kind: Option<&str>,
    file: Option<&Path>,
    dir: Option<&Path>,
    encoding: Option<&str>,
    delimiter: Option<&str>,
) -> anyhow::Result<()> {
    // The days the office set, unless the configuration fixes them.
    let days = kabinet_app::org_settings::LiveBilling::new(
        db.clone(),
        config.billing_days(),
        config.billing_days_fixed(),
    )
    .current()
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let options = ImportOptions {
        read: read_options(encoding, delimiter)?,
        days,
        ..ImportOptions::default()
    };
    let reports = match (kind, file, dir) {
        (None, None, Some(dir)) => {
            let mut bar: Option<(ImportKind, Progress)> = None;
            let reports = import_dir(db, dir, &options, &mut |kind, done, total| {
                if bar.as_ref().map(|b| b.0) != Some(kind) {
                    if let Some((_, old)) = bar.take() {
                        old.finish();
                    }
                    bar = Some((kind, Progress::new(kind.name())));
                }
                if let Some((_, b)) = bar.as_mut() {
                    b.set(done, total);
                }
            })
            .await?;
            if let Some((_, b)) = bar {
                b.finish();
            }
            if reports.is_empty() {
                bail!(
                    "{} has no exchange files (payees.csv, services.csv, accounts.csv, …)",
                    dir.display()
                );
            }
            reports
        }
        (Some(kind), Some(file), None) => {
            let kind = ImportKind::from_name(kind).with_context(|| {
                let names: Vec<_> = ImportKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown kind {kind:?}: one of {}", names.join(", "))
            })?;
            let mut bar = Progress::new(kind.name());
            let report = import_file(db, kind, file, &options, &mut |d, t| bar.set(d, t)).await?;
            bar.finish();
            vec![report]
        }
        _ => bail!("give either KIND FILE or --dir FOLDER"),
    };
    for r in &reports {
        print_report(r);
    }
    if reports.iter().any(|r| !r.committed) {
        bail!("import stopped: fix the lines above and run it again");
    }
    Ok(())
}

/// `kabinet export`.
pub async fn export_cmd(
    db: &Db,
    kind: &str,
    out: Option<PathBuf>,
    encoding: Option<&str>,
    all: bool,
    since: Option<&str>,
) -> anyhow::Result<()> {
    let Some(kind) = ExportKind::parse(kind) else {
        bail!("unknown export {kind:?}: readings, payments or paperless");
    };
    let encoding = match encoding {
        Some(e) => TextEncoding::parse(e).with_context(|| format!("unknown encoding {e:?}"))?,
        None => TextEncoding::Utf8,
    };
    let since = match since {
        Some(s) => {
            let day = kabinet_exchange::import::parse_date(s).map_err(anyhow::Error::msg)?;
            Some(day.midnight().assume_utc())
        }
        None => None,
    };
    let out = out.unwrap_or_else(|| {
        let stamp = time::OffsetDateTime::now_utc();
        PathBuf::from(format!(
            "{}-{:04}{:02}{:02}-{:02}{:02}{:02}.csv",
            kind.name(),
            stamp.year(),
            u8::from(stamp.month()),
            stamp.day(),
            stamp.hour(),
            stamp.minute(),
            stamp.second()
        ))
    });
    let n = export(db, kind, &out, encoding, ExportFilter { all, since }, "cli").await?;
    eprintln!("{}: {n} rows exported ({})", out.display(), encoding.name());
    Ok(())
}
