//! `kabinet staff`: the organization's IT staff add console users, reset a
//! forgotten password or a lost second factor, and disable those who left.
//! One-time passwords are printed once; only their hash is stored.

use crate::StaffAction;
use crate::config::Config;
use anyhow::Context;
use kabinet_app::staff::By;
use kabinet_db::Db;
use kabinet_domain::staff::Role;

async fn app(db: &Db, config: &Config) -> anyhow::Result<kabinet_app::App> {
    let key = config.server_key().context("the server key")?;
    let settings = config
        .settings_for(db)
        .await
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    kabinet_app::App::build(db.clone(), &settings.app, key).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs one `kabinet staff` action.
pub async fn run(db: &Db, config: &Config, action: StaffAction) -> anyhow::Result<()> {
    let app = app(db, config).await?;
    let staff = &app.staff;
    let fail = |e: kabinet_app::Error| match e {
        kabinet_app::Error::Invalid(f) => anyhow::anyhow!(
            "{}",
            f.iter()
                .map(|(_, m)| kabinet_web::render_text(m, kabinet_domain::Language::En))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        kabinet_app::Error::NotFound => anyhow::anyhow!("no staff member with that login"),
        other => anyhow::anyhow!("{other}"),
    };
    match action {
        StaffAction::Add { login, name, role } => {
            let role = Role::from_stored(role.trim()).with_context(|| {
                format!("unknown role {role:?}: administrator, accountant, operator or dispatcher")
            })?;
            let (m, password) = staff.add(By::Cli, &login, &name, role).await.map_err(fail)?;
            println!("Added {} ({}, {}).", m.login, m.name, m.role.as_str());
            println!("One-time password: {password}");
            println!(
                "Sign in at /staff/login; the second factor is set up at the first sign-in, then an own password."
            );
        }
        StaffAction::Reset { login } => {
            let m = staff.by_login(&login).await.map_err(fail)?;
            let password = staff.reset(By::Cli, m.id).await.map_err(fail)?;
            println!(
                "Reset {}: the second factor is set up again at the next sign-in.",
                login.trim()
            );
            println!("One-time password: {password}");
        }
        StaffAction::Disable { login } => {
            let m = staff.by_login(&login).await.map_err(fail)?;
            staff.set_disabled(By::Cli, m.id, true).await.map_err(fail)?;
            println!("Disabled {}; their sessions have ended.", login.trim());
        }
        StaffAction::Enable { login } => {
            let m = staff.by_login(&login).await.map_err(fail)?;
            staff.set_disabled(By::Cli, m.id, false).await.map_err(fail)?;
            println!("Enabled {}.", login.trim());
        }
        StaffAction::List => {
            for m in staff.active().await.map_err(fail)? {
                println!(
                    "{:<20} {:<14} {:<8} {}",
                    m.login,
                    m.role.as_str(),
                    if m.totp_enabled { "2FA" } else { "no 2FA" },
                    m.name
                );
            }
        }
    }
    Ok(())
}
