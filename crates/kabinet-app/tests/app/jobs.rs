//! The job runner against a real database: leases outlive a runner that
//! died, two runners never run one job, failures back off and end dead,
//! recurring jobs keep one row, and the real kinds (e-mail, deferred
//! requests) have their effect once.

use crate::use_cases::{app, demo};
use kabinet_app::jobs::{Attempt, Job, JobEnv, JobError, Ran, Runner, RunnerSettings};
use kabinet_db::jobs::JobFilter;
use kabinet_db::{Db, Repos};
use kabinet_domain::jobs::{EMAIL, JobStatus};
use kabinet_domain::{Email, EmailAddress, OutboxStatus};
use kabinet_notify::{MailConfig, Mailer, SmtpTls};
use kabinet_testkit::db_tests;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// Every run of a [`Probe`]: (test key, job number).
static RUNS: Mutex<Vec<(String, u32)>> = Mutex::new(Vec::new());

/// A job that records that it ran, and fails when told to.
#[derive(Serialize, Deserialize)]
struct Probe {
    key: String,
    n: u32,
    fail: bool,
}

impl Job for Probe {
    const KIND: &'static str = "probe";
    const MAX_ATTEMPTS: i32 = 3;

    async fn run(&self, _env: &JobEnv, _attempt: Attempt) -> Result<(), JobError> {
        // Long enough for two runners to overlap.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        if self.fail {
            return Err("the probe fails".into());
        }
        RUNS.lock().unwrap().push((self.key.clone(), self.n));
        Ok(())
    }
}

fn runs(key: &str) -> Vec<u32> {
    let mut v: Vec<u32> = RUNS
        .lock()
        .unwrap()
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, n)| *n)
        .collect();
    v.sort_unstable();
    v
}

fn key() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        OffsetDateTime::now_utc().unix_timestamp_nanos()
    )
}

fn env(db: &Db, mailer: Mailer) -> JobEnv {
    JobEnv {
        app: Arc::new(app(db)),
        mailer: Arc::new(mailer),
    }
}

fn files(dir: &std::path::Path) -> Mailer {
    Mailer::new(&MailConfig::Files {
        dir: dir.to_path_buf(),
        from: "noreply@example.ru".into(),
    })
    .unwrap()
}

fn probe_runner(db: &Db, concurrency: usize) -> Runner {
    let dir = std::env::temp_dir().join(format!("kabinet_jobs_{}", key()));
    let settings = RunnerSettings {
        concurrency,
        ..Default::default()
    };
    Runner::empty(env(db, files(&dir)), settings).register::<Probe>()
}

async fn queue(db: &Db, p: &Probe, at: OffsetDateTime) {
    kabinet_app::jobs::enqueue(db, p, at, at).await.unwrap().unwrap();
}

fn mail(to: &str) -> Email {
    Email {
        to: EmailAddress::parse(to).unwrap(),
        subject: "Проверка".into(),
        text: "Текст письма".into(),
        html: "<p>Текст письма</p>".into(),
    }
}

db_tests! {
    async fn two_runners_never_run_the_same_job(t: &TestDb) {
        let k = key();
        let now = OffsetDateTime::now_utc();
        for n in 0..40 {
            queue(&t.db, &Probe { key: k.clone(), n, fail: false }, now).await;
        }
        let (a, b) = (probe_runner(&t.db, 4), probe_runner(&t.db, 4));
        let (ra, rb) = tokio::join!(a.run_due(None, now), b.run_due(None, now));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(ra.len() + rb.len(), 40, "each job claimed once");
        assert!(ra.iter().chain(&rb).all(|r| *r == Ran::Done));
        assert_eq!(runs(&k), (0..40).collect::<Vec<_>>(), "each job ran exactly once");
        assert!(t.db.jobs().list(JobFilter::All, now, 10).await.unwrap().is_empty(), "done jobs are gone");
    }

    async fn a_job_whose_runner_died_runs_again_after_its_lease(t: &TestDb) {
        let k = key();
        let now = OffsetDateTime::now_utc();
        queue(&t.db, &Probe { key: k.clone(), n: 7, fail: false }, now).await;
        // A runner takes it and dies without an outcome.
        let taken = t.db.jobs().claim(&["probe"], now, Duration::minutes(2), 10, "dead-runner").await.unwrap();
        assert_eq!(taken.len(), 1);
        let runner = probe_runner(&t.db, 2);
        assert!(runner.run_due(None, now + Duration::minutes(1)).await.unwrap().is_empty(), "leased: left alone");
        let counts = t.db.jobs().counts(now + Duration::minutes(1)).await.unwrap();
        assert_eq!((counts.waiting, counts.running, counts.dead), (0, 1, 0));
        let ran = runner.run_due(None, now + Duration::minutes(3)).await.unwrap();
        assert_eq!(ran, vec![Ran::Done]);
        assert_eq!(runs(&k), vec![7], "its effect happened once");
        // The dead runner's late outcome changes nothing.
        assert!(!t.db.jobs().done(taken[0].job.id, "dead-runner").await.unwrap());
    }

    async fn failures_back_off_then_the_job_is_kept_dead(t: &TestDb) {
        let k = key();
        let now = OffsetDateTime::now_utc();
        queue(&t.db, &Probe { key: k.clone(), n: 1, fail: true }, now).await;
        let runner = probe_runner(&t.db, 1);
        assert_eq!(runner.run_due(None, now).await.unwrap(), vec![Ran::Retry]);
        let job = t.db.jobs().list(JobFilter::All, now, 10).await.unwrap().pop().unwrap();
        assert_eq!(job.attempts, 1);
        assert_eq!(job.last_error, "the probe fails");
        assert!(job.run_at >= now + Duration::seconds(30), "waits 30 s: {}", job.run_at);
        assert!(runner.run_due(None, now + Duration::seconds(10)).await.unwrap().is_empty(), "not due yet");
        let later = job.run_at + Duration::seconds(1);
        assert_eq!(runner.run_due(None, later).await.unwrap(), vec![Ran::Retry]);
        let job = t.db.jobs().get(job.id).await.unwrap().unwrap();
        assert!(job.run_at >= later + Duration::seconds(60), "the wait doubled");
        assert_eq!(runner.run_due(None, job.run_at + Duration::seconds(1)).await.unwrap(), vec![Ran::Dead]);
        let dead = t.db.jobs().list(JobFilter::Dead, now, 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!((dead[0].status, dead[0].attempts), (JobStatus::Dead, 3));
        assert!(runner.run_due(None, now + Duration::days(1)).await.unwrap().is_empty(), "a dead job is not run");
        // A person retries it (due now, attempts reset), then discards it.
        assert!(t.db.jobs().retry(job.id, now).await.unwrap());
        let job = t.db.jobs().get(job.id).await.unwrap().unwrap();
        assert_eq!((job.status, job.attempts), (JobStatus::Queued, 0));
        assert!(!t.db.jobs().discard(job.id).await.unwrap(), "only a dead job is discarded");
        assert_eq!(runner.run_due(None, now).await.unwrap(), vec![Ran::Retry]);
        assert!(runs(&k).is_empty());
    }

    async fn recurring_jobs_keep_one_row_and_move_on(t: &TestDb) {
        demo(&t.db).await;
        let dir = std::env::temp_dir().join(format!("kabinet_jobs_{}", key()));
        let runner = Runner::new(env(&t.db, files(&dir)), RunnerSettings::default()).unwrap();
        let now = OffsetDateTime::now_utc();
        runner.ensure_recurring(now).await.unwrap();
        runner.ensure_recurring(now).await.unwrap();
        let jobs = t.db.jobs().list(JobFilter::All, now, 20).await.unwrap();
        let mut kinds: Vec<&str> = jobs.iter().map(|j| j.kind.as_str()).collect();
        kinds.sort_unstable();
        assert_eq!(kinds, ["autopay", "max_updates", "notify_email", "notify_max", "notify_produce", "notify_sms", "reconcile_payments", "return_deferred", "sms_status", "sweep_sessions"]);
        let ran = runner.run_due(None, now).await.unwrap();
        assert_eq!(ran, vec![Ran::Done; 10]);
        let jobs = t.db.jobs().list(JobFilter::All, now, 20).await.unwrap();
        assert_eq!(jobs.len(), 10, "still one row a kind");
        for j in &jobs {
            assert!(j.run_at > now, "{} moved on to its next time", j.kind);
            assert_eq!((j.attempts, j.locked_until), (0, None));
        }
        let sweep = jobs.iter().find(|j| j.kind == "sweep_sessions").unwrap();
        assert!(sweep.run_at <= now + Duration::minutes(10));
    }

    async fn deferred_requests_come_back_once(t: &TestDb) {
        demo(&t.db).await;
        let a = app(&t.db);
        kabinet_app::demo::ensure_demo_resident(&t.db).await.unwrap();
        kabinet_app::demo::ensure_demo_requests(&t.db, Default::default(), &kabinet_app::staff::SecretBox::new(
            &kabinet_app::auth::ServerKey::from_text(&"5a".repeat(32)).unwrap(),
        )).await.unwrap();
        // Staff defer the new ones to a day ahead.
        let now = OffsetDateTime::now_utc();
        for id in 1..=12 {
            let Some(r) = t.db.requests().get(kabinet_domain::RequestId(id)).await.unwrap() else { continue };
            if r.status != kabinet_domain::requests::RequestStatus::New {
                continue;
            }
            t.db.requests().change_status(kabinet_domain::RequestId(id), &kabinet_db::requests::StatusChange {
                from: r.status,
                to: kabinet_domain::requests::RequestStatus::Deferred,
                staff_id: None,
                body: String::new(),
                due_at: None,
                deferred_until: Some((now + Duration::days(5)).date()),
                rating: None,
                reopened: false,
                assign_to: None,
                now,
            }).await.unwrap();
        }
        assert!(t.db.requests().deferred_due(now.date(), 1000).await.unwrap().is_empty(), "not yet");
        let later = now + Duration::days(40);
        let deferred = t.db.requests().deferred_due(later.date(), 1000).await.unwrap();
        assert!(!deferred.is_empty(), "the demo has deferred requests");
        let dir = std::env::temp_dir().join(format!("kabinet_jobs_{}", key()));
        let job = kabinet_app::jobs::requests::ReturnDeferred::default();
        let attempt = Attempt { number: 1, last: false, now: later };
        // Run, then "crash" before the outcome is written and run again.
        job.run(&env(&t.db, files(&dir)), attempt).await.unwrap();
        job.run(&env(&t.db, files(&dir)), attempt).await.unwrap();
        assert!(t.db.requests().deferred_due(later.date(), 1000).await.unwrap().is_empty());
        for r in &deferred {
            let back = t.db.requests().get(r.id).await.unwrap().unwrap();
            assert_eq!(back.status, kabinet_domain::requests::RequestStatus::New);
            let returns = t.db.requests().events(r.id, true).await.unwrap().into_iter()
                .filter(|e| e.to_status == Some(kabinet_domain::requests::RequestStatus::New) && e.from_status == Some(kabinet_domain::requests::RequestStatus::Deferred))
                .count();
            assert_eq!(returns, 1, "request {} came back once", r.id);
        }
        drop(a);
    }

    async fn an_email_is_delivered_once_and_a_failing_server_is_retried(t: &TestDb) {
        let dir = std::env::temp_dir().join(format!("kabinet_jobs_{}", key()));
        let now = OffsetDateTime::now_utc();
        t.db.outbox().queue(&mail("a@example.ru"), None, now).await.unwrap();
        t.db.outbox().queue(&mail("b@example.ru"), None, now).await.unwrap();
        let runner = Runner::new(env(&t.db, files(&dir)), RunnerSettings::default()).unwrap();
        assert_eq!(runner.run_due(Some(&[EMAIL]), now).await.unwrap(), vec![Ran::Done, Ran::Done]);
        assert!(runner.run_due(Some(&[EMAIL]), now).await.unwrap().is_empty(), "nothing twice");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
        let sent = t.db.outbox().messages(Some(OutboxStatus::Sent), 10).await.unwrap();
        assert!(sent.len() == 2 && sent.iter().all(|m| m.attempts == 1));
        let _ = std::fs::remove_dir_all(&dir);

        // A port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let down = Mailer::new(&MailConfig::Smtp {
            host: "127.0.0.1".into(), port, tls: SmtpTls::None, username: None, password: None,
            from: "noreply@example.ru".into(),
        }).unwrap();
        t.db.outbox().queue(&mail("c@example.ru"), None, now).await.unwrap();
        let runner = Runner::new(env(&t.db, down), RunnerSettings::default()).unwrap();
        assert_eq!(runner.run_due(Some(&[EMAIL]), now).await.unwrap(), vec![Ran::Retry]);
        let m = t.db.outbox().messages(Some(OutboxStatus::Pending), 10).await.unwrap().pop().unwrap();
        assert_eq!(m.attempts, 1);
        assert!(!m.last_error.is_empty(), "the error is kept");
        let job = t.db.jobs().list(JobFilter::All, now, 10).await.unwrap().pop().unwrap();
        assert_eq!((job.kind.as_str(), job.attempts), (EMAIL, 1));
        assert!(job.run_at > now);
    }
}
