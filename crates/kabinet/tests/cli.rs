//! The `kabinet` binary end to end: demo → serve → /readyz, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, missing_docs)]

use kabinet_db::Repos;
use kabinet_testkit::{Engine, TestDb};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn kabinet(db_url: &str, data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kabinet"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KABINET_DATABASE_URL", db_url)
        .env("KABINET_DATA_DIR", data_dir)
        .env("KABINET_LISTEN", "127.0.0.1:0")
        .env("KABINET_CONFIG", data_dir.join("none.toml"))
        .stdin(Stdio::null());
    c
}

/// A running server that is killed when dropped.
struct Server {
    child: Child,
    addr: String,
    log: mpsc::Receiver<String>,
    /// What it said before it listened.
    started: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(mut cmd: Command) -> Server {
    let mut child = cmd.stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) => {
                if let Some(rest) = line.split("serving on http://").nth(1) {
                    let addr = rest.trim_end_matches('/').to_string();
                    return Server {
                        child,
                        addr,
                        log: rx,
                        started: seen,
                    };
                }
                seen.push(line);
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server did not start; it said:\n{}", seen.join("\n"));
            }
        }
    }
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, out)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn demo_serves_and_is_ready(engine: Engine) {
    let Some(t) = TestDb::unmigrated(engine).await else {
        return;
    };
    let dir = tempdir();
    let server = spawn({
        let mut c = kabinet(&t.url, &dir);
        c.args(["demo", "--accounts", "30", "--months", "2"]);
        c
    });
    let (status, body) = http_get(&server.addr, "/readyz");
    assert_eq!(status, 200, "{body}");
    let (status, body) = http_get(&server.addr, "/");
    assert_eq!(status, 200);
    assert!(body.contains("Северный квартал"));
    // A demo database pays through the sandbox, and says so.
    assert!(body.contains("Тестовый режим оплаты"), "{body}");
    assert!(
        http_get(&server.addr, "/api/v1/status")
            .1
            .contains("\"card_payments\":\"sandbox\"")
    );
    let log: Vec<String> = server.log.try_iter().collect();
    drop(server);
    let _ = log;
    assert_eq!(t.db.accounts().count().await.unwrap(), 30);
    // The demo's requests say what their category is about: no emergency
    // about a receipt, no office question about a leak.
    let demo_user =
        t.db.users()
            .by_email(&kabinet_domain::EmailAddress::parse("demo@example.com").unwrap())
            .await
            .unwrap()
            .unwrap();
    let (requests, _) = t.db.requests().list_of_user(demo_user.id, 100, 0).await.unwrap();
    assert!(!requests.is_empty());
    for r in &requests {
        let office_words = ["квитанц", "справк", "пересчита", "выписк"]
            .iter()
            .any(|w| r.text.to_lowercase().contains(w));
        assert!(!(r.emergency && office_words), "{}: {}", r.category, r.text);
        if r.category == "leak" {
            assert!(r.text.contains("Теч") || r.text.contains("Капает"), "{}", r.text);
        }
    }
    let counts = t.db.bulk().table_counts().await.unwrap();

    // A second run finds the demo and adds nothing.
    let out = kabinet(&t.url, &dir)
        .args(["demo", "--accounts", "30", "--months", "2", "--no-serve"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("already present"), "{}", text(&out));
    assert_eq!(t.db.bulk().table_counts().await.unwrap(), counts);

    // Accounts for load tests: ones nobody signed up with, then residents
    // with the demo password, the same ones again on a second call.
    let lines = |args: &[&str]| {
        let out = kabinet(&t.url, &dir).args(args).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let free = lines(&["demo-accounts", "--count", "3"]);
    assert_eq!(free.len(), 3, "{free:?}");
    for line in &free {
        let (number, kopecks) = line.split_once('\t').unwrap();
        assert!(kopecks.parse::<i64>().is_ok(), "{line}");
        let number: kabinet_domain::AccountNumber = number.parse().unwrap();
        assert!(
            t.db.users().by_account_number(&number).await.unwrap().is_none(),
            "{line}"
        );
    }
    let residents = lines(&["demo-accounts", "--count", "4", "--residents"]);
    assert_eq!(residents.len(), 4, "{residents:?}");
    for line in &residents {
        let number: kabinet_domain::AccountNumber = line.split('\t').next().unwrap().parse().unwrap();
        let user =
            t.db.users()
                .by_account_number(&number)
                .await
                .unwrap()
                .expect("a resident");
        assert!(
            user.email.as_str().starts_with("bench"),
            "{line}: {}",
            user.email.as_str()
        );
        assert!(!user.password_generated, "{line}: an own password");
    }
    assert_eq!(
        lines(&["demo-accounts", "--count", "4", "--residents"]),
        residents
    );

    // Plain `serve` on the same database.
    let server = spawn({
        let mut c = kabinet(&t.url, &dir);
        c.arg("serve");
        c
    });
    assert_eq!(http_get(&server.addr, "/readyz").0, 200);

    // The server queued its recurring jobs; `kabinet jobs` shows them, and
    // retries or discards a dead job only.
    let listing = kabinet(&t.url, &dir).arg("jobs").output().unwrap();
    assert!(listing.status.success(), "{}", text(&listing));
    for kind in ["reconcile_payments", "sweep_sessions", "return_deferred"] {
        assert!(text(&listing).contains(kind), "{kind}: {}", text(&listing));
    }
    let now = time::OffsetDateTime::now_utc();
    let job = kabinet_domain::jobs::NewJob {
        kind: "no_such_kind".into(),
        payload: "{}".into(),
        run_at: now,
        max_attempts: 1,
        unique_key: None,
    };
    let id = t.db.jobs().enqueue(&job, now).await.unwrap().unwrap();
    let claimed =
        t.db.jobs()
            .claim(&["no_such_kind"], now, time::Duration::minutes(1), 1, "t")
            .await
            .unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(t.db.jobs().bury(id, "t", "broken on purpose").await.unwrap());
    let dead = kabinet(&t.url, &dir)
        .args(["jobs", "list", "--dead"])
        .output()
        .unwrap();
    assert!(
        text(&dead).contains("broken on purpose") && !text(&dead).contains("sweep_sessions"),
        "{}",
        text(&dead)
    );
    let retried = kabinet(&t.url, &dir)
        .args(["jobs", "retry", &id.to_string()])
        .output()
        .unwrap();
    assert!(retried.status.success(), "{}", text(&retried));
    let again = kabinet(&t.url, &dir)
        .args(["jobs", "discard", &id.to_string()])
        .output()
        .unwrap();
    assert!(!again.status.success(), "a queued job is not discarded");
    assert!(t.db.jobs().get(id).await.unwrap().is_some());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_and_is_ready_sqlite() {
    demo_serves_and_is_ready(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_and_is_ready_postgres() {
    demo_serves_and_is_ready(Engine::Postgres).await;
}

/// Writes a demo of `accounts` accounts as a billing package into
/// `dir/pkg` and imports it with `kabinet import --dir`, as a new
/// organization would.
fn import_demo_package(url: &str, dir: &Path, accounts: u32) {
    let pkg = dir.join("pkg");
    let out = kabinet(url, dir)
        .args([
            "demo",
            "--accounts",
            &accounts.to_string(),
            "--months",
            "1",
            "--export-dir",
        ])
        .arg(&pkg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = kabinet(url, dir)
        .args(["import", "--dir"])
        .arg(&pkg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

/// A real installation (a billing package imported into an empty
/// database) takes no card payments until a gateway is chosen; the sandbox
/// runs only when asked for.
async fn an_installation_takes_no_card_payments_by_accident(engine: Engine) {
    let Some(t) = TestDb::new(engine).await else {
        return;
    };
    let dir = tempdir();
    import_demo_package(&t.url, &dir, 5);
    assert!(!t.db.organization().is_demo().await.unwrap());
    let server = spawn({
        let mut c = kabinet(&t.url, &dir);
        c.arg("serve");
        c
    });
    let said = server.started.join("\n");
    assert!(
        said.contains("First administrator: login admin, one-time password "),
        "{said}"
    );
    assert!(said.contains("INFO"), "the log lines are there: {said}");
    assert!(
        !said.contains('\u{1b}'),
        "no colour codes in a redirected log: {said}"
    );
    assert!(said.contains("organization's details are incomplete"), "{said}");
    assert!(
        said.contains("no personal-data consent text is published"),
        "{said}"
    );
    let (status, body) = http_get(&server.addr, "/api/v1/status");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"card_payments\":\"none\""), "{body}");
    assert!(
        !http_get(&server.addr, "/login")
            .1
            .contains("Тестовый режим оплаты")
    );
    drop(server);
    let server = spawn({
        let mut c = kabinet(&t.url, &dir);
        c.arg("serve").env("KABINET_PAYMENT_GATEWAY", "sandbox");
        c
    });
    let (_, body) = http_get(&server.addr, "/api/v1/status");
    assert!(body.contains("\"card_payments\":\"sandbox\""), "{body}");
    assert!(
        http_get(&server.addr, "/login")
            .1
            .contains("Тестовый режим оплаты"),
        "the banner on every page"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installation_takes_no_card_payments_by_accident_sqlite() {
    an_installation_takes_no_card_payments_by_accident(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installation_takes_no_card_payments_by_accident_postgres() {
    an_installation_takes_no_card_payments_by_accident(Engine::Postgres).await;
}

/// `kabinet init` on an imported database: incomplete details are refused
/// with the field named, complete ones and the first administrator are
/// stored once, and the portal then serves without the set-up notice.
async fn a_new_installation_is_set_up_from_the_command_line(engine: Engine) {
    let Some(t) = TestDb::new(engine).await else {
        return;
    };
    let dir = tempdir();
    import_demo_package(&t.url, &dir, 3);
    let out = kabinet(&t.url, &dir)
        .args(["init", "--short-name", "УК", "--inn", "7707083894"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("inn: The INN is not valid"), "{}", text(&out));
    assert!(t.db.staff().all().await.unwrap().is_empty(), "nothing half-done");
    let details = [
        "--name",
        "ООО «Новый дом»",
        "--short-name",
        "УК «Новый дом»",
        "--inn",
        "7707083893",
        "--address",
        "г. Москва, ул. Примерная, д. 1",
        "--phone",
        "+7 495 000-00-00",
        "--dispatch-phone",
        "+7 495 000-00-01",
        "--admin-login",
        "chief",
    ];
    let out = kabinet(&t.url, &dir).arg("init").args(details).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Added the administrator chief."));
    assert!(text(&out).contains("One-time password: "));
    assert!(!text(&out).contains("still missing"));
    assert!(text(&out).contains("kabinet consent publish"), "{}", text(&out));
    let out = kabinet(&t.url, &dir).arg("init").args(details).output().unwrap();
    assert!(!out.status.success(), "only once");
    assert!(text(&out).contains("has staff already"));
    let consent = dir.join("consent.txt");
    std::fs::write(&consent, "Оператор — УК «Новый дом».\n\nЦели обработки.").unwrap();
    let out = kabinet(&t.url, &dir)
        .args(["consent", "publish"])
        .arg(&consent)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("personal-data consent, version 1"),
        "{}",
        text(&out)
    );
    let server = spawn({
        let mut c = kabinet(&t.url, &dir);
        c.arg("serve");
        c
    });
    let said = server.started.join("\n");
    assert!(
        !said.contains("First administrator") && !said.contains("incomplete") && !said.contains("consent"),
        "{said}"
    );
    let (status, body) = http_get(&server.addr, "/login");
    assert_eq!(status, 200);
    assert!(body.contains("УК «Новый дом»") && !body.contains("Портал настраивается"));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_installation_is_set_up_from_the_command_line_sqlite() {
    a_new_installation_is_set_up_from_the_command_line(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_installation_is_set_up_from_the_command_line_postgres() {
    a_new_installation_is_set_up_from_the_command_line(Engine::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_serve_asks_for_migrations_first() {
    let Some(t) = TestDb::unmigrated(Engine::Postgres).await else {
        return;
    };
    let dir = tempdir();
    let out = kabinet(&t.url, &dir).arg("serve").output().unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("kabinet migrate"), "{}", text(&out));
    let out = kabinet(&t.url, &dir).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(t.db.pending_migrations().await.unwrap(), 0);
    let server = spawn({
        let mut c = kabinet(&t.url, &dir);
        c.arg("serve");
        c
    });
    assert_eq!(http_get(&server.addr, "/readyz").0, 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn default_database_is_sqlite_in_the_data_folder() {
    let dir = tempdir();
    let mut c = Command::new(env!("CARGO_BIN_EXE_kabinet"));
    c.env_clear()
        .env("KABINET_DATA_DIR", dir.join("data"))
        .env("KABINET_CONFIG", dir.join("none.toml"))
        .args(["demo", "--accounts", "3", "--months", "1", "--no-serve"]);
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Data folder:"), "{}", text(&out));
    assert!(dir.join("data/kabinet.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_configuration_is_reported() {
    let dir = tempdir();
    let out = kabinet("mysql://localhost/x", &dir)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("unsupported database URL"), "{}", text(&out));

    std::fs::write(dir.join("bad.toml"), "listen = 5\n").unwrap();
    let out = kabinet("sqlite://x.db", &dir)
        .env("KABINET_CONFIG", dir.join("bad.toml"))
        .env_remove("KABINET_LISTEN")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("configuration"), "{}", text(&out));

    let out = kabinet("sqlite://x.db", &dir)
        .args(["demo", "--accounts", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["demo", "--help"],
        &["demo-accounts", "--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_kabinet"))
            .args(sub)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(text(&out).contains("Usage"), "{}", text(&out));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_kabinet"))
        .args(["demo", "--help"])
        .output()
        .unwrap();
    assert!(text(&out).contains("--accounts"));
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("kabinet_cli_{}_{:x}", std::process::id(), fastrand_u64()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

async fn killed_import_leaves_nothing_half_written(engine: Engine) {
    let Some(t) = TestDb::new(engine).await else {
        return;
    };
    let dir = tempdir();
    let pkg = dir.join("pkg");
    let out = kabinet(&t.url, &dir)
        .args(["demo", "--accounts", "50000", "--months", "1", "--export-dir"])
        .arg(&pkg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    for kind in ["payees", "services", "accounts"] {
        let out = kabinet(&t.url, &dir)
            .args(["import", kind])
            .arg(pkg.join(format!("{kind}.csv")))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    let before = t.db.bulk().table_counts().await.unwrap();
    let mut child = kabinet(&t.url, &dir)
        .args(["import", "charges"])
        .arg(pkg.join("charges.csv"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the import is under way (its run is recorded), then kill it.
    let started = std::time::Instant::now();
    loop {
        let runs = t.db.exchange().exchange_runs(1).await.unwrap();
        if runs.first().is_some_and(|r| r.kind == "charges") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "import did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import finished before it could be killed"
    );
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert_eq!(
        t.db.bulk().table_counts().await.unwrap(),
        before,
        "nothing half-written"
    );
    let run = t.db.exchange().exchange_runs(1).await.unwrap().remove(0);
    assert_eq!(run.status, "running", "a killed run stays visible as unfinished");

    // Run again: everything goes in.
    let out = kabinet(&t.url, &dir)
        .args(["import", "charges"])
        .arg(pkg.join("charges.csv"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let lines = std::fs::read_to_string(pkg.join("charges.csv"))
        .unwrap()
        .lines()
        .count() as i64
        - 1;
    let charges =
        t.db.bulk()
            .table_counts()
            .await
            .unwrap()
            .into_iter()
            .find(|(n, _)| *n == "charges")
            .unwrap()
            .1;
    assert_eq!(charges, lines);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_import_leaves_nothing_half_written_sqlite() {
    killed_import_leaves_nothing_half_written(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_import_leaves_nothing_half_written_postgres() {
    killed_import_leaves_nothing_half_written(Engine::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_with_errors_exits_non_zero_and_lists_lines() {
    let t = TestDb::sqlite().await;
    let dir = tempdir();
    let file = dir.join("payees.csv");
    std::fs::write(&file, "code;name;inn;bank_name;bic;correspondent_account;settlement_account\nUK;УК;12;Банк;044525225;30101810400000000225;40702810000000000001\n").unwrap();
    let out = kabinet(&t.url, &dir)
        .args(["import", "payees"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("строка 2, столбец «inn»: ожидается 10 или 12 цифр"),
        "{said}"
    );
    assert!(said.contains("nothing was changed"), "{said}");
    let out = kabinet(&t.url, &dir)
        .args(["import", "nonsense"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("unknown kind"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_receipts_resume_and_zip() {
    let t = TestDb::sqlite().await;
    let dir = tempdir();
    let out = kabinet(&t.url, &dir)
        .args(["demo", "--accounts", "4", "--months", "1", "--no-serve"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let period =
        t.db.organization()
            .latest_period()
            .await
            .unwrap()
            .unwrap()
            .period
            .to_string();
    let folder = dir.join("out");
    let run = |zip: bool| {
        let mut c = kabinet(&t.url, &dir);
        c.args(["receipts", "--period", &period, "--out"]).arg(&folder);
        if zip {
            // More render processes than receipts to render.
            c.args(["--zip", "--jobs", "3"]);
        }
        c.output().unwrap()
    };
    let out = run(false);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("4 rendered, 0 already there, 0 failed"),
        "{}",
        text(&out)
    );
    // A file cut short (a crash mid-write) is rendered again; complete ones are skipped.
    let first = folder.join(format!("receipt-{period}-7100000001.pdf"));
    let bytes = std::fs::read(&first).unwrap();
    std::fs::write(&first, &bytes[..bytes.len() / 2]).unwrap();
    let out = run(true);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("1 rendered, 3 already there"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read(&first).unwrap().len(), bytes.len());
    assert!(folder.join(format!("receipts-{period}.zip")).exists());
    let out = kabinet(&t.url, &dir)
        .args(["receipts", "--period", "13.2026", "--out"])
        .arg(&folder)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("--period"), "{}", text(&out));

    // A broken custom template: every worker falls back to the built-in one.
    let custom = dir.join("mine.typ");
    std::fs::write(
        &custom,
        "#let d = json(bytes(sys.inputs.data))\n#d.no.such.field\n",
    )
    .unwrap();
    let other = dir.join("other");
    let out = kabinet(&t.url, &dir)
        .env("KABINET_RECEIPT_TEMPLATE", &custom)
        .args(["receipts", "--period", &period, "--jobs", "2", "--out"])
        .arg(&other)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("4 rendered"), "{}", text(&out));
    assert!(text(&out).contains("built-in template used"), "{}", text(&out));
    // A template that is not there stops the run before anything starts.
    let out = kabinet(&t.url, &dir)
        .env("KABINET_RECEIPT_TEMPLATE", dir.join("missing.typ"))
        .args(["receipts", "--period", &period, "--out"])
        .arg(dir.join("third"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("missing.typ"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The render worker `kabinet receipts` starts: one JSON job per line in, one
/// answer per line out; a bad job gets an error and the worker goes on.
#[test]
fn render_worker_protocol() {
    let dir = tempdir();
    let mut child = kabinet("sqlite::memory:", &dir)
        .arg("render-worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());
    let mut answer = || {
        let mut line = String::new();
        output.read_line(&mut line).unwrap();
        line
    };
    assert_eq!(answer().trim(), "\"Ready\"");
    writeln!(input, "not a job").unwrap();
    assert!(answer().contains("Failed"));
    let pdf = dir.join("receipt.pdf");
    let view = include_str!("receipt-view.json").replace('\n', "");
    writeln!(input, "{{\"path\":{:?},\"view\":{view}}}", pdf.to_str().unwrap()).unwrap();
    let written = answer();
    assert!(written.contains("Written"), "{written}");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF") && bytes.len() > 10_000);
    assert!(!dir.join("receipt.pdf.partial").exists());
    drop(input);
    assert!(
        child.wait().unwrap().success(),
        "the worker ends when its input closes"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_and_passports_from_the_command_line() {
    let t = TestDb::sqlite().await;
    let dir = tempdir();
    let mut o = kabinet_demo::DemoOptions::new(time::macros::date!(2026 - 11 - 24));
    o.accounts = 2;
    o.months = 1;
    kabinet_demo::generate(&t.db, &o, |_, _| {}).await.unwrap();
    let rules = dir.join("rules.txt");
    std::fs::write(&rules, "Первый абзац.\n\nВторой абзац.\n").unwrap();
    let out = kabinet(&t.url, &dir)
        .args(["rules", "publish", "--title", "Правила, редакция 1"])
        .arg(&rules)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let current = t.db.rules().current().await.unwrap().unwrap();
    assert_eq!(
        (current.version, current.title.as_str()),
        (1, "Правила, редакция 1")
    );
    assert!(current.body.contains("Второй абзац."));

    // A file with one bad line stores nothing.
    let number =
        t.db.accounts()
            .by_id(kabinet_domain::AccountId(1))
            .await
            .unwrap()
            .unwrap()
            .number;
    let file = dir.join("passports.csv");
    std::fs::write(&file, format!("{number};2815 123456\n99999;2815 654321\n")).unwrap();
    let out = kabinet(&t.url, &dir)
        .arg("passports")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("line 2: account 99999 not found"),
        "{}",
        text(&out)
    );
    assert!(
        t.db.accounts()
            .passport_hash(kabinet_domain::AccountId(1))
            .await
            .unwrap()
            .is_none()
    );
    std::fs::write(&file, format!("{number};2815 123456\n")).unwrap();
    let out = kabinet(&t.url, &dir)
        .arg("passports")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stored =
        t.db.accounts()
            .passport_hash(kabinet_domain::AccountId(1))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(stored.len(), 64);
    assert!(!stored.contains("123456"));
    // The key was created in the data folder, readable only by its owner.
    let key = dir.join("secret.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_unlock_a_locked_registration() {
    let t = TestDb::sqlite().await;
    let dir = tempdir();
    let mut o = kabinet_demo::DemoOptions::new(time::macros::date!(2026 - 11 - 24));
    o.accounts = 1;
    o.months = 1;
    kabinet_demo::generate(&t.db, &o, |_, _| {}).await.unwrap();
    let account = kabinet_domain::AccountId(1);
    let number = t.db.accounts().by_id(account).await.unwrap().unwrap().number;
    // Ten failed checks today, as registration counts them.
    let kind = kabinet_db::counters::CounterKind::Registration;
    let window = kabinet_domain::AccountThrottle::REGISTRATION.window;
    let mut counter = kabinet_domain::Counter::default();
    for _ in 0..10 {
        counter = counter.after_event(time::OffsetDateTime::now_utc(), window);
    }
    let tx = t.db.begin().await.unwrap();
    tx.counters().lock(account, kind).await.unwrap();
    tx.counters().store(account, kind, counter).await.unwrap();
    tx.commit().await.unwrap();
    let out = kabinet(&t.url, &dir)
        .args(["registration", "status", number.as_str()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("10 failed check(s) today; registration refused until"),
        "{}",
        text(&out)
    );
    let out = kabinet(&t.url, &dir)
        .args(["registration", "unlock", number.as_str()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(t.db.counters().get(account, kind).await.unwrap().count, 0);
    let audit = t.db.audit().lines(Some(account), 10).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|l| l.event == "registration_unlocked" && l.details.contains("10 failed")),
        "{audit:?}"
    );
    let out = kabinet(&t.url, &dir)
        .args(["registration", "unlock", "NO-SUCH"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("not found"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_are_listed_and_reconciled_from_the_command_line() {
    let t = TestDb::sqlite().await;
    let dir = tempdir();
    let mut o = kabinet_demo::DemoOptions::new(time::macros::date!(2026 - 11 - 24));
    o.accounts = 2;
    o.months = 1;
    kabinet_demo::generate(&t.db, &o, |_, _| {}).await.unwrap();
    // A payment whose server stopped before it called the (sandbox) gateway.
    let now = time::OffsetDateTime::now_utc();
    let tx = t.db.begin().await.unwrap();
    let user = tx
        .users()
        .insert(&kabinet_db::users::NewUser {
            account_id: kabinet_domain::AccountId(1),
            email: kabinet_domain::EmailAddress::parse("cli@example.ru").unwrap(),
            password_hash: String::new(),
            password_expires_at: now,
            rules_version: 0,
            consent_version: 0,
            now,
        })
        .await
        .unwrap()
        .unwrap();
    tx.card_payments()
        .insert(&kabinet_db::card_payments::NewCardPayment {
            public_id: "stuck-payment".into(),
            user_id: user,
            gateway: "sandbox".into(),
            amount: kabinet_domain::Kopecks(12_345),
            description: "Оплата ЖКУ".into(),
            email: Some("cli@example.ru".into()),
            ip: "192.0.2.1".into(),
            now: now - time::Duration::minutes(10),
            first_check: now - time::Duration::minutes(5),
            open_until: now + time::Duration::days(5),
            shares: vec![(kabinet_domain::AccountId(1), kabinet_domain::Kopecks(12_345))],
            test: true,
            method: None,
            fee: kabinet_domain::Kopecks::ZERO,
            save_method: false,
            saved_method_id: None,
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let out = kabinet(&t.url, &dir)
        .args(["payments", "--status", "created"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("stuck-payment\tcreated\t123.45"),
        "{}",
        text(&out)
    );
    let out = kabinet(&t.url, &dir)
        .args(["payments", "--reconcile"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Reconciled: 1 checked, 0 settled, 0 expired."),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("stuck-payment\tpending\t123.45"),
        "{}",
        text(&out)
    );
    let p =
        t.db.card_payments()
            .by_public_id("stuck-payment")
            .await
            .unwrap()
            .unwrap();
    assert!(
        p.gateway_id.as_deref().is_some_and(|g| g.starts_with("sbx-")),
        "{p:?}"
    );
    assert_eq!(p.checks, 1);
    let out = kabinet(&t.url, &dir)
        .args(["payments", "--status", "paid"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("unknown status"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// One HTTP request with a JSON body (or none) and an optional bearer token:
/// the status and the body.
fn http_json(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string();
    (status, body)
}

/// `kabinet backup` while residents start card payments, then `kabinet
/// restore` into an empty folder: every payment acknowledged before the
/// backup began is there, the key came along (a token issued before still
/// works), and a second restore over it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_load_restores_every_acknowledged_row() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Instant;
    let dir = tempdir();
    let url = format!("sqlite://{}", dir.join("kabinet.db").display());
    let out = kabinet(&url, &dir)
        .args(["demo", "--accounts", "20", "--months", "2", "--no-serve"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    std::fs::create_dir_all(dir.join("help")).unwrap();
    std::fs::write(dir.join("help/guide.ru.txt"), "Справка организации\n").unwrap();
    let out = kabinet(&url, &dir)
        .args(["demo-accounts", "--count", "4", "--residents"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let numbers: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    let server = spawn({
        let mut c = kabinet(&url, &dir);
        c.env("KABINET_PAYMENT_STARTS_PER_HOUR", "100000").arg("serve");
        c
    });
    let addr = server.addr.clone();
    let tokens: Vec<(String, String)> = numbers
        .iter()
        .map(|n| {
            let body = serde_json::json!({"account": n, "password": kabinet_app::site::DEMO_PASSWORD});
            let (status, body) = http_json(&addr, "POST", "/api/v1/auth/token", None, &body.to_string());
            assert_eq!(status, 200, "{body}");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            (n.clone(), v["token"].as_str().unwrap().to_string())
        })
        .collect();

    // Residents start payments, each remembered once acknowledged.
    let acked: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = tokens
        .iter()
        .cloned()
        .map(|(number, token)| {
            let (acked, stop, addr) = (acked.clone(), stop.clone(), addr.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let body = serde_json::json!({"shares": [{"account": number, "amount": "123.45"}]});
                    let (status, body) =
                        http_json(&addr, "POST", "/api/v1/payments", Some(&token), &body.to_string());
                    assert_eq!(status, 201, "{body}");
                    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                    let id = v["payment"]["id"].as_str().unwrap().to_string();
                    acked.lock().unwrap().push((id, Instant::now()));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let backup = dir.join("backups").join("kabinet-backup.zip");
    let began = Instant::now();
    let out = kabinet(&url, &dir)
        .args(["backup", "--out"])
        .arg(&backup)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("with the server key"), "{}", text(&out));
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().unwrap();
    }
    drop(server);
    let all = acked.lock().unwrap().clone();
    let before: Vec<&String> = all
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(id, _)| id)
        .collect();
    assert!(
        before.len() >= 10,
        "only {} payments before the backup",
        before.len()
    );
    assert!(all.len() > before.len(), "no payment went in while it ran");
    // A second backup to the same file is refused; the first is intact.
    let out = kabinet(&url, &dir)
        .args(["backup", "--out"])
        .arg(&backup)
        .output()
        .unwrap();
    assert!(!out.status.success());

    // Restore into an empty folder.
    let fresh = tempdir();
    let url2 = format!("sqlite://{}", fresh.join("kabinet.db").display());
    let out = kabinet(&url2, &fresh)
        .arg("restore")
        .arg(&backup)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read(fresh.join("secret.key")).unwrap(),
        std::fs::read(dir.join("secret.key")).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(fresh.join("help/guide.ru.txt")).unwrap(),
        "Справка организации\n"
    );
    // Not over a database.
    let out = kabinet(&url2, &fresh)
        .arg("restore")
        .arg(&backup)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("exists"), "{}", text(&out));
    // Not from something else.
    let other = tempdir();
    let url3 = format!("sqlite://{}", other.join("kabinet.db").display());
    let out = kabinet(&url3, &other)
        .arg("restore")
        .arg(dir.join("secret.key"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("not a Kabinet backup"), "{}", text(&out));

    let restored = kabinet_db::Db::connect(&kabinet_db::DbOptions::new(url2.clone()))
        .await
        .unwrap();
    let mut missing = Vec::new();
    for id in &before {
        if restored.card_payments().by_public_id(id).await.unwrap().is_none() {
            missing.push((*id).clone());
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged payments missing",
        missing.len(),
        before.len()
    );
    let in_backup = {
        let mut n = 0;
        for (id, _) in &all {
            if restored.card_payments().by_public_id(id).await.unwrap().is_some() {
                n += 1;
            }
        }
        n
    };
    assert!(in_backup >= before.len() && in_backup <= all.len());
    restored.close().await.unwrap();
    eprintln!(
        "{} payments acknowledged before the backup, all restored; {} of {} in all",
        before.len(),
        in_backup,
        all.len()
    );

    // The restored installation serves, and a token issued before works.
    let server = spawn({
        let mut c = kabinet(&url2, &fresh);
        c.arg("serve");
        c
    });
    let (status, body) = http_json(&server.addr, "GET", "/api/v1/payments", Some(&tokens[0].1), "");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(!v["payments"].as_array().unwrap().is_empty(), "{body}");
}

/// On PostgreSQL both commands point to its own tools.
#[tokio::test]
async fn backup_on_postgres_points_to_pg_dump() {
    let Some(t) = TestDb::new(Engine::Postgres).await else {
        return;
    };
    let dir = tempdir();
    let out = kabinet(&t.url, &dir)
        .args(["backup", "--out"])
        .arg(dir.join("b.zip"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("pg_dump"), "{}", text(&out));
    let out = kabinet(&t.url, &dir).args(["restore", "b.zip"]).output().unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("pg_restore"), "{}", text(&out));
}

/// How many migrations the previous release shipped. Released migrations are
/// never edited, so the first this-many of today's list build its schema.
const PREVIOUS_RELEASE_MIGRATIONS: u32 = 26;

/// A database as the previous release left it, with a demo organization in
/// it, is brought up to date by `kabinet migrate`; nothing is lost and the
/// server then serves it.
async fn an_older_database_is_upgraded_by_migrate(engine: Engine) {
    let Some(t) = TestDb::unmigrated(engine).await else {
        return;
    };
    t.db.migrate_steps(PREVIOUS_RELEASE_MIGRATIONS).await.unwrap();
    let pending = t.db.pending_migrations().await.unwrap();
    assert!(pending >= 1, "this release adds migrations");
    let mut o = kabinet_demo::DemoOptions::new(time::macros::date!(2026 - 11 - 24));
    o.accounts = 12;
    o.months = 2;
    kabinet_demo::generate(&t.db, &o, |_, _| {}).await.unwrap();
    let before = t.db.bulk().table_counts().await.unwrap();
    let dir = tempdir();
    if engine == Engine::Postgres {
        // PostgreSQL is not migrated by the server: it refuses a schema behind.
        let out = kabinet(&t.url, &dir).arg("serve").output().unwrap();
        assert!(!out.status.success());
        assert!(text(&out).contains("kabinet migrate"), "{}", text(&out));
    }
    let out = kabinet(&t.url, &dir).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("Applied {pending} migration(s)")),
        "{}",
        text(&out)
    );
    assert_eq!(t.db.pending_migrations().await.unwrap(), 0);
    assert_eq!(t.db.bulk().table_counts().await.unwrap(), before);
    let out = kabinet(&t.url, &dir).arg("migrate").output().unwrap();
    assert!(text(&out).contains("Applied 0 migration(s)"), "{}", text(&out));
    let server = spawn({
        let mut c = kabinet(&t.url, &dir);
        c.arg("serve");
        c
    });
    let (status, body) = http_get(&server.addr, "/readyz");
    assert_eq!(status, 200, "{body}");
    let numbers = kabinet(&t.url, &dir)
        .args(["demo-accounts", "--count", "1", "--residents"])
        .output()
        .unwrap();
    assert!(numbers.status.success(), "{}", text(&numbers));
    let number = String::from_utf8(numbers.stdout)
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    let body = serde_json::json!({"account": number, "password": kabinet_app::site::DEMO_PASSWORD});
    let (status, body) = http_json(
        &server.addr,
        "POST",
        "/api/v1/auth/token",
        None,
        &body.to_string(),
    );
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_database_is_upgraded_by_migrate_sqlite() {
    an_older_database_is_upgraded_by_migrate(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_database_is_upgraded_by_migrate_postgres() {
    an_older_database_is_upgraded_by_migrate(Engine::Postgres).await;
}
