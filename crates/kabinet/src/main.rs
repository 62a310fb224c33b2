//! `kabinet`: the resident portal's single binary.

mod backup_cli;
mod config;
mod demo_cli;
mod exchange_cli;
mod init_cli;
mod jobs_cli;
mod notify_cli;
mod payments_cli;
mod receipts_cli;
mod render_workers;
mod residents_cli;
mod serve;
mod staff_cli;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use config::{Config, LogFormat, redact_url};
use kabinet_db::{Db, DbOptions};
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
    /// Copy an SQLite installation into one file while the server runs:
    /// the database as of one moment, the server key and the help pages of
    /// the data folder. (PostgreSQL: pg_dump or pg_basebackup.)
    Backup {
        /// The file to write (it must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a backup made by `kabinet backup` into an empty data folder.
    Restore {
        /// The backup file.
        file: PathBuf,
    },
    /// Set up a new installation: the organization's details (optional
    /// here, the console's organization page takes them too) and the first
    /// administrator, whose one-time password is printed.
    Init(init_cli::InitArgs),
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
    /// Print accounts of a demo database for load tests: one line per
    /// account, its number and latest invoice total in kopecks, tab-separated.
    ///
    /// `--count` accounts spread evenly over the demo: without `--residents`,
    /// accounts nobody signed up with (to register); with it, each gets a
    /// resident who signs in with the demo password.
    DemoAccounts {
        /// How many accounts.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        count: u64,
        /// Give each a resident with the demo password.
        #[arg(long)]
        residents: bool,
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
    /// Publish a new version of the consent to personal-data processing (a
    /// document of its own under 152-ФЗ); residents give it at their next
    /// request.
    Consent {
        #[command(subcommand)]
        action: ConsentAction,
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
    /// Produce the notifications the billing data holds now — a new
    /// period's invoices, payments that came with a package — and queue
    /// their e-mails (the server does this every minute and after each
    /// import).
    Notify,
    /// Background jobs: list those queued, running and dead (the default),
    /// or retry or discard a dead one.
    Jobs {
        #[command(subcommand)]
        action: Option<JobsAction>,
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
        /// Run autopay now: plan debits of new invoices, send the notices
        /// due and pay the debits due (the server does this every 5 min).
        #[arg(long)]
        autopay: bool,
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
        /// readings, payments or paperless (the accounts whose resident
        /// chose no paper receipts; a list as it stands, nothing is marked).
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

/// What `kabinet jobs` does.
#[derive(Debug, Subcommand)]
pub enum JobsAction {
    /// Jobs queued, running and dead, the soonest due first.
    List {
        /// Only dead jobs.
        #[arg(long)]
        dead: bool,
    },
    /// Put a dead job back in the queue, due now.
    Retry {
        /// The job's number.
        id: i64,
    },
    /// Delete a dead job.
    Discard {
        /// The job's number.
        id: i64,
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
        /// administrator, accountant, operator or dispatcher.
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
enum ConsentAction {
    /// Publish the text in FILE (plain text; paragraphs separated by blank lines).
    Publish {
        /// The text.
        file: PathBuf,
        /// The heading.
        #[arg(long, default_value = residents_cli::DEFAULT_CONSENT_TITLE)]
        title: String,
    },
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
    // Colour codes only for a person at a terminal: a log redirected to a
    // file or a collector gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
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
    let db = Db::connect(&DbOptions {
        url,
        max_connections: config.database_max_connections,
        acquire_timeout: None,
    })
    .await
    .context("opening the database")?;
    match config.database_replica_url.as_deref().map(str::trim) {
        Some(replica) if !replica.is_empty() => {
            if db.backend() != kabinet_db::Backend::Postgres || !replica.starts_with("postgres") {
                bail!("database_replica_url is a PostgreSQL replica of a PostgreSQL database_url");
            }
            eprintln!("Replica:     {}", redact_url(replica));
            // A replica that does not answer at start stops the start (a
            // wrong URL shows at once); one that stops later is stepped
            // around within two seconds: the pages read the primary.
            let replica = Db::connect(&DbOptions {
                url: replica.to_string(),
                max_connections: config.database_max_connections,
                acquire_timeout: Some(std::time::Duration::from_secs(2)),
            })
            .await
            .context("opening the replica")?;
            Ok(db.with_replica(replica))
        }
        _ => Ok(db),
    }
}

async fn run(command: Command, config: Config, config_path: &std::path::Path) -> anyhow::Result<()> {
    // The commands that need no database.
    match command {
        // Blocks this thread on its standard input; nothing else runs here.
        Command::RenderWorker => return render_workers::serve(&renderer(&config)?),
        Command::Demo {
            export_dir: Some(dir),
            accounts,
            months,
            seed,
            ..
        } => return demo_cli::export(&config, &dir, accounts, months, seed),
        // These open the database file themselves (restore before it exists).
        Command::Backup { out } => return backup_cli::backup(&config, &out).await,
        Command::Restore { file } => return backup_cli::restore(&config, &file).await,
        _ => {}
    }
    let db = open_db(&config).await?;
    let result = match command {
        // Migrating is what these two do; the others need the schema up to date.
        Command::Migrate | Command::Demo { .. } => Ok(()),
        _ => prepare_schema(&db, &config).await,
    };
    let result = match result {
        Ok(()) => dispatch(&db, command, &config, config_path).await,
        Err(e) => Err(e),
    };
    db.close().await?;
    result
}

/// Runs a command that works on the open database.
async fn dispatch(
    db: &Db,
    command: Command,
    config: &Config,
    config_path: &std::path::Path,
) -> anyhow::Result<()> {
    match command {
        Command::Migrate => {
            let pending = db.pending_migrations().await?;
            db.migrate().await?;
            eprintln!("Applied {pending} migration(s); the schema is up to date.");
            Ok(())
        }
        Command::Serve => serve::serve(db.clone(), config).await,
        Command::Init(args) => init_cli::run(db, config, args).await,
        Command::Import {
            kind,
            file,
            dir,
            encoding,
            delimiter,
        } => {
            exchange_cli::import(
                db,
                config,
                kind.as_deref(),
                file.as_deref(),
                dir.as_deref(),
                encoding.as_deref(),
                delimiter.as_deref(),
            )
            .await
        }
        Command::Receipts {
            period,
            accounts,
            out,
            zip,
            jobs,
        } => {
            let period =
                kabinet_domain::Period::parse(&period).map_err(|e| anyhow::anyhow!("--period: {e}"))?;
            // Checked here so that a bad template path is reported once.
            renderer(config)?;
            let exe = std::env::current_exe().context("finding the kabinet executable")?;
            let config_path = config_path.to_path_buf();
            let worker = move || {
                let mut command = std::process::Command::new(&exe);
                command.arg("--config").arg(&config_path).arg("render-worker");
                command
            };
            let (_, _, failed) = receipts_cli::run(
                db,
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
            .await?;
            if failed > 0 {
                bail!("{failed} receipt(s) failed; run the command again to retry them");
            }
            Ok(())
        }
        Command::Rules {
            action: RulesAction::Publish { file, title },
        } => residents_cli::publish(db, kabinet_domain::Document::Rules, &file, &title).await,
        Command::Consent {
            action: ConsentAction::Publish { file, title },
        } => residents_cli::publish(db, kabinet_domain::Document::Consent, &file, &title).await,
        Command::Passports { file } => residents_cli::passports(db, config, &file).await,
        Command::Registration { action } => {
            let (account, unlock) = match action {
                RegistrationAction::Status { account } => (account, false),
                RegistrationAction::Unlock { account } => (account, true),
            };
            residents_cli::registration(db, &account, unlock).await
        }
        Command::Suspend { at, until, message } => {
            residents_cli::suspend(db, at.as_deref(), until.as_deref(), &message).await
        }
        Command::Resume => residents_cli::resume(db).await,
        Command::Payments {
            status,
            reconcile,
            autopay,
        } => payments_cli::run(db, config, status.as_deref(), reconcile, autopay).await,
        Command::Staff { action } => staff_cli::run(db, config, action).await,
        Command::Jobs { action } => {
            jobs_cli::run(db, action.unwrap_or(JobsAction::List { dead: false })).await
        }
        Command::Outbox { failed } => residents_cli::outbox(db, failed).await,
        Command::Notify => notify_cli::run(db, config).await,
        Command::Export {
            kind,
            out,
            encoding,
            all,
            since,
        } => {
            let all = all || since.is_some();
            exchange_cli::export_cmd(db, &kind, out, encoding.as_deref(), all, since.as_deref()).await
        }
        Command::Demo {
            accounts,
            months,
            seed,
            no_serve,
            ..
        } => demo_cli::run(db, config, accounts, months, seed, no_serve).await,
        Command::DemoAccounts { count, residents } => demo_cli::sample(db, count, residents).await,
        Command::RenderWorker => render_workers::serve(&renderer(config)?),
        Command::Backup { .. } | Command::Restore { .. } => Ok(()),
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

pub(crate) fn renderer(config: &Config) -> anyhow::Result<kabinet_receipt::Renderer> {
    Ok(match &config.receipt_template {
        Some(path) => kabinet_receipt::Renderer::with_template(path)?,
        None => kabinet_receipt::Renderer::new(),
    })
}
