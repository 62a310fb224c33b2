//! Where photo bytes live: in the database (the default — one backup, and
//! several servers share it) or in an S3-compatible object store. Rows about
//! photos are always in the database; only the bytes move. Keys are
//! `<photo id>` and `<photo id>.thumb`.

use crate::Error;
use kabinet_db::{Db, Repos, Tx};
use object_store::ObjectStore;
use object_store::path::Path;
use std::sync::Arc;

/// How photos are stored (configuration).
#[derive(Debug, Clone, Default)]
pub enum PhotoStorage {
    /// In the database's `photo_blobs` table.
    #[default]
    Database,
    /// In a bucket of an S3-compatible store.
    S3(S3Settings),
}

/// An S3-compatible bucket.
#[derive(Clone)]
pub struct S3Settings {
    /// The store's address (`https://storage.yandexcloud.net`, `http://127.0.0.1:9000`).
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
    /// The region (`ru-central1`, `us-east-1`).
    pub region: String,
    /// Access key id.
    pub access_key: String,
    /// Secret key.
    pub secret_key: String,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"<hidden>")
            .finish()
    }
}

/// The photo store in use.
#[derive(Clone)]
pub(crate) enum PhotoStore {
    Database,
    S3(Arc<dyn ObjectStore>),
}

impl PhotoStore {
    pub(crate) fn new(s: &PhotoStorage) -> Result<PhotoStore, Error> {
        match s {
            PhotoStorage::Database => Ok(PhotoStore::Database),
            PhotoStorage::S3(c) => {
                let store = object_store::aws::AmazonS3Builder::new()
                    .with_endpoint(&c.endpoint)
                    .with_bucket_name(&c.bucket)
                    .with_region(&c.region)
                    .with_access_key_id(&c.access_key)
                    .with_secret_access_key(&c.secret_key)
                    .with_allow_http(c.endpoint.starts_with("http://"))
                    .with_virtual_hosted_style_request(false)
                    .build()
                    .map_err(|e| Error::Internal(format!("photo store: {e}")))?;
                Ok(PhotoStore::S3(Arc::new(store)))
            }
        }
    }

    /// Stores `data` under `key`: in the caller's transaction for the
    /// database, at once for S3 (an object whose request then fails to
    /// commit is left behind, never a request without its photo).
    pub(crate) async fn put(&self, tx: &Tx, key: &str, data: Vec<u8>) -> Result<(), Error> {
        match self {
            PhotoStore::Database => Ok(tx.requests().put_blob(key, data).await?),
            PhotoStore::S3(s) => {
                s.put(&Path::from(key), data.into()).await.map_err(|e| {
                    tracing::error!(error = %e, "photo store write failed");
                    Error::Internal("photo store unavailable".into())
                })?;
                Ok(())
            }
        }
    }

    /// The bytes under `key`.
    pub(crate) async fn get(&self, db: &Db, key: &str) -> Result<Option<Vec<u8>>, Error> {
        match self {
            PhotoStore::Database => Ok(db.requests().get_blob(key).await?),
            PhotoStore::S3(s) => match s.get(&Path::from(key)).await {
                Ok(r) => Ok(Some(
                    r.bytes()
                        .await
                        .map_err(|e| Error::Internal(format!("photo store: {e}")))?
                        .to_vec(),
                )),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => {
                    tracing::error!(error = %e, "photo store read failed");
                    Err(Error::Internal("photo store unavailable".into()))
                }
            },
        }
    }
}
