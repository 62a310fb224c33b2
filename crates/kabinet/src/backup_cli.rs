//! `kabinet backup` and `kabinet restore`: a whole SQLite installation in
//! one file, taken while the server runs and writes.
//!
//! The file is a zip archive:
//! - `backup.json`: what it is (format, Kabinet's version, when);
//! - `kabinet.db`: the database as of one moment (`VACUUM INTO` reads a
//!   single snapshot, so every transaction committed before the backup
//!   began is in it and none is half in it). Photos of requests kept in the
//!   database (`photo_storage = "database"`, the default) are in it too; an
//!   S3 bucket is backed up with the bucket's own tools;
//! - `secret.key`: the server key when it lives in the data folder (without
//!   it passport checks, sealed second factors and unsubscribe links stop
//!   working) — so the file is as secret as the key;
//! - `help/…`: the organization's help pages when they are in the data folder.
//!
//! PostgreSQL is backed up with `pg_dump` or `pg_basebackup` (see the
//! installation guide); both commands say so instead.

use crate::config::Config;
use anyhow::{Context, bail};
use kabinet_db::{Db, DbOptions};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The archive's layout version.
const FORMAT: u64 = 1;
const MANIFEST: &str = "backup.json";
const DATABASE: &str = "kabinet.db";
const KEY: &str = "secret.key";
const HELP: &str = "help";

/// The SQLite file of `config`, or why there is none.
fn sqlite_path(config: &Config) -> anyhow::Result<PathBuf> {
    let url = config.database_url();
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        bail!(
            "the database is PostgreSQL: back it up with pg_dump (or pg_basebackup) and restore it with \
             pg_restore, see docs/install.md; keep the server key (secret_key) with it"
        );
    };
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path == ":memory:" {
        bail!("the database has no file to back up");
    }
    Ok(PathBuf::from(path))
}

/// The key file in the data folder, when the key is not in the configuration.
fn key_file(config: &Config) -> Option<PathBuf> {
    match &config.secret_key {
        Some(k) if !k.trim().is_empty() => None,
        _ => Some(config.data_dir.join(KEY)),
    }
}

/// `kabinet backup --out FILE`.
pub async fn backup(config: &Config, out: &Path) -> anyhow::Result<()> {
    let source = sqlite_path(config)?;
    if !source.exists() {
        bail!("there is no database at {}", source.display());
    }
    if out.exists() {
        bail!("{} exists already; name a new file", out.display());
    }
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let snapshot = dir.join(format!(".kabinet-backup-{}.db", std::process::id()));
    let partial = dir.join(format!(".kabinet-backup-{}.zip", std::process::id()));
    let result = write_backup(config, &source, &snapshot, &partial, out).await;
    let _ = std::fs::remove_file(&snapshot);
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

async fn write_backup(
    config: &Config,
    source: &Path,
    snapshot: &Path,
    partial: &Path,
    out: &Path,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let db = Db::connect(&DbOptions {
        url: config.database_url(),
        max_connections: Some(1),
        acquire_timeout: None,
    })
    .await
    .context("opening the database")?;
    let copied = db.backup_into(snapshot).await;
    db.close().await?;
    copied.with_context(|| format!("copying {} (VACUUM INTO)", source.display()))?;
    let at = time::OffsetDateTime::now_utc();
    let mut zip = zip::ZipWriter::new(BufWriter::new(
        File::create(partial).with_context(|| format!("creating {}", partial.display()))?,
    ));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let manifest = serde_json::json!({
        "format": FORMAT,
        "kabinet": env!("CARGO_PKG_VERSION"),
        "created_at": at.format(&time::format_description::well_known::Rfc3339)?,
        "database": "sqlite",
    });
    zip.start_file(MANIFEST, deflated)?;
    zip.write_all(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    zip.start_file(DATABASE, deflated)?;
    std::io::copy(&mut BufReader::new(File::open(snapshot)?), &mut zip)?;
    let mut with_key = false;
    if let Some(key) = key_file(config).filter(|k| k.exists()) {
        zip.start_file(KEY, deflated.unix_permissions(0o600))?;
        zip.write_all(&std::fs::read(&key).with_context(|| format!("reading {}", key.display()))?)?;
        with_key = true;
    }
    let help = config.help_dir();
    let mut help_files = 0;
    if help.starts_with(&config.data_dir) && help.is_dir() {
        for entry in std::fs::read_dir(&help)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                zip.start_file(format!("{HELP}/{name}"), deflated)?;
                std::io::copy(&mut File::open(entry.path())?, &mut zip)?;
                help_files += 1;
            }
        }
    }
    let file = zip.finish()?.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(partial, out).with_context(|| format!("writing {}", out.display()))?;
    let size = std::fs::metadata(out)?.len();
    eprintln!(
        "Backed up {} into {} ({:.1} MB, {:.1} s){}{}",
        source.display(),
        out.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        if with_key {
            ", with the server key: keep the file as secret as the key"
        } else {
            ""
        },
        if help_files > 0 {
            format!(", {help_files} help page(s)")
        } else {
            String::new()
        },
    );
    Ok(())
}

/// `kabinet restore FILE`: into a data folder without a database (and
/// without a key, when the backup has one).
pub async fn restore(config: &Config, from: &Path) -> anyhow::Result<()> {
    let target = sqlite_path(config)?;
    for taken in [target.clone(), PathBuf::from(format!("{}-wal", target.display()))] {
        if taken.exists() {
            bail!(
                "{} exists: restore into an empty data folder (move the old one away first)",
                taken.display()
            );
        }
    }
    let mut zip = zip::ZipArchive::new(BufReader::new(
        File::open(from).with_context(|| format!("opening {}", from.display()))?,
    ))
    .with_context(|| format!("{} is not a Kabinet backup", from.display()))?;
    let manifest: serde_json::Value = {
        let mut text = String::new();
        zip.by_name(MANIFEST)
            .with_context(|| format!("{} is not a Kabinet backup (no {MANIFEST})", from.display()))?
            .read_to_string(&mut text)?;
        serde_json::from_str(&text).with_context(|| format!("reading {MANIFEST}"))?
    };
    if manifest["format"].as_u64() != Some(FORMAT) {
        bail!(
            "this backup's format ({}) is not one this version reads",
            manifest["format"]
        );
    }
    let key = key_file(config);
    if zip.index_for_name(KEY).is_some()
        && let Some(key) = &key
        && key.exists()
        && std::fs::read(key)? != read_entry(&mut zip, KEY)?
    {
        bail!(
            "{} holds another server key than the backup's: restore into an empty data folder",
            key.display()
        );
    }
    if let Some(dir) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let partial = PathBuf::from(format!("{}.restoring", target.display()));
    {
        let mut entry = zip
            .by_name(DATABASE)
            .with_context(|| format!("the backup has no {DATABASE}"))?;
        let mut file = BufWriter::new(File::create(&partial)?);
        std::io::copy(&mut entry, &mut file)?;
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    // The copy is checked before it takes the database's place.
    let checked = check(&partial).await;
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &target)?;
    let mut restored_key = false;
    if let Some(key) = key.filter(|k| !k.exists())
        && zip.index_for_name(KEY).is_some()
    {
        std::fs::create_dir_all(&config.data_dir)?;
        let bytes = read_entry(&mut zip, KEY)?;
        write_private(&key, &bytes)?;
        restored_key = true;
    }
    let help = config.help_dir();
    let mut help_files = 0;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        let Some(name) = entry.enclosed_name() else {
            continue;
        };
        let Ok(rest) = name.strip_prefix(HELP) else {
            continue;
        };
        let Some(file_name) = rest.file_name().filter(|_| rest.components().count() == 1) else {
            continue;
        };
        std::fs::create_dir_all(&help)?;
        let path = help.join(file_name);
        if !path.exists() {
            std::io::copy(&mut entry, &mut File::create(&path)?)?;
            help_files += 1;
        }
    }
    eprintln!(
        "Restored {} from {} (made {} by Kabinet {}){}{}",
        target.display(),
        from.display(),
        manifest["created_at"].as_str().unwrap_or("?"),
        manifest["kabinet"].as_str().unwrap_or("?"),
        if restored_key { ", with its server key" } else { "" },
        if help_files > 0 {
            format!(", {help_files} help page(s)")
        } else {
            String::new()
        },
    );
    Ok(())
}

/// Opens a restored database file and has SQLite check it.
async fn check(path: &Path) -> anyhow::Result<()> {
    let db = Db::connect(&DbOptions {
        url: format!("sqlite://{}", path.display()),
        max_connections: Some(1),
        acquire_timeout: None,
    })
    .await
    .context("opening the restored database")?;
    let ok = db.integrity_ok().await;
    db.close().await?;
    if !ok.context("checking the restored database")? {
        bail!("the backup's database fails SQLite's integrity check; it was not restored");
    }
    Ok(())
}

fn read_entry<R: Read + std::io::Seek>(zip: &mut zip::ZipArchive<R>, name: &str) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    zip.by_name(name)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}
