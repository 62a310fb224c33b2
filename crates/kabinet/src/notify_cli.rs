//! `kabinet notify`: produces the notifications the billing data holds now
//! (the server's job does it every minute and after each import) and says
//! how many and how long it took.

use crate::config::Config;
use anyhow::Context;
use kabinet_db::Db;
use time::OffsetDateTime;

/// Runs `kabinet notify`.
pub async fn run(db: &Db, config: &Config) -> anyhow::Result<()> {
    let key = config.server_key().context("the server key")?;
    let settings = config
        .settings_for(db)
        .await
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    let app = kabinet_app::App::build(db.clone(), &settings.app, key).map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = std::time::Instant::now();
    let made = app
        .notify
        .produce(OffsetDateTime::now_utc())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let took = started.elapsed();
    use kabinet_domain::notify::Channel;
    let waiting = app
        .notify
        .waiting(Channel::Email)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let sms = app
        .notify
        .waiting(Channel::Sms)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "{} events, {} deliveries produced in {:.1} s; {waiting} e-mails and {sms} SMS waiting to be sent",
        made.events,
        made.deliveries,
        took.as_secs_f64()
    );
    Ok(())
}
