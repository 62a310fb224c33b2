//! The runner: claims due jobs, runs them a few at a time, records each
//! outcome, and on shutdown lets running jobs finish within a deadline.

use super::{Attempt, Job, JobEnv, JobError, Recurring, Schedule};
use futures::future::BoxFuture;
use kabinet_db::{DbError, Repos};
use kabinet_domain::jobs::{AfterFailure, Claimed, NewJob, after_failure, recurring_retry};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use time::{Duration, OffsetDateTime};
use tokio::task::JoinSet;

type Handler = Arc<dyn Fn(JobEnv, String, Attempt) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

/// A registered kind.
#[derive(Clone)]
struct Kind {
    max_attempts: i32,
    timeout: StdDuration,
    schedule: Option<(Schedule, String)>,
    handler: Handler,
}

/// How a runner works.
#[derive(Debug, Clone, Copy)]
pub struct RunnerSettings {
    /// Jobs run at once by this runner.
    pub concurrency: usize,
    /// How often it looks for due jobs when idle.
    pub poll: StdDuration,
    /// How long running jobs may go on after shutdown is asked for.
    pub shutdown_deadline: StdDuration,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        RunnerSettings {
            concurrency: 4,
            poll: StdDuration::from_secs(2),
            shutdown_deadline: StdDuration::from_secs(30),
        }
    }
}

/// What one job's attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// It succeeded.
    Done,
    /// It failed and runs again later.
    Retry,
    /// It failed for the last time and is kept dead.
    Dead,
    /// Its lease had passed before the outcome was written: another runner
    /// holds it now, and this outcome was dropped.
    Lost,
}

/// Claims and runs jobs of the registered kinds.
#[derive(Clone)]
pub struct Runner {
    env: JobEnv,
    kinds: HashMap<&'static str, Kind>,
    settings: RunnerSettings,
}

impl Runner {
    /// A runner of every kind Kabinet has.
    pub fn new(env: JobEnv, settings: RunnerSettings) -> Result<Runner, super::schedule::ScheduleError> {
        Runner::empty(env, settings)
            .register::<super::email::SendEmail>()
            .register::<super::announcements::NotifyAnnouncement>()
            .register::<super::announcements::NotifyDocument>()
            .register::<super::requests::EscalateEmergency>()
            .register::<super::imports::CheckPackage>()
            .register::<super::notify::SendSms>()
            .recurring::<super::payments::ReconcilePayments>()?
            .recurring::<super::payments::RunAutopay>()?
            .recurring::<super::sessions::SweepSessions>()?
            .recurring::<super::requests::ReturnDeferred>()?
            .recurring::<super::notify::ProduceNotifications>()?
            .recurring::<super::notify::SendNotifications>()?
            .recurring::<super::notify::SendSmsNotifications>()?
            .recurring::<super::notify::PollSms>()?
            .recurring::<super::notify::SendMaxNotifications>()?
            .recurring::<super::notify::PollMax>()
    }

    /// A runner that knows no kind yet.
    pub fn empty(env: JobEnv, settings: RunnerSettings) -> Runner {
        Runner {
            env,
            kinds: HashMap::new(),
            settings,
        }
    }

    /// Adds a kind run when queued.
    pub fn register<J: Job>(mut self) -> Runner {
        self.add::<J>(None);
        self
    }

    /// Adds a kind run on its schedule.
    pub fn recurring<J: Recurring>(mut self) -> Result<Runner, super::schedule::ScheduleError> {
        let schedule = Schedule::parse(J::SCHEDULE, self.env.app.requests.clock().offset)?;
        let payload = serde_json::to_string(&J::default()).unwrap_or_else(|_| "null".into());
        self.add::<J>(Some((schedule, payload)));
        Ok(self)
    }

    fn add<J: Job>(&mut self, schedule: Option<(Schedule, String)>) {
        let handler: Handler = Arc::new(|env, payload, attempt| {
            Box::pin(async move {
                let job: J = serde_json::from_str(&payload)?;
                job.run(&env, attempt).await
            })
        });
        let kind = Kind {
            max_attempts: J::MAX_ATTEMPTS,
            timeout: J::TIMEOUT,
            schedule,
            handler,
        };
        self.kinds.insert(J::KIND, kind);
    }

    /// Queues the recurring kinds that have no row yet, due at once.
    pub async fn ensure_recurring(&self, now: OffsetDateTime) -> Result<(), DbError> {
        for (name, kind) in self.kinds.iter() {
            if let Some((_, payload)) = &kind.schedule {
                let job = NewJob {
                    kind: (*name).into(),
                    payload: payload.clone(),
                    run_at: now,
                    max_attempts: kind.max_attempts,
                    unique_key: Some((*name).into()),
                };
                self.env.app.db().jobs().enqueue(&job, now).await?;
            }
        }
        Ok(())
    }

    /// Claims what is due at `now` (of `only` these kinds, or all) and runs
    /// it to the end, batch after batch; returns every outcome. For the
    /// command line and tests; servers use [`Runner::run`].
    pub async fn run_due(&self, only: Option<&[&str]>, now: OffsetDateTime) -> Result<Vec<Ran>, DbError> {
        let mut outcomes = Vec::new();
        loop {
            let batch = self.claim(only, now, self.settings.concurrency.max(1)).await?;
            if batch.is_empty() {
                return Ok(outcomes);
            }
            let runs = batch.into_iter().map(|c| self.execute(c, now));
            for r in futures::future::join_all(runs).await {
                outcomes.push(r?);
            }
        }
    }

    async fn claim(
        &self,
        only: Option<&[&str]>,
        now: OffsetDateTime,
        n: usize,
    ) -> Result<Vec<Claimed>, DbError> {
        let kinds: Vec<&str> = match only {
            Some(k) => k.iter().copied().filter(|k| self.kinds.contains_key(k)).collect(),
            None => self.kinds.keys().copied().collect(),
        };
        // Each kind is leased for its own time-out (and 30 s): a server
        // killed mid-job holds a one-minute job for a minute and a half, not
        // for the hour a package's import may take. Kinds of one time-out
        // are claimed together.
        let mut by_lease: std::collections::BTreeMap<StdDuration, Vec<&str>> = Default::default();
        for k in kinds {
            if let Some(kind) = self.kinds.get(k) {
                by_lease.entry(kind.timeout).or_default().push(k);
            }
        }
        let token = crate::auth::secrets::new_token();
        let mut claimed = Vec::new();
        for (timeout, group) in by_lease {
            let left = n.saturating_sub(claimed.len());
            if left == 0 {
                break;
            }
            let lease =
                Duration::try_from(timeout + StdDuration::from_secs(30)).unwrap_or(Duration::minutes(5));
            claimed.extend(
                self.env
                    .app
                    .db()
                    .jobs()
                    .claim(&group, now, lease, left as u64, &token)
                    .await?,
            );
        }
        Ok(claimed)
    }

    /// Runs one claimed job and writes its outcome.
    async fn execute(&self, c: Claimed, now: OffsetDateTime) -> Result<Ran, DbError> {
        let db = self.env.app.db();
        let Some(kind) = self.kinds.get(c.job.kind.as_str()) else {
            // Claims name the kinds this runner knows.
            return Ok(Ran::Lost);
        };
        let job = &c.job;
        let recurring = kind.schedule.as_ref().map(|(s, _)| s);
        // A job whose runners keep dying without an outcome is given up too.
        let outcome = if recurring.is_none() && job.attempts > job.max_attempts {
            Err(format!("no outcome after {} attempts", job.attempts - 1).into())
        } else {
            let attempt = Attempt {
                number: job.attempts,
                last: recurring.is_none() && job.attempts >= job.max_attempts,
                now,
            };
            let run = (kind.handler)(self.env.clone(), job.payload.clone(), attempt);
            match tokio::time::timeout(kind.timeout, run).await {
                Ok(r) => r,
                Err(_) => Err(format!("timed out after {} s", kind.timeout.as_secs()).into()),
            }
        };
        let end = OffsetDateTime::now_utc().max(now);
        let ran = match (outcome, recurring) {
            (Ok(()), None) => db.jobs().done(job.id, &c.token).await?.then_some(Ran::Done),
            (Ok(()), Some(s)) => {
                let next = s.next_after(end).unwrap_or(end + Duration::hours(1));
                db.jobs()
                    .reschedule(job.id, &c.token, next, None)
                    .await?
                    .then_some(Ran::Done)
            }
            (Err(e), Some(s)) => {
                tracing::warn!(kind = %job.kind, id = job.id.0, error = %e, "recurring job failed");
                let next = s.next_after(end).unwrap_or(end + Duration::hours(1));
                let at = recurring_retry(job.attempts, end, next);
                db.jobs()
                    .reschedule(job.id, &c.token, at, Some(&e.to_string()))
                    .await?
                    .then_some(Ran::Retry)
            }
            (Err(e), None) => match after_failure(job.attempts, job.max_attempts, end) {
                AfterFailure::Retry(at) => {
                    tracing::warn!(kind = %job.kind, id = job.id.0, attempt = job.attempts, error = %e, "job failed; retried later");
                    db.jobs()
                        .reschedule(job.id, &c.token, at, Some(&e.to_string()))
                        .await?
                        .then_some(Ran::Retry)
                }
                AfterFailure::Dead => {
                    tracing::error!(kind = %job.kind, id = job.id.0, attempt = job.attempts, error = %e, "job given up");
                    db.jobs()
                        .bury(job.id, &c.token, &e.to_string())
                        .await?
                        .then_some(Ran::Dead)
                }
            },
        };
        Ok(ran.unwrap_or(Ran::Lost))
    }

    /// Runs jobs until `shutdown` resolves: the recurring kinds are queued
    /// first, then due jobs are claimed whenever a slot is free, looking
    /// again every `poll`. On shutdown nothing new is claimed and running
    /// jobs get `shutdown_deadline` to finish; those cut off are taken again
    /// by any server once their lease has passed.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        if let Err(e) = self.ensure_recurring(OffsetDateTime::now_utc()).await {
            tracing::error!(error = %e, "recurring jobs could not be queued");
        }
        let mut running: JoinSet<()> = JoinSet::new();
        loop {
            let free = self.settings.concurrency.saturating_sub(running.len());
            if free > 0 {
                let now = OffsetDateTime::now_utc();
                match self.claim(None, now, free).await {
                    Ok(batch) => {
                        for c in batch {
                            let me = self.clone();
                            running.spawn(async move {
                                if let Err(e) = me.execute(c, now).await {
                                    tracing::error!(error = %e, "a job's outcome could not be written");
                                }
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "claiming jobs failed"),
                }
            }
            tokio::select! {
                () = &mut shutdown => break,
                Some(_) = running.join_next(), if !running.is_empty() => {}
                () = tokio::time::sleep(self.settings.poll) => {}
            }
        }
        let drain = async { while running.join_next().await.is_some() {} };
        if tokio::time::timeout(self.settings.shutdown_deadline, drain)
            .await
            .is_err()
        {
            tracing::warn!(
                jobs = running.len(),
                "jobs still running at the shutdown deadline; stopped"
            );
            running.abort_all();
        }
    }
}
