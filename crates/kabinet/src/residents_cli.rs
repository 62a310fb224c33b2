//! Commands about residents' sign-in: publishing the Rules and the
//! personal-data consent, loading the keyed
//! hashes of passports for registration, and looking at the e-mail outbox.

use crate::config::Config;
use anyhow::{Context, bail};
use kabinet_db::Db;
use kabinet_db::Repos;
use kabinet_domain::{AccountNumber, Document, OutboxStatus, Passport};
use std::path::Path;

/// The Rules text published on a new installation (the Organization replaces it
/// with `kabinet rules publish`).
pub const DEFAULT_RULES_TITLE: &str = "Правила пользования личным кабинетом абонента";
/// See [`DEFAULT_RULES_TITLE`].
pub const DEFAULT_RULES: &str = include_str!("default_rules.txt");

/// The consent text published on the demo (an installation publishes its own
/// with `kabinet consent publish` or from the office). Like the Rules' default,
/// this is the document's own text, stored as published data in the language
/// it is written in — not an interface message.
pub const DEFAULT_CONSENT_TITLE: &str = "Согласие на обработку персональных данных";
/// See [`DEFAULT_CONSENT_TITLE`].
pub const DEFAULT_CONSENT: &str = include_str!("default_consent.txt");

/// Publishes the default Rules and consent when none were published yet.
pub async fn ensure_documents(db: &Db) -> anyhow::Result<()> {
    let defaults = [
        (Document::Rules, DEFAULT_RULES_TITLE, DEFAULT_RULES),
        (Document::Consent, DEFAULT_CONSENT_TITLE, DEFAULT_CONSENT),
    ];
    for (doc, title, text) in defaults {
        let document = kabinet_app::rules::Rules::new(db.clone(), doc);
        if document.current().await?.is_none() {
            document
                .publish(kabinet_app::staff::By::Cli, title, text.trim())
                .await?;
        }
    }
    Ok(())
}

/// `kabinet rules publish FILE --title T` and `kabinet consent publish …`: a
/// new version residents accept at their next request.
pub async fn publish(db: &Db, doc: Document, file: &Path, title: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let text = text.trim();
    if text.is_empty() {
        bail!("{} is empty", file.display());
    }
    if title.trim().is_empty() {
        bail!("--title must not be empty");
    }
    let v = kabinet_app::rules::Rules::new(db.clone(), doc)
        .publish(kabinet_app::staff::By::Cli, title.trim(), text)
        .await?;
    let what = match doc {
        Document::Rules => "the Rules",
        Document::Consent => "the personal-data consent",
    };
    eprintln!("Published {what}, version {v}. Residents will be asked to accept it.");
    Ok(())
}

/// `kabinet passports FILE`: lines `account;series and number`; stores only
/// the keyed hash. All lines are checked before anything is written.
pub async fn passports(db: &Db, config: &Config, file: &Path) -> anyhow::Result<()> {
    let key = config.server_key()?;
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        let Some((acc, pass)) = line.split_once([';', ',', '\t']) else {
            errors.push(format!("line {}: expected `account;passport`", i + 1));
            continue;
        };
        let number = match AccountNumber::parse(acc) {
            Ok(n) => n,
            Err(e) => {
                errors.push(format!("line {}: {e}", i + 1));
                continue;
            }
        };
        let passport = match Passport::parse(pass) {
            Ok(p) => p,
            Err(e) => {
                errors.push(format!("line {}: {e}", i + 1));
                continue;
            }
        };
        match db.accounts().by_number(&number).await? {
            Some(a) => rows.push((a.id, passport)),
            None => errors.push(format!("line {}: account {number} not found", i + 1)),
        }
    }
    if !errors.is_empty() {
        for e in errors.iter().take(100) {
            eprintln!("{}: {e}", file.display());
        }
        bail!("{} line(s) with errors; nothing was stored", errors.len());
    }
    kabinet_app::support::store_passports(db, &key, &rows).await?;
    eprintln!("Stored passport hashes for {} account(s).", rows.len());
    Ok(())
}

/// `kabinet outbox [--failed]`: the newest messages with their delivery state.
pub async fn outbox(db: &Db, failed_only: bool) -> anyhow::Result<()> {
    let messages = db
        .outbox()
        .messages(failed_only.then_some(OutboxStatus::Failed), 50)
        .await?;
    if messages.is_empty() {
        eprintln!("The outbox is empty.");
    }
    for m in messages {
        println!(
            "{}\t{}\t{} attempt(s)\t{}\t{}\t{}",
            m.id.0,
            m.status.as_str(),
            m.attempts,
            m.email.to.masked(),
            m.email.subject,
            m.last_error
        );
    }
    Ok(())
}

/// `kabinet registration status|unlock NUMBER`: failed registration checks on
/// an account, and lifting the lock they caused (after the Organization has
/// made sure the resident is who they say).
pub async fn registration(db: &Db, number: &str, unlock: bool) -> anyhow::Result<()> {
    use kabinet_app::auth::registration::{registration_lock, unlock_registration};
    let number = AccountNumber::parse(number).map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(account) = db.accounts().by_number(&number).await? else {
        bail!("account {number} not found");
    };
    let (failures, locked_until) = registration_lock(db, account.id).await?;
    match locked_until {
        Some(until) => {
            println!("{number}: {failures} failed check(s) today; registration refused until {until}")
        }
        None => println!("{number}: {failures} failed check(s) today; registration open"),
    }
    if unlock {
        unlock_registration(db, account.id).await?;
        println!("{number}: unlocked; the failed checks are cleared.");
    }
    Ok(())
}

/// `kabinet suspend`: announces or sets a closing of the portal.
pub async fn suspend(db: &Db, at: Option<&str>, until: Option<&str>, message: &str) -> anyhow::Result<()> {
    use time::format_description::well_known::Rfc3339;
    let parse = |what: &str, v: &str| {
        time::OffsetDateTime::parse(v.trim(), &Rfc3339).with_context(|| {
            format!("{what}: expected RFC 3339 such as 2026-12-01T22:00:00+03:00, got {v:?}")
        })
    };
    let now = time::OffsetDateTime::now_utc();
    let starts_at = match at {
        Some(v) => parse("--at", v)?,
        None => now,
    };
    let ends_at = until.map(|v| parse("--until", v)).transpose()?;
    if ends_at.is_some_and(|e| e <= starts_at) {
        bail!("--until must be after --at");
    }
    let message: String = message
        .trim()
        .chars()
        .take(kabinet_domain::Suspension::MAX_MESSAGE)
        .collect();
    let s = kabinet_domain::Suspension {
        starts_at,
        ends_at,
        message,
    };
    kabinet_app::site::Site::new(db.clone(), None, None)
        .suspend(kabinet_app::staff::By::Cli, &s)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match s.phase(now) {
        kabinet_domain::SuspensionPhase::Closed => {
            eprintln!("The portal is closed now (servers notice within 5 s).")
        }
        _ => eprintln!("Closing set for {starts_at}; residents see a banner from 14 days before."),
    }
    Ok(())
}

/// `kabinet resume`: lifts any closing.
pub async fn resume(db: &Db) -> anyhow::Result<()> {
    kabinet_app::site::Site::new(db.clone(), None, None)
        .resume(kabinet_app::staff::By::Cli)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("The portal is open.");
    Ok(())
}
