//! `kabinet init`: a new installation — the organization's details (all
//! optional here; the office page takes the rest) and the first
//! administrator with a one-time password. `kabinet serve` does the latter
//! by itself on a database without staff and prints the password in the log.

use crate::config::Config;
use anyhow::{Context, bail};
use kabinet_app::staff::By;
use kabinet_db::{Db, Repos};
use kabinet_domain::Organization;
use kabinet_domain::staff::Role;

/// What `kabinet init` was given.
#[derive(Debug, Default, clap::Args)]
pub struct InitArgs {
    /// Full legal name.
    #[arg(long, default_value = "")]
    pub name: String,
    /// Short name for headers.
    #[arg(long, default_value = "")]
    pub short_name: String,
    /// ИНН (10 or 12 digits).
    #[arg(long, default_value = "")]
    pub inn: String,
    /// КПП (9 characters).
    #[arg(long, default_value = "")]
    pub kpp: String,
    /// ОГРН (13 or 15 digits).
    #[arg(long, default_value = "")]
    pub ogrn: String,
    /// Postal address.
    #[arg(long, default_value = "")]
    pub address: String,
    /// Office phone.
    #[arg(long, default_value = "")]
    pub phone: String,
    /// Emergency dispatch phone.
    #[arg(long, default_value = "")]
    pub dispatch_phone: String,
    /// Contact e-mail.
    #[arg(long, default_value = "")]
    pub email: String,
    /// Website.
    #[arg(long, default_value = "")]
    pub website: String,
    /// The first administrator's login.
    #[arg(long, default_value = kabinet_app::staff::FIRST_ADMINISTRATOR)]
    pub admin_login: String,
    /// The first administrator's name.
    #[arg(long, default_value = "Administrator")]
    pub admin_name: String,
}

fn words(e: kabinet_app::Error) -> anyhow::Error {
    match e {
        kabinet_app::Error::Invalid(f) => anyhow::anyhow!(
            "{}",
            f.iter()
                .map(|(field, m)| format!(
                    "{field}: {}",
                    kabinet_web::render_text(m, kabinet_domain::Language::En)
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

/// Runs `kabinet init`.
pub async fn run(db: &Db, config: &Config, a: InitArgs) -> anyhow::Result<()> {
    let key = config.server_key().context("the server key")?;
    let settings = config
        .settings_for(db)
        .await
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    let app = kabinet_app::App::build(db.clone(), &settings.app, key).map_err(|e| anyhow::anyhow!("{e}"))?;
    if db.organization().is_demo().await? {
        bail!("this database holds the demo; use an empty database for a real installation");
    }
    if !db.staff().all().await?.is_empty() {
        bail!("this installation has staff already; add members in the console or with `kabinet staff add`");
    }
    let o = Organization {
        name: a.name,
        short_name: a.short_name,
        inn: a.inn,
        kpp: a.kpp,
        ogrn: a.ogrn,
        address: a.address,
        phone: a.phone,
        dispatch_phone: a.dispatch_phone,
        email: a.email,
        website: a.website,
    };
    let given = [
        &o.name,
        &o.short_name,
        &o.inn,
        &o.address,
        &o.phone,
        &o.dispatch_phone,
    ]
    .iter()
    .any(|v| !v.trim().is_empty());
    if given {
        app.office.save_organization(By::Cli, &o).await.map_err(words)?;
        println!("Saved the organization's details.");
    }
    let (m, password) = app
        .staff
        .add(By::Cli, &a.admin_login, &a.admin_name, Role::Administrator)
        .await
        .map_err(words)?;
    println!("Added the administrator {}.", m.login);
    println!("One-time password: {password}");
    println!(
        "Sign in at /staff/login within 72 hours: the second factor is set up there, then an own password."
    );
    let missing = kabinet_domain::organization::missing_details(db.organization().current().await?.as_ref());
    if !missing.is_empty() {
        println!(
            "The organization's details are still missing ({}): fill them in at /staff/organization.",
            missing.join(", ")
        );
    }
    if db
        .documents(kabinet_domain::Document::Consent)
        .current()
        .await?
        .is_none()
    {
        println!(
            "Publish the organization's consent to personal-data processing at /staff/consent or with `kabinet consent publish FILE`."
        );
    }
    Ok(())
}
