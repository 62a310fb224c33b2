//! A billing package uploaded in the office goes through states: it is
//! uploaded, checked in the background, then either rejected (with its
//! problems) or waits for an accountant to confirm it, and is imported in
//! the background. Only one package waits at a time: a newer upload
//! replaces it.

/// Where an uploaded package stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportState {
    /// Its files are being received.
    Uploading,
    /// Waiting for the check to start.
    Queued,
    /// Being checked.
    Checking,
    /// Checked: problems were found; it cannot be imported.
    Rejected,
    /// Checked without problems: waits for confirmation.
    Checked,
    /// Confirmed: waiting for the import to start.
    Confirmed,
    /// Being imported.
    Importing,
    /// Imported.
    Imported,
    /// The check or the import failed (not a problem of its lines: the
    /// database or the server), or the upload was cut off.
    Failed,
    /// A newer package was uploaded before this one was confirmed.
    Replaced,
}

impl ImportState {
    /// Every state.
    pub const ALL: [ImportState; 10] = [
        ImportState::Uploading,
        ImportState::Queued,
        ImportState::Checking,
        ImportState::Rejected,
        ImportState::Checked,
        ImportState::Confirmed,
        ImportState::Importing,
        ImportState::Imported,
        ImportState::Failed,
        ImportState::Replaced,
    ];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportState::Uploading => "uploading",
            ImportState::Queued => "queued",
            ImportState::Checking => "checking",
            ImportState::Rejected => "rejected",
            ImportState::Checked => "checked",
            ImportState::Confirmed => "confirmed",
            ImportState::Importing => "importing",
            ImportState::Imported => "imported",
            ImportState::Failed => "failed",
            ImportState::Replaced => "replaced",
        }
    }

    /// Reads the stored form.
    pub fn from_stored(s: &str) -> Option<ImportState> {
        ImportState::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether background work on it is queued or running (the page
    /// refreshes itself).
    pub fn in_progress(self) -> bool {
        matches!(
            self,
            ImportState::Queued | ImportState::Checking | ImportState::Confirmed | ImportState::Importing
        )
    }

    /// Whether its files are still needed (kept in the database until then).
    pub fn keeps_files(self) -> bool {
        matches!(
            self,
            ImportState::Uploading
                | ImportState::Queued
                | ImportState::Checking
                | ImportState::Checked
                | ImportState::Confirmed
                | ImportState::Importing
        )
    }
}

/// The largest package the office takes, in bytes (the files as uploaded).
pub const MAX_PACKAGE_BYTES: u64 = 200 * 1024 * 1024;

/// The most files one upload may have.
pub const MAX_PACKAGE_FILES: usize = 20;

/// Problems kept per package (all are counted; the page shows the first
/// [`PROBLEMS_SHOWN`], the CSV all that are kept).
pub const PROBLEMS_KEPT: usize = 100_000;

/// Problems the package's page lists.
pub const PROBLEMS_SHOWN: usize = 1_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip() {
        for s in ImportState::ALL {
            assert_eq!(ImportState::from_stored(s.as_str()), Some(s));
        }
        assert!(ImportState::Checking.in_progress());
        assert!(!ImportState::Rejected.in_progress());
        assert!(ImportState::Checked.keeps_files());
        assert!(!ImportState::Imported.keeps_files());
    }
}
