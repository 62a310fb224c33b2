//! `kabinet serve`: the HTTP server and the job runner, until a signal.

use crate::config::Config;
use anyhow::Context;
use kabinet_db::Db;

/// Serves on the configured address with a job runner beside it; on Ctrl-C
/// or SIGTERM stops taking requests, lets background work finish, and returns.
pub async fn serve(db: Db, config: &Config) -> anyhow::Result<()> {
    let key = config.server_key().context("the server key")?;
    let mailer = kabinet_notify::Mailer::new(&config.mail()).context("e-mail settings")?;
    let settings = config
        .settings_for(&db)
        .await
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    if matches!(
        settings.app.gateway,
        kabinet_app::payments::GatewayChoice::Sandbox
    ) {
        tracing::warn!(
            "card payments go to the SANDBOX: test payments only, never credited or exported; \
             set payment_gateway = \"yookassa\" (or \"none\") for real use"
        );
        eprintln!("Card payments: SANDBOX (test payments, never credited)");
    } else if matches!(
        settings.app.gateway,
        kabinet_app::payments::GatewayChoice::Disabled
    ) {
        eprintln!(
            "Card payments: not set up (payment_gateway); residents are pointed to the receipt's QR code"
        );
    }
    let state =
        kabinet_web::AppState::build(db.clone(), &settings, key).map_err(|e| anyhow::anyhow!("{e}"))?;
    first_start(&db, &state).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let env = kabinet_app::jobs::JobEnv {
        app: state.app.clone(),
        mailer: std::sync::Arc::new(mailer),
    };
    let runner = kabinet_app::jobs::Runner::new(env, kabinet_app::jobs::RunnerSettings::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let jobs = tokio::spawn(runner.run(async move {
        let _ = stopped.changed().await;
    }));
    match config.mail() {
        kabinet_notify::MailConfig::Files { dir, .. } => {
            eprintln!("E-mails are written to {}", dir.display())
        }
        kabinet_notify::MailConfig::Smtp { host, port, .. } => eprintln!("E-mails go to SMTP {host}:{port}"),
    }
    if let Some(bot) = state.app.max.bot_name() {
        if settings.app.notify.max_webhook {
            // MAX posts updates to the webhook from now on; a failure leaves
            // the bot deaf, so it is said loudly (the next start tries again).
            match state.app.max.subscribe().await {
                Ok(()) => eprintln!("MAX bot @{bot}: updates come to /max/webhook"),
                Err(e) => {
                    tracing::error!(error = %e, "the MAX webhook was not subscribed");
                    eprintln!("MAX bot @{bot}: the webhook was NOT subscribed: {e}");
                }
            }
        } else {
            eprintln!("MAX bot @{bot}: updates are taken by long polling");
        }
    }
    let metrics = match &config.metrics_listen {
        Some(at) => {
            let listener = tokio::net::TcpListener::bind(at)
                .await
                .with_context(|| format!("listening for metrics on {at}"))?;
            eprintln!("Metrics are served on http://{}/metrics", listener.local_addr()?);
            let mut stopped = stop.subscribe();
            Some(tokio::spawn(kabinet_web::serve_metrics(
                listener,
                state.clone(),
                async move {
                    let _ = stopped.changed().await;
                },
            )))
        }
        None => None,
    };
    eprintln!("Kabinet is serving on http://{addr}/");
    let auth = state.app.auth.clone();
    let result = kabinet_web::serve(listener, state, shutdown_signal()).await;
    // Registration and reset requests already answered are finished first.
    if tokio::time::timeout(std::time::Duration::from_secs(30), auth.idle())
        .await
        .is_err()
    {
        tracing::warn!("background requests still running after 30 s; stopping anyway");
    }
    let _ = stop.send(true);
    let _ = jobs.await;
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    result?;
    eprintln!("Kabinet stopped.");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// A new installation: the first administrator when there is no staff
/// member (their one-time password goes to the log, once), and what the
/// organization's details still lack.
async fn first_start(db: &Db, state: &kabinet_web::AppState) -> anyhow::Result<()> {
    use kabinet_db::Repos;
    if db.organization().is_demo().await? {
        return Ok(());
    }
    if let Some((m, password)) = state
        .app
        .staff
        .first_administrator()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        tracing::warn!(
            login = %m.login,
            "a new installation: the first administrator was added; sign in at /staff/login with the \
             one-time password printed on standard error (it works once, within 72 hours)"
        );
        eprintln!(
            "First administrator: login {}, one-time password {password}",
            m.login
        );
    }
    let missing = kabinet_domain::organization::missing_details(db.organization().current().await?.as_ref());
    if !missing.is_empty() {
        tracing::warn!(
            missing = %missing.join(", "),
            "the organization's details are incomplete: residents are told the portal is being set up \
             and receipts wait; fill them in at /staff/organization or with `kabinet init`"
        );
    }
    if db
        .documents(kabinet_domain::Document::Consent)
        .current()
        .await?
        .is_none()
    {
        tracing::warn!(
            "no personal-data consent text is published: residents consent at registration without              a text to read; publish the organization's at /staff/consent or with `kabinet consent publish`"
        );
    }
    Ok(())
}
