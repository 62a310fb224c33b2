//! The demo resident: on a demo database, one resident ready to sign in —
//! own password set, Rules accepted, several accounts linked — so a newcomer
//! sees the portal in one step.

use crate::Error;
use crate::auth::Hasher;
use crate::portal::{DEMO_EMAIL, DEMO_PASSWORD, DemoLogin};
use kabinet_db::users::{Acceptance, NewUser};
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use time::OffsetDateTime;

/// How many accounts the demo resident has.
pub const DEMO_ACCOUNTS: u64 = 3;

/// Creates the demo resident on a demo database (nothing when it exists or
/// the database is not a demo); returns its sign-in.
pub async fn ensure_demo_resident(db: &Db) -> Result<Option<DemoLogin>, Error> {
    if !db.organization().is_demo().await? {
        return Ok(None);
    }
    let email = d::EmailAddress::parse(DEMO_EMAIL).map_err(|e| Error::Internal(e.to_string()))?;
    let login = |u: &d::ResidentUser| DemoLogin {
        account: u.account_number.to_string(),
        password: DEMO_PASSWORD.to_string(),
    };
    if let Some(u) = db.users().by_email(&email).await? {
        return Ok(Some(login(&u)));
    }
    let accounts = db.accounts().first_open(DEMO_ACCOUNTS).await?;
    let Some(first) = accounts.first() else {
        return Ok(None);
    };
    if db.users().of_account(first).await?.is_some() {
        return Ok(None);
    }
    let hash = Hasher::new().hash(DEMO_PASSWORD).await?;
    let now = OffsetDateTime::now_utc();
    let tx = db.begin().await?;
    let rules_version = tx.rules().current().await?.map_or(0, |r| r.version);
    let Some(user) = tx
        .users()
        .insert(&NewUser {
            account_id: first.id,
            email,
            password_hash: hash.clone(),
            password_expires_at: now,
            rules_version,
            now,
        })
        .await?
    else {
        return Ok(None);
    };
    tx.users().set_password(user, &hash, now).await?;
    let given = |kind| Acceptance {
        kind,
        version: rules_version,
        ip: "demo",
        user_agent: "",
    };
    if rules_version > 0 {
        tx.users().add_acceptance(user, &given("rules"), now).await?;
    }
    tx.users().add_acceptance(user, &given("consent"), now).await?;
    for a in &accounts[1..] {
        tx.links().add(user, a.id, now).await?;
    }
    tx.audit()
        .record(
            &d::AuditEntry::system(d::AuditEvent::Registration, Some(first.id), "demo resident"),
            now,
        )
        .await?;
    tx.commit().await?;
    let u = db.users().by_id(user).await?.ok_or(Error::NotFound)?;
    Ok(Some(login(&u)))
}
