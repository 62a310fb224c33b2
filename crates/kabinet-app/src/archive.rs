//! The "my data" archive (R16): `data.json` — everything
//! [`crate::profile::Profiles::my_data`] holds — and the photos of the
//! resident's requests as files, `photos/{number}/{photo id}.jpg`, the ids
//! `data.json` lists under each request.
//!
//! The archive is written while it is sent: one photo is read from the
//! store at a time and handed on in chunks through a bounded channel, so a
//! resident with hundreds of photos costs the server one photo's memory,
//! not the archive's. The data is read (and the download audited) before
//! the first byte goes, so a failure there is an ordinary error page; a
//! photo that cannot be read later cuts the download off, and the browser
//! reports it failed rather than saving a short archive.

use crate::Error;
use crate::auth::{Client, Resident};
use crate::profile::Profiles;
use crate::requests::{Requests, Viewer};
use std::io::Write;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Chunks waiting to be sent at most: with a photo of about 1 MB each,
/// the memory one download may hold.
const CHUNKS_AHEAD: usize = 2;

/// What the zip writer writes, kept until it is handed on.
#[derive(Clone, Default)]
struct Pending(Arc<Mutex<Vec<u8>>>);

impl Pending {
    /// Everything written since the last call.
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    }
}

impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("archive buffer poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn zip_error(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("my data archive: {e}"))
}

/// Starts the archive of everything Kabinet holds about `r`: the data is
/// read and the download audited now; the chunks of the zip arrive on the
/// returned channel as they are written (an `Err` ends it early).
pub async fn my_data(
    profiles: &Profiles,
    requests: &Requests,
    r: &Resident,
    client: &Client,
) -> Result<mpsc::Receiver<Result<Vec<u8>, Error>>, Error> {
    let data = profiles.my_data(r, client).await?;
    let json = serde_json::to_vec_pretty(&data).map_err(zip_error)?;
    let photos: Vec<(i64, String)> = data
        .requests
        .iter()
        .flat_map(|q| q.photos.iter().map(move |p| (q.number, p.clone())))
        .collect();
    let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
    let requests = requests.clone();
    let r = r.clone();
    tokio::spawn(async move {
        let out = tx.clone();
        if let Err(e) = write(&requests, &r, json, photos, &tx).await {
            tracing::warn!(error = %e, "my data archive cut off");
            let _ = out.send(Err(e)).await;
        }
    });
    Ok(rx)
}

/// Writes the archive into `tx`; `Ok` also when the reader went away.
async fn write(
    requests: &Requests,
    r: &Resident,
    json: Vec<u8>,
    photos: Vec<(i64, String)>,
    tx: &mpsc::Sender<Result<Vec<u8>, Error>>,
) -> Result<(), Error> {
    use zip::write::SimpleFileOptions;
    let pending = Pending::default();
    let mut zip = zip::ZipWriter::new_stream(pending.clone());
    let deflated = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    // JPEGs do not shrink: stored as they are.
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    zip.start_file("data.json", deflated).map_err(zip_error)?;
    zip.write_all(&json).map_err(zip_error)?;
    for (number, id) in photos {
        if tx.send(Ok(pending.take())).await.is_err() {
            return Ok(());
        }
        let bytes = requests.photo(Viewer::Resident(r), &id, false).await?;
        zip.start_file(format!("photos/{number}/{id}.jpg"), stored)
            .map_err(zip_error)?;
        zip.write_all(&bytes).map_err(zip_error)?;
    }
    zip.finish().map_err(zip_error)?;
    let _ = tx.send(Ok(pending.take())).await;
    Ok(())
}
