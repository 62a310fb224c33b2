//! What a signed-in resident sees about their account (R3): the overview —
//! balance, current invoice, last payment, recent receipts.

use crate::Error;
use crate::auth::Resident;
pub use kabinet_db::overview::AccountOverview;
use kabinet_db::{Db, Repos};

/// How many recent invoices the overview lists (a year of receipts).
pub const RECENT_INVOICES: u64 = 12;

/// The account use cases.
#[derive(Clone)]
pub struct Accounts {
    db: Db,
}

impl Accounts {
    /// Over `db`.
    pub fn new(db: Db) -> Accounts {
        Accounts { db }
    }

    /// The resident's account at a glance: premises, the
    /// [`RECENT_INVOICES`] newest invoices, balance and last payment, in three
    /// queries.
    pub async fn overview(&self, r: &Resident) -> Result<AccountOverview, Error> {
        self.db
            .overview()
            .of_account(r.account_id(), RECENT_INVOICES)
            .await?
            .ok_or(Error::NotFound)
    }
}
