//! The job queue (see [`kabinet_domain::jobs`]). A claim takes due rows in its
//! own transaction with `FOR UPDATE SKIP LOCKED` on PostgreSQL (on SQLite the
//! write transaction holds the whole database) and leases them under a token;
//! the outcome is written only while the token still holds the row, so a
//! runner whose lease ran out cannot undo the work of the one that took over.

use crate::convert::corrupt;
use crate::entities::job;
use crate::{Backend, Conn, Db, DbError};
use kabinet_domain::JobId;
use kabinet_domain::jobs::{Claimed, Job, JobStatus, NewJob};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use time::{Duration, OffsetDateTime};

fn to_job(m: job::Model) -> Result<Job, DbError> {
    Ok(Job {
        id: JobId(m.id),
        status: JobStatus::from_stored(&m.status).ok_or_else(|| corrupt("jobs", "status", &m.status))?,
        kind: m.kind,
        payload: m.payload,
        run_at: m.run_at,
        attempts: m.attempts,
        max_attempts: m.max_attempts,
        last_error: m.last_error,
        locked_until: m.locked_until,
        unique_key: m.unique_key,
        created_at: m.created_at,
    })
}

/// Which jobs a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobFilter {
    /// Every job.
    All,
    /// Waiting for their time (not held by a runner).
    Waiting,
    /// Held by a runner now.
    Running,
    /// Given up.
    Dead,
}

/// How many jobs stand where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    /// Queued and not held.
    pub waiting: u64,
    /// Held by a runner.
    pub running: u64,
    /// Given up.
    pub dead: u64,
}

/// The job queue (see [`crate::Repos::jobs`]).
pub struct Jobs<'a, C>(pub(crate) &'a C);

impl<C: Conn> Jobs<'_, C> {
    /// Queues a job; inside a transaction it exists only if the change that
    /// caused it commits. With a unique key already held, nothing is queued
    /// and the answer is `None`.
    pub async fn enqueue(&self, j: &NewJob, now: OffsetDateTime) -> Result<Option<JobId>, DbError> {
        let row = job::ActiveModel {
            kind: Set(j.kind.clone()),
            payload: Set(j.payload.clone()),
            status: Set(JobStatus::Queued.as_str().into()),
            run_at: Set(j.run_at),
            attempts: Set(0),
            max_attempts: Set(j.max_attempts),
            last_error: Set(String::new()),
            locked_until: Set(None),
            lock_token: Set(None),
            unique_key: Set(j.unique_key.clone()),
            created_at: Set(now),
            ..Default::default()
        };
        if j.unique_key.is_none() {
            return Ok(Some(JobId(row.insert(self.0.conn()).await?.id)));
        }
        let inserted = job::Entity::insert(row)
            .on_conflict(OnConflict::column(job::Column::UniqueKey).do_nothing().to_owned())
            .exec_without_returning(self.0.conn())
            .await?;
        if inserted == 0 {
            return Ok(None);
        }
        Ok(job::Entity::find()
            .filter(job::Column::UniqueKey.eq(j.unique_key.clone()))
            .one(self.0.conn())
            .await?
            .map(|m| JobId(m.id)))
    }

    /// Brings the next run of recurring kind `kind` (its row is keyed by
    /// its name) forward to `now`, unless it is running.
    pub async fn wake(&self, kind: &str, now: OffsetDateTime) -> Result<(), DbError> {
        job::Entity::update_many()
            .col_expr(job::Column::RunAt, Expr::value(now))
            .filter(job::Column::UniqueKey.eq(kind))
            .filter(job::Column::Status.eq(JobStatus::Queued.as_str()))
            .filter(job::Column::RunAt.gt(now))
            .filter(
                Condition::any()
                    .add(job::Column::LockedUntil.is_null())
                    .add(job::Column::LockedUntil.lt(now)),
            )
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Ends a one-off job that succeeded: its row goes.
    pub async fn done(&self, id: JobId, token: &str) -> Result<bool, DbError> {
        let r = job::Entity::delete_many()
            .filter(job::Column::Id.eq(id.0))
            .filter(job::Column::LockToken.eq(token))
            .exec(self.0.conn())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Moves a job on to `run_at` and releases it: a recurring job's next
    /// time (with `error` empty and attempts reset after a success), or a
    /// failed job's next attempt (keeping its attempts and the error).
    pub async fn reschedule(
        &self,
        id: JobId,
        token: &str,
        run_at: OffsetDateTime,
        error: Option<&str>,
    ) -> Result<bool, DbError> {
        let mut u = release(id, token).col_expr(job::Column::RunAt, Expr::value(run_at));
        u = match error {
            Some(e) => u.col_expr(job::Column::LastError, Expr::value(clip(e))),
            None => u
                .col_expr(job::Column::LastError, Expr::value(""))
                .col_expr(job::Column::Attempts, Expr::value(0)),
        };
        Ok(u.exec(self.0.conn()).await?.rows_affected == 1)
    }

    /// Gives a job up after its last attempt: it stays, dead, with its error.
    pub async fn bury(&self, id: JobId, token: &str, error: &str) -> Result<bool, DbError> {
        let r = release(id, token)
            .col_expr(job::Column::Status, Expr::value(JobStatus::Dead.as_str()))
            .col_expr(job::Column::LastError, Expr::value(clip(error)))
            .exec(self.0.conn())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Puts a dead job back in the queue, due now, with its attempts reset.
    pub async fn retry(&self, id: JobId, now: OffsetDateTime) -> Result<bool, DbError> {
        let r = job::Entity::update_many()
            .col_expr(job::Column::Status, Expr::value(JobStatus::Queued.as_str()))
            .col_expr(job::Column::Attempts, Expr::value(0))
            .col_expr(job::Column::RunAt, Expr::value(now))
            .filter(job::Column::Id.eq(id.0))
            .filter(job::Column::Status.eq(JobStatus::Dead.as_str()))
            .exec(self.0.conn())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Deletes a dead job.
    pub async fn discard(&self, id: JobId) -> Result<bool, DbError> {
        let r = job::Entity::delete_many()
            .filter(job::Column::Id.eq(id.0))
            .filter(job::Column::Status.eq(JobStatus::Dead.as_str()))
            .exec(self.0.conn())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// One job.
    pub async fn get(&self, id: JobId) -> Result<Option<Job>, DbError> {
        job::Entity::find_by_id(id.0)
            .one(self.0.conn())
            .await?
            .map(to_job)
            .transpose()
    }

    /// Jobs by `filter` at `now`, the soonest due first.
    pub async fn list(
        &self,
        filter: JobFilter,
        now: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<Job>, DbError> {
        let q = job::Entity::find()
            .filter(condition(filter, now))
            .order_by_asc(job::Column::RunAt)
            .order_by_asc(job::Column::Id)
            .limit(limit);
        q.all(self.0.conn()).await?.into_iter().map(to_job).collect()
    }

    /// How many jobs wait, run and are dead at `now`.
    pub async fn counts(&self, now: OffsetDateTime) -> Result<JobCounts, DbError> {
        let count = |f| job::Entity::find().filter(condition(f, now)).count(self.0.conn());
        Ok(JobCounts {
            waiting: count(JobFilter::Waiting).await?,
            running: count(JobFilter::Running).await?,
            dead: count(JobFilter::Dead).await?,
        })
    }
}

impl Jobs<'_, Db> {
    /// Takes up to `limit` jobs due at `now`, of the `kinds` this runner
    /// knows, and leases them to `token` until `now + lease` (each claim
    /// counts an attempt), in a transaction of its own.
    pub async fn claim(
        &self,
        kinds: &[&str],
        now: OffsetDateTime,
        lease: Duration,
        limit: u64,
        token: &str,
    ) -> Result<Vec<Claimed>, DbError> {
        let tx = self.0.begin().await?;
        let mut q = job::Entity::find()
            .filter(job::Column::Status.eq(JobStatus::Queued.as_str()))
            .filter(job::Column::RunAt.lte(now))
            .filter(job::Column::Kind.is_in(kinds.iter().copied()))
            .filter(
                Condition::any()
                    .add(job::Column::LockedUntil.is_null())
                    .add(job::Column::LockedUntil.lt(now)),
            )
            .order_by_asc(job::Column::RunAt)
            .order_by_asc(job::Column::Id)
            .limit(limit);
        if tx.backend() == Backend::Postgres {
            q = q.lock_with_behavior(
                sea_orm::sea_query::LockType::Update,
                sea_orm::sea_query::LockBehavior::SkipLocked,
            );
        }
        let rows = q.all(tx.conn()).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        job::Entity::update_many()
            .col_expr(job::Column::LockedUntil, Expr::value(Some(now + lease)))
            .col_expr(job::Column::LockToken, Expr::value(Some(token.to_string())))
            .col_expr(job::Column::Attempts, Expr::col(job::Column::Attempts).add(1))
            .filter(job::Column::Id.is_in(rows.iter().map(|r| r.id)))
            .exec(tx.conn())
            .await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|mut m| {
                m.attempts += 1;
                m.locked_until = Some(now + lease);
                Ok(Claimed {
                    job: to_job(m)?,
                    token: token.to_string(),
                })
            })
            .collect()
    }
}

fn condition(filter: JobFilter, now: OffsetDateTime) -> Condition {
    let queued = job::Column::Status.eq(JobStatus::Queued.as_str());
    let held = job::Column::LockedUntil.gt(now);
    match filter {
        JobFilter::All => Condition::all(),
        JobFilter::Waiting => Condition::all().add(queued).add(
            Condition::any()
                .add(job::Column::LockedUntil.is_null())
                .add(job::Column::LockedUntil.lte(now)),
        ),
        JobFilter::Running => Condition::all().add(queued).add(held),
        JobFilter::Dead => Condition::all().add(job::Column::Status.eq(JobStatus::Dead.as_str())),
    }
}

/// The update that releases job `id` if `token` still holds it.
fn release(id: JobId, token: &str) -> sea_orm::UpdateMany<job::Entity> {
    job::Entity::update_many()
        .col_expr(
            job::Column::LockedUntil,
            Expr::value(Option::<OffsetDateTime>::None),
        )
        .col_expr(job::Column::LockToken, Expr::value(Option::<String>::None))
        .filter(job::Column::Id.eq(id.0))
        .filter(job::Column::LockToken.eq(token))
}

fn clip(e: &str) -> String {
    e.chars().take(2000).collect()
}
