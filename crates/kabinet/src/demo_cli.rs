//! `kabinet demo`: a demo organization in the database (then serving it), or
//! written as an exchange package.

use crate::config::Config;
use crate::{exchange_cli, residents_cli};
use anyhow::Context;
use kabinet_db::Db;
use std::io::IsTerminal;
use std::path::Path;

fn options(config: &Config, accounts: u32, months: u32, seed: u64) -> kabinet_demo::DemoOptions {
    let today = time::OffsetDateTime::now_utc().date();
    let mut options = kabinet_demo::DemoOptions::new(today);
    options.accounts = accounts;
    options.months = months;
    options.seed = seed;
    options.receipt_day = config.receipt_day;
    options.due_day = config.payment_due_day;
    options
}

/// Writes the demo as an exchange package (CSV files) into `dir`.
pub fn export(config: &Config, dir: &Path, accounts: u32, months: u32, seed: u64) -> anyhow::Result<()> {
    let options = options(config, accounts, months, seed);
    let started = std::time::Instant::now();
    let mut bar = exchange_cli::Progress::new("package");
    let counts = kabinet_exchange::package::write_demo_package(
        &options,
        dir,
        kabinet_exchange::source::TextEncoding::Utf8,
        &mut |d, t| bar.set(u64::from(d), u64::from(t)),
    )?;
    bar.finish();
    for (kind, n) in counts {
        eprintln!("{}: {n} rows", dir.join(format!("{}.csv", kind.name())).display());
    }
    eprintln!(
        "Demo package written in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Fills the database with the demo (adding only what is missing), creates
/// the demo resident and dispatcher, and serves unless `no_serve`.
pub async fn run(
    db: &Db,
    config: &Config,
    accounts: u32,
    months: u32,
    seed: u64,
    no_serve: bool,
) -> anyhow::Result<()> {
    let options = options(config, accounts, months, seed);
    db.migrate().await?;
    let tty = std::io::stderr().is_terminal();
    let mut last_shown = 0u32;
    let report = kabinet_demo::generate(db, &options, |done, total| {
        if tty {
            eprint!("\rDemo: {done} / {total} accounts");
        } else if done == total || done - last_shown >= total / 10 {
            eprintln!("Demo: {done} / {total} accounts");
            last_shown = done;
        }
    })
    .await?;
    residents_cli::ensure_documents(db).await?;
    if tty && report.created_accounts > 0 {
        eprintln!();
    }
    let demo = kabinet_app::demo::ensure_demo_resident(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if report.created_accounts == 0 {
        eprintln!(
            "Demo data already present ({} accounts); nothing added.",
            report.existing_accounts
        );
    } else {
        eprintln!(
            "Demo: {} accounts created ({} rows) in {:.1} s; database size {:.1} MiB.",
            report.created_accounts,
            report.rows,
            report.elapsed.as_secs_f64(),
            db.bulk().size_bytes().await? as f64 / 1_048_576.0
        );
    }
    if let Some(login) = demo {
        eprintln!(
            "Sign in as the demo resident: account {}, password {}",
            login.account, login.password
        );
    }
    let deadlines = config
        .requests()
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))?
        .deadlines;
    let secrets = kabinet_app::staff::SecretBox::new(&config.server_key().context("the server key")?);
    let dispatcher = kabinet_app::demo::ensure_demo_requests(db, deadlines, &secrets)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let office = kabinet_app::demo::ensure_demo_office(db, &secrets)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0);
    for (who, d) in dispatcher.iter().map(|d| ("Dispatcher", d)).chain(
        office
            .iter()
            .zip(["Administrator", "Accountant", "Operator"])
            .map(|(d, w)| (w, d)),
    ) {
        let code = kabinet_app::staff::totp_code(&d.totp_secret, now).unwrap_or_default();
        eprintln!(
            "{who} console at /staff/login: login {}, password {}, TOTP secret {} \
             (add it to an authenticator app; the code right now is {code})",
            d.login, d.password, d.totp_secret
        );
    }
    if no_serve {
        return Ok(());
    }
    crate::serve::serve(db.clone(), config).await
}

/// `kabinet demo-accounts`: accounts of a demo for load tests, printed one
/// per line (number, tab, latest total in kopecks).
pub async fn sample(db: &Db, count: u64, residents: bool) -> anyhow::Result<()> {
    let sample = match kabinet_app::demo::sample_accounts(db, count, residents).await {
        Ok(sample) => sample,
        Err(kabinet_app::Error::NotFound) => {
            anyhow::bail!("this database holds no demo (run `kabinet demo` first)")
        }
        Err(e) => return Err(anyhow::anyhow!("{e}")),
    };
    for a in sample {
        println!("{}\t{}", a.number, a.total_due.0);
    }
    Ok(())
}
