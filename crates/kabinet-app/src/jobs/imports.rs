//! Checks or imports a billing package uploaded in the office (see
//! [`crate::imports`]).

use super::{Attempt, Job, JobEnv, JobError};
use kabinet_domain::ImportId;
use serde::{Deserialize, Serialize};

/// The job: the package and whether to import it (or only check it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckPackage {
    /// The package.
    pub import: ImportId,
    /// Import it (after confirmation) rather than check it.
    pub commit: bool,
}

impl CheckPackage {
    /// The check of a package just uploaded.
    pub fn check(import: ImportId) -> CheckPackage {
        CheckPackage {
            import,
            commit: false,
        }
    }

    /// The import of a confirmed package.
    pub fn import(import: ImportId) -> CheckPackage {
        CheckPackage { import, commit: true }
    }
}

impl Job for CheckPackage {
    const KIND: &'static str = "billing_package";
    const MAX_ATTEMPTS: i32 = 3;
    /// A 200 MB package takes minutes; a run cut off leaves nothing behind.
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

    async fn run(&self, env: &JobEnv, _attempt: Attempt) -> Result<(), JobError> {
        env.app.imports.work(self.import, self.commit).await?;
        Ok(())
    }
}
