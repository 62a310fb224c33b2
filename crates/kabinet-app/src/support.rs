//! What the Organization does for residents from the command line (and,
//! later, the staff pages): loading passport data for registration checks.
//! Unlocking a registration is [`crate::auth::registration::unlock_registration`].

use crate::auth::ServerKey;
use kabinet_db::{Db, DbError, Repos};
use kabinet_domain as d;

/// Stores the keyed hashes of account holders' passports (only the hash, keyed
/// with the server key), all in one transaction.
pub async fn store_passports(
    db: &Db,
    key: &ServerKey,
    rows: &[(d::AccountId, d::Passport)],
) -> Result<(), DbError> {
    let tx = db.begin().await?;
    for (account, passport) in rows {
        tx.accounts()
            .set_passport_hash(*account, &key.passport_hash(passport))
            .await?;
    }
    tx.commit().await
}
