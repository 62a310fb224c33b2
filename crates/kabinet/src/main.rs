//! `kabinet`: the resident portal's single binary.

mod config;
mod exchange_cli;
mod payments_cli;
mod receipts_cli;
mod render_workers;
mod residents_cli;
mod staff_cli;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use config::{Config, LogFormat, redact_url};
use kabinet_db::Repos;
use kabinet_db::{Db, DbOptions};
use std::io::IsTerminal;
use std::path::PathBuf;

/// mimalloc instead of the system allocator: typst allocates and frees a great
/// deal per receipt, and with it receipts render about 8 % faster and the
/// process holds less memory between them (bench/receipts.sh).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Resident self-service portal for utility and housing organizations.
#[derive(Debug, Parser)]
#[command(name = "kabinet", version, about)]
struct Cli {
    /// Configuration file (optional; `KABINET_*` environment variables override it).
    #[arg(long, global = true, default_value = "kabinet.toml", env = "KABINET_CONFIG")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the HTTP server.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create a demo organization in the configured database, then serve it.
    ///
    /// Re-running on a database that already holds the demo adds nothing (or
    /// only the accounts an interrupted run did not finish).
    Demo {
        /// Number of personal accounts.
        #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=5_000_000))]
        accounts: u32,
        /// Months of billing history, ending with the previous month.
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=120))]
        months: u32,
        /// Seed of the generator (the same seed gives the same data).
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Generate and exit without serving.
        #[arg(long)]
        no_serve: bool,
        /// Instead of filling the database, write the demo as an exchange
        /// package (CSV files) into this folder and exit.
        #[arg(long, value_name = "DIR")]
        export_dir: Option<PathBuf>,
    },
    /// Import billing-system files (see docs/exchange.md).
    ///
    /// `kabinet import charges charges.csv` loads one file; `kabinet import --dir
    /// FOLDER` loads every <kind>.csv found there in the right order. A file with
    /// any bad line changes nothing; the command then exits with an error.
    Import {
        /// payees, services, accounts, meters, readings, charges, invoices or payments.
        #[arg(requires = "file", conflicts_with = "dir")]
        kind: Option<String>,
        /// The CSV file.
        file: Option<PathBuf>,
        /// A folder with a whole package.
        #[arg(long, value_name = "FOLDER")]
        dir: Option<PathBuf>,
        /// Force the encoding: utf-8 or windows-1251 (detected by default).
        #[arg(long)]
        encoding: Option<String>,
        /// Force the separator: `;`, `,` or `tab` (detected by default).
        #[arg(long)]
        delimiter: Option<String>,
    },
    /// Render every account's PDF receipt for a period into a folder.
    ///
    /// Runs on all cores, skips receipts already rendered (so an interrupted run
    /// can simply be started again) and prints a summary.
    Receipts {
        /// The period: 2026-10 or 10.2026.
        #[arg(long)]
        period: String,
        /// A file with one account number per line (default: every account with
        /// an invoice for the period).
        #[arg(long)]
        accounts: Option<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Also pack them into receipts-<period>.zip in the folder.
        #[arg(long)]
        zip: bool,
        /// Render processes to run at once (default: one per core; fewer leave
        /// cores free for a server on the same machine).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
        jobs: Option<u16>,
    },
    /// Render receipts for `kabinet receipts` (started by it; jobs on standard
    /// input, one JSON line each).
    #[command(hide = true)]
    RenderWorker,
    /// Publish a new version of the Rules of service; residents accept it at
    /// their next request.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
    /// Load passport data for registration checks: a file of lines
    /// `account;series number`. Only a keyed hash is stored.
    Passports {
        /// The file.
        file: PathBuf,
    },
    /// Failed registration checks on an account, and unlocking its registration.
    ///
    /// After ten failed checks (amount or passport) in a day an account cannot
    /// be registered until the day is over; `unlock` lifts that once the
    /// Organization has made sure the resident is who they say.
    Registration {
        #[command(subcommand)]
        action: RegistrationAction,
    },
    /// Announce or set a closing of the portal (R14): from `--at` (default
    /// now) resident pages and the API answer 503 with the message until
    /// `--until` (or `kabinet resume`); a banner shows for 14 days before.
    Suspend {
        /// When it closes, RFC 3339 (`2026-12-01T22:00:00+03:00`); now when unset.
        #[arg(long)]
        at: Option<String>,
        /// When it is expected back, RFC 3339.
        #[arg(long)]
        until: Option<String>,
        /// What residents are told.
        #[arg(long, default_value = "")]
        message: String,
    },
    /// Lift any closing of the portal.
    Resume,
    /// Show the newest e-mails in the outbox with their delivery state.
    Outbox {
        /// Only messages whose delivery was given up.
        #[arg(long)]
        failed: bool,
    },
    /// Show the newest card payments, or settle what the gateway has
    /// settled now (the server does this every 30 s by itself).
    Payments {
        /// Only payments in this state: created, pending, succeeded,
        /// canceled, failed or expired.
        #[arg(long)]
        status: Option<String>,
        /// Ask the gateway about every unsettled payment that is due, now.
        #[arg(long)]
        reconcile: bool,
    },
    /// Staff members of the console: add one (a one-time password is
    /// printed; the second factor is set up at the first sign-in), reset a
    /// password and second factor, disable or enable, list.
    Staff {
        #[command(subcommand)]
        action: StaffAction,
    },
    /// Export what residents did in Kabinet since the last export.
    Export {
        /// readings or payments.
        kind: String,
        /// Output file (default: <kind>-<timestamp>.csv).
        #[arg(long)]
        out: Option<PathBuf>,
        /// utf-8 (default) or windows-1251.
        #[arg(long)]
        encoding: Option<String>,
        /// Also rows earlier exports carried.
        #[arg(long)]
        all: bool,
        /// Only rows from this day on (DD.MM.YYYY or YYYY-MM-DD); implies --all.
        #[arg(long)]
        since: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum RegistrationAction {
    /// How many registration checks failed today and whether it is locked.
    Status {
        /// The personal account number.
        account: String,
    },
    /// Clear the failed checks, so the account can be registered again.
    Unlock {
        /// The personal account number.
        account: String,
    },
}

#[derive(Debug, Subcommand)]
enum StaffAction {
    /// Add a member.
    Add {
        /// What they sign in with (latin letters, digits, . _ -).
        #[arg(long)]
        login: String,
        /// Their name, shown to colleagues.
        #[arg(long)]
        name: String,
        /// administrator, operator or dispatcher.
        #[arg(long)]
        role: String,
    },
    /// Give a member a new one-time password and forget their second factor
    /// (a forgotten password or a lost phone); their sessions end.
    Reset {
        /// The member's login.
        #[arg(long)]
        login: String,
    },
    /// Stop a member from signing in; their sessions end.
    Disable {
        /// The member's login.
        #[arg(long)]
        login: String,
    },
    /// Let a disabled member sign in again.
    Enable {
        /// The member's login.
        #[arg(long)]
        login: String,
    },
    /// List the members who may sign in.
    List,
}

#[derive(Debug, Subcommand)]
enum RulesAction {
    /// Publish the text in FILE (plain text; paragraphs separated by blank lines).
    Publish {
        /// The text.
        file: PathBuf,
        /// The heading.
        #[arg(long, default_value = residents_cli::DEFAULT_RULES_TITLE)]
        title: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(&cli.config).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run(cli.command, config, &cli.config))
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("KABINET_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let url = config.database_url();
    if config.is_sqlite() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating the data folder {}", config.data_dir.display()))?;
    }
    let data_dir = std::path::absolute(&config.data_dir).unwrap_or_else(|_| config.data_dir.clone());
    eprintln!("Data folder: {}", data_dir.display());
    eprintln!("Database:    {}", redact_url(&url));
    Db::connect(&DbOptions {
        url,
        max_connections: config.database_max_connections,
    })
    .await
    .context("opening the database")
}

async fn run(command: Command, config: Config, config_path: &std::path::Path) -> anyhow::Result<()> {
    match command {
        Command::Migrate => {
            let db = open_db(&config).await?;
            let pending = db.pending_migrations().await?;
            db.migrate().await?;
            eprintln!("Applied {pending} migration(s); the schema is up to date.");
            db.close().await?;
            Ok(())
        }
        Command::Serve => {
            let db = open_db(&config).await?;
            prepare_schema(&db, &config).await?;
            serve(db, &config).await
        }
        Command::Import {
            kind,
            file,
            dir,
            encoding,
            delimiter,
        } => {
            let db = open_db(&config).await?;
            prepare_schema(&db, &config).await?;
            let result = exchange_cli::import(
                &db,
                &config,
                kind.as_deref(),
                file.as_deref(),
                dir.as_deref(),
                encoding.as_deref(),
                delimiter.as_deref(),
            )
            .await;
            db.close().await?;
            result
        }
        // Blocks this thread on its standard input; nothing else runs here.
        Command::RenderWorker => render_workers::serve(&renderer(&config)?),
        Command::Receipts {
            period,
            accounts,
            out,
            zip,
            jobs,
        } => {
            let period =
                kabinet_domain::Period::parse(&period).map_err(|e| anyhow::anyhow!("--period: {e}"))?;
            let db = open_db(&config).await?;
            prepare_schema(&db, &config).await?;
            // Checked here so that a bad template path is reported once.
            renderer(&config)?;
            let exe = std::env::current_exe().context("finding the kabinet executable")?;
            let config_path = config_path.to_path_buf();
            let worker = move || {
                let mut command = std::process::Command::new(&exe);
                command.arg("--config").arg(&config_path).arg("render-worker");
                command
            };
            let result = receipts_cli::run(
                &db,
                worker,
                receipts_cli::Run {
                    period,
                    accounts_file: accounts.as_deref(),
                    out: &out,
                    zip,
                    jobs: jobs.map(usize::from),
                    charset: config.receipt_qr_charset,
                },
            )
            .await;
            db.close().await?;
            let (_, _, failed) = result?;
            if failed > 0 {
                bail!("{failed} receipt(s) failed; run the command again to retry them");
            }
            Ok(())
        }
        Command::Rules {
            action: RulesAction::Publish { file, title },
        } => {
            let db = open_db(&config).await?;
            prepare_schema(&db, &config).await?;
            let result = residents_cli::publish(&db, &file, &title).await;
            db.close().await?;
            result
        }
        Command::Passports { file } => {
            let db = open_db(&config).await?;
            prepare_schema(&db, &config).await?;
            let result = residents_cli::passports(&db, &config, &file).await;
            db.close().await?;
            result
        }
        Command::Registration { action } => {
            let (account, unlock) = match action {
                RegistrationAction::Status { account } => (account, false),
                RegistrationAction::Unlock { account } => (account, true),
            };
            let db = open_db(&config).await?;
            prepare_schema(&db, &config).await?;
            let result = residents_cli::registration(&db, &account, unlock).await;
            db.close().await?;
            result
        }
        Command::Suspend { at, until, message } => {
            let db = open_db(&config).await?;
            prepare_schema(&db, &config).await?;
            let result = residents_cli::suspend(&db, at.as_deref(), until.as_deref(), &message).await;
            db.close().await?;
            result
        }
        Command::Resume => {
            let db = open_db(&config).await?;
            prepare_schema(&db, &config).await?;
            let result = residents_cli::resume(&db).await;
            db.close().await?;
            result
        }
        Command::Payments { status, reconcile } => {
            let db = open_db(&config).await?;
            prepare_schema(&db, &config).await?;
            let result = payments_cli::run(&db, &config, status.as_deref(), reconcile).await;
            db.close().await?;
            result
        }
        Command::Staff { action } => {
            let db = open_db(&config).await?;
            prepare_schema(&db, &config).await?;
            let result = staff_cli::run(&db, &config, action).await;
            db.close().await?;
            result
        }
        Command::Outbox { failed } => {
            let db = open_db(&config).await?;
            prepare_schema(&db, &config).await?;
            let result = residents_cli::outbox(&db, failed).await;
            db.close().await?;
            result
        }
        Command::Export {
            kind,
            out,
            encoding,
            all,
            since,
        } => {
            let db = open_db(&config).await?;
            prepare_schema(&db, &config).await?;
            let all = all || since.is_some();
            let result =
                exchange_cli::export_cmd(&db, &kind, out, encoding.as_deref(), all, since.as_deref()).await;
            db.close().await?;
            result
        }
        Command::Demo {
            accounts,
            months,
            seed,
            no_serve,
            export_dir,
        } => {
            let today = time::OffsetDateTime::now_utc().date();
            let mut options = kabinet_demo::DemoOptions::new(today);
            options.accounts = accounts;
            options.months = months;
            options.seed = seed;
            options.receipt_day = config.receipt_day;
            options.due_day = config.payment_due_day;
            if let Some(dir) = export_dir {
                let started = std::time::Instant::now();
                let mut bar = exchange_cli::Progress::new("package");
                let counts = kabinet_exchange::package::write_demo_package(
                    &options,
                    &dir,
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
                return Ok(());
            }
            let db = open_db(&config).await?;
            db.migrate().await?;
            let tty = std::io::stderr().is_terminal();
            let mut last_shown = 0u32;
            let report = kabinet_demo::generate(&db, &options, |done, total| {
                if tty {
                    eprint!("\rDemo: {done} / {total} accounts");
                } else if done == total || done - last_shown >= total / 10 {
                    eprintln!("Demo: {done} / {total} accounts");
                    last_shown = done;
                }
            })
            .await?;
            residents_cli::ensure_rules(&db).await?;
            if tty && report.created_accounts > 0 {
                eprintln!();
            }
            let demo = kabinet_app::demo::ensure_demo_resident(&db)
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
            let dispatcher = kabinet_app::demo::ensure_demo_requests(&db, deadlines, &secrets)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(d) = dispatcher {
                let code = kabinet_app::staff::totp_code(
                    &d.totp_secret,
                    u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0),
                )
                .unwrap_or_default();
                eprintln!(
                    "Dispatcher console at /staff/login: login {}, password {}, TOTP secret {} \
                     (add it to an authenticator app; the code right now is {code})",
                    d.login, d.password, d.totp_secret
                );
            }
            if no_serve {
                db.close().await?;
                return Ok(());
            }
            serve(db, &config).await
        }
    }
}

/// Embedded SQLite is migrated automatically; PostgreSQL is migrated by
/// `kabinet migrate`, once, so several servers never migrate at the same time.
async fn prepare_schema(db: &Db, config: &Config) -> anyhow::Result<()> {
    if config.is_sqlite() {
        db.migrate().await?;
        return Ok(());
    }
    let pending = db.pending_migrations().await?;
    if pending > 0 {
        bail!("the database schema is {pending} migration(s) behind: run `kabinet migrate` first");
    }
    Ok(())
}

fn renderer(config: &Config) -> anyhow::Result<kabinet_receipt::Renderer> {
    Ok(match &config.receipt_template {
        Some(path) => kabinet_receipt::Renderer::with_template(path)?,
        None => kabinet_receipt::Renderer::new(),
    })
}

async fn serve(db: Db, config: &Config) -> anyhow::Result<()> {
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
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.changed().await;
    };
    let mail_worker = tokio::spawn(kabinet_notify::worker::run(
        db.clone(),
        mailer,
        std::time::Duration::from_secs(2),
        wait(stopped.clone()),
    ));
    let reconciler = tokio::spawn(reconcile_payments(
        state.app.payments.clone(),
        wait(stopped.clone()),
    ));
    let sweeper = tokio::spawn(sweep_sessions(
        db.clone(),
        config.auth_settings(),
        wait(stopped.clone()),
    ));
    match config.mail() {
        kabinet_notify::MailConfig::Files { dir, .. } => {
            eprintln!("E-mails are written to {}", dir.display())
        }
        kabinet_notify::MailConfig::Smtp { host, port, .. } => eprintln!("E-mails go to SMTP {host}:{port}"),
    }
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
    let _ = mail_worker.await;
    let _ = sweeper.await;
    let _ = reconciler.await;
    result?;
    eprintln!("Kabinet stopped.");
    Ok(())
}

/// Asks the gateway about unsettled card payments whose time has come, every
/// 30 seconds; several servers can do this at once (payments are leased).
async fn reconcile_payments(
    payments: kabinet_app::payments::Payments,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        loop {
            match payments.reconcile(time::OffsetDateTime::now_utc()).await {
                Ok(r) if r.checked == 0 => break,
                Ok(r) => {
                    tracing::info!(
                        checked = r.checked,
                        settled = r.settled,
                        expired = r.expired,
                        "card payments reconciled"
                    );
                    if r.checked < 100 {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "card payment reconciliation failed");
                    break;
                }
            }
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
        }
    }
}

/// Deletes ended sessions every ten minutes.
async fn sweep_sessions(
    db: Db,
    settings: kabinet_app::auth::AuthSettings,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let now = time::OffsetDateTime::now_utc();
        match db.sessions().sweep(now, now - settings.session_idle).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "ended sessions removed"),
            Err(e) => tracing::warn!(error = %e, "session sweep failed"),
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(std::time::Duration::from_secs(600)) => {}
        }
    }
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
