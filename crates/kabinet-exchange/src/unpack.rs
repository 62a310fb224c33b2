//! Turning uploaded files into a package: a zip archive is unpacked, a CSV
//! file is taken as it is, and each file is known by its name
//! (`accounts.csv`, …, in any letter case and any folder of the archive).
//! What cannot be part of a package is a problem of the package as a whole:
//! a file of another name, a kind given twice, an archive that cannot be
//! read or unpacks to more than [`MAX_UNPACKED_BYTES`].

use crate::import::PackageFile;
use crate::{ExchangeError, ImportKind};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The most a package may unpack to, in bytes (its CSV files together).
pub const MAX_UNPACKED_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// The most entries an archive may have.
pub const MAX_ENTRIES: usize = 100;

/// Why an uploaded file cannot be part of the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageProblem {
    /// Its name is not one of an exchange file.
    UnknownFile(String),
    /// A second file of the same kind.
    Repeated(String),
    /// An archive that cannot be read.
    BrokenArchive(String),
    /// An archive with too many files, or unpacking past the limit.
    TooLarge(String),
    /// No exchange file at all.
    Empty,
}

/// One uploaded file: its name as the user gave it, and where its bytes are.
#[derive(Debug, Clone)]
pub struct Uploaded {
    /// The name given.
    pub name: String,
    /// Its bytes.
    pub path: PathBuf,
}

/// The package the uploads make, in `dir`, with the problems that keep
/// files out of it.
pub fn unpack(
    uploads: &[Uploaded],
    dir: &Path,
) -> Result<(Vec<PackageFile>, Vec<PackageProblem>), ExchangeError> {
    let mut files: Vec<PackageFile> = Vec::new();
    let mut problems = Vec::new();
    let mut unpacked = 0u64;
    for upload in uploads {
        let lower = base_name(&upload.name).to_lowercase();
        if lower.ends_with(".zip") {
            if let Err(p) = unpack_zip(upload, dir, &mut files, &mut problems, &mut unpacked) {
                problems.push(p);
            }
            continue;
        }
        match kind_of(&upload.name) {
            Some(kind) if files.iter().any(|f| f.kind == kind) => {
                problems.push(PackageProblem::Repeated(upload.name.clone()));
            }
            Some(kind) => files.push(PackageFile {
                kind,
                path: upload.path.clone(),
            }),
            None => problems.push(PackageProblem::UnknownFile(upload.name.clone())),
        }
    }
    if files.is_empty() && problems.is_empty() {
        problems.push(PackageProblem::Empty);
    }
    files.sort_by_key(|f| ImportKind::ALL.iter().position(|k| *k == f.kind));
    Ok((files, problems))
}

fn unpack_zip(
    upload: &Uploaded,
    dir: &Path,
    files: &mut Vec<PackageFile>,
    problems: &mut Vec<PackageProblem>,
    unpacked: &mut u64,
) -> Result<(), PackageProblem> {
    let broken = |_| PackageProblem::BrokenArchive(upload.name.clone());
    let file = File::open(&upload.path).map_err(|_| PackageProblem::BrokenArchive(upload.name.clone()))?;
    let mut archive = zip::ZipArchive::new(file).map_err(broken)?;
    if archive.len() > MAX_ENTRIES {
        return Err(PackageProblem::TooLarge(upload.name.clone()));
    }
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(broken)?;
        let name = entry.name().map_err(broken)?.to_string();
        if entry.is_dir() || name.starts_with("__MACOSX/") || base_name(&name).starts_with('.') {
            continue;
        }
        let Some(kind) = kind_of(&name) else {
            problems.push(PackageProblem::UnknownFile(format!("{}: {name}", upload.name)));
            continue;
        };
        if files.iter().any(|f| f.kind == kind) {
            problems.push(PackageProblem::Repeated(format!("{}: {name}", upload.name)));
            continue;
        }
        let path = dir.join(format!("{}.csv", kind.name()));
        let room = MAX_UNPACKED_BYTES.saturating_sub(*unpacked);
        let written = copy_limited(&mut entry, &path, room)
            .map_err(|_| PackageProblem::BrokenArchive(upload.name.clone()))?;
        match written {
            Some(n) => *unpacked += n,
            None => return Err(PackageProblem::TooLarge(upload.name.clone())),
        }
        files.push(PackageFile { kind, path });
    }
    Ok(())
}

/// Copies at most `room` bytes of `from` into a new file; `None` when there
/// was more (the archive's own size fields are not trusted).
fn copy_limited(from: &mut impl Read, path: &Path, room: u64) -> std::io::Result<Option<u64>> {
    let mut out = File::create(path)?;
    let n = std::io::copy(&mut from.take(room.saturating_add(1)), &mut out)?;
    out.flush()?;
    Ok((n <= room).then_some(n))
}

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// The kind of exchange file a name stands for: `accounts.csv` in any case,
/// in any folder.
pub fn kind_of(name: &str) -> Option<ImportKind> {
    let lower = base_name(name).to_lowercase();
    let stem = lower.strip_suffix(".csv")?;
    ImportKind::from_name(stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_make_kinds() {
        assert_eq!(kind_of("Accounts.CSV"), Some(ImportKind::Accounts));
        assert_eq!(kind_of("2026-11/meters.csv"), Some(ImportKind::Meters));
        assert_eq!(kind_of("C:\\exchange\\payments.csv"), Some(ImportKind::Payments));
        assert_eq!(kind_of("accounts (1).csv"), None);
        assert_eq!(kind_of("accounts.txt"), None);
    }

    #[test]
    fn an_archive_and_loose_files_make_one_package() {
        let dir = std::env::temp_dir().join(format!("kabinet-unpack-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let zip_path = dir.join("upload-0");
        {
            let file = File::create(&zip_path).expect("zip");
            let mut zip = zip::ZipWriter::new(file);
            let opts = zip::write::SimpleFileOptions::default();
            for (name, body) in [("pkg/Accounts.csv", "a"), ("pkg/notes.txt", "n"), ("pkg/", "")] {
                if name.ends_with('/') {
                    zip.add_directory(name, opts).expect("dir");
                } else {
                    zip.start_file(name, opts).expect("entry");
                    zip.write_all(body.as_bytes()).expect("write");
                }
            }
            zip.finish().expect("finish");
        }
        let loose = dir.join("upload-1");
        std::fs::write(&loose, "p").expect("csv");
        let again = dir.join("upload-2");
        std::fs::write(&again, "a").expect("csv");
        let broken = dir.join("upload-3");
        std::fs::write(&broken, "not a zip").expect("zip");
        let uploads = [
            Uploaded {
                name: "package.zip".into(),
                path: zip_path,
            },
            Uploaded {
                name: "payees.csv".into(),
                path: loose,
            },
            Uploaded {
                name: "accounts.csv".into(),
                path: again,
            },
            Uploaded {
                name: "old.zip".into(),
                path: broken,
            },
        ];
        let (files, problems) = unpack(&uploads, &dir).expect("unpack");
        let kinds: Vec<_> = files.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [ImportKind::Payees, ImportKind::Accounts]);
        assert_eq!(std::fs::read_to_string(&files[1].path).ok().as_deref(), Some("a"));
        assert_eq!(
            problems,
            [
                PackageProblem::UnknownFile("package.zip: pkg/notes.txt".into()),
                PackageProblem::Repeated("accounts.csv".into()),
                PackageProblem::BrokenArchive("old.zip".into()),
            ]
        );
        let (_, none) = unpack(&[], &dir).expect("unpack");
        assert_eq!(none, [PackageProblem::Empty]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
