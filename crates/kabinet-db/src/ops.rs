//! What an operator watches (`/metrics`): the job queue, the deliveries and
//! card payments still on their way, and the connection pool. Every figure
//! is read through an index, so a scrape costs the same at a million
//! accounts as at a thousand.

use crate::{Db, DbError};
use kabinet_domain::{CardPaymentStatus, OutboxStatus};
use sea_orm::{FromQueryResult, Statement};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// The figures of one scrape.
#[derive(Debug, Clone, Default)]
pub struct OpsFigures {
    /// Jobs queued and not held by a runner (due now or later).
    pub jobs_waiting: u64,
    /// Jobs held by a runner.
    pub jobs_running: u64,
    /// Jobs given up.
    pub jobs_dead: u64,
    /// How long the oldest job that is due has waited (zero when none is).
    pub oldest_due: Duration,
    /// Deliveries not sent yet or given up, by channel and state
    /// (`pending`, `failed`); sent ones are many and not counted here.
    pub deliveries: Vec<(String, String, u64)>,
    /// Card payments not settled yet, by status.
    pub open_card_payments: Vec<(String, u64)>,
    /// Connections open in the pool.
    pub pool_size: u32,
    /// Of them, idle.
    pub pool_idle: u32,
    /// The pool's limit.
    pub pool_max: u32,
    /// How long taking a connection from the pool took at the scrape.
    pub pool_wait: Duration,
}

#[derive(FromQueryResult)]
struct Group {
    a: String,
    b: Option<String>,
    n: i64,
}

/// The operator's figures (see [`Db::ops`]).
pub struct Ops<'a>(pub(crate) &'a Db);

impl Ops<'_> {
    /// Reads the figures at `now`.
    pub async fn figures(&self, now: OffsetDateTime) -> Result<OpsFigures, DbError> {
        let mut f = OpsFigures::default();
        let (size, idle, max, wait) = self.pool().await?;
        f.pool_size = size;
        f.pool_idle = idle;
        f.pool_max = max;
        f.pool_wait = wait;
        let counts = crate::Repos::jobs(self.0).counts(now).await?;
        f.jobs_waiting = counts.waiting;
        f.jobs_running = counts.running;
        f.jobs_dead = counts.dead;
        f.oldest_due = self.oldest_due(now).await?;
        // Every channel and state is named, zero or not: a gauge not set
        // again would keep its last value.
        for channel in kabinet_domain::notify::Channel::ALL {
            for state in [OutboxStatus::Pending, OutboxStatus::Failed] {
                f.deliveries
                    .push((channel.as_str().to_string(), state.as_str().to_string(), 0));
            }
        }
        for status in [CardPaymentStatus::Created, CardPaymentStatus::Pending] {
            f.open_card_payments.push((status.as_str().to_string(), 0));
        }
        for g in self
            .groups(
                "SELECT channel AS a, status AS b, COUNT(*) AS n FROM outbox \
                 WHERE status IN ($1, $2) GROUP BY channel, status",
                vec![
                    OutboxStatus::Pending.as_str().into(),
                    OutboxStatus::Failed.as_str().into(),
                ],
            )
            .await?
        {
            let state = g.b.unwrap_or_default();
            match f.deliveries.iter_mut().find(|(c, s, _)| *c == g.a && *s == state) {
                Some(row) => row.2 = count(g.n),
                None => f.deliveries.push((g.a, state, count(g.n))),
            }
        }
        for g in self
            .groups(
                "SELECT status AS a, CAST(NULL AS TEXT) AS b, COUNT(*) AS n FROM card_payments \
                 WHERE next_check_at IS NOT NULL GROUP BY status",
                vec![],
            )
            .await?
        {
            match f.open_card_payments.iter_mut().find(|(s, _)| *s == g.a) {
                Some(row) => row.1 = count(g.n),
                None => f.open_card_payments.push((g.a, count(g.n))),
            }
        }
        Ok(f)
    }

    async fn groups(&self, sql: &str, values: Vec<sea_orm::Value>) -> Result<Vec<Group>, DbError> {
        let c = self.0.conn();
        Ok(Group::find_by_statement(Statement::from_sql_and_values(
            c.get_database_backend(),
            sql,
            values,
        ))
        .all(c)
        .await?)
    }

    async fn oldest_due(&self, now: OffsetDateTime) -> Result<Duration, DbError> {
        use crate::entities::job;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        let first: Option<OffsetDateTime> = job::Entity::find()
            .select_only()
            .column(job::Column::RunAt)
            .filter(job::Column::Status.eq(kabinet_domain::jobs::JobStatus::Queued.as_str()))
            .filter(job::Column::RunAt.lte(now))
            .order_by_asc(job::Column::RunAt)
            .limit(1)
            .into_tuple()
            .one(self.0.conn())
            .await?;
        Ok(first.map_or(Duration::ZERO, |t| (now - t).try_into().unwrap_or(Duration::ZERO)))
    }

    /// The pool's size, idle connections and limit, and how long taking a
    /// connection took just now.
    async fn pool(&self) -> Result<(u32, u32, u32, Duration), DbError> {
        let conn = self.0.conn();
        match self.0.backend() {
            crate::Backend::Sqlite => probe(conn.get_sqlite_connection_pool()).await,
            crate::Backend::Postgres => probe(conn.get_postgres_connection_pool()).await,
        }
    }
}

/// Takes a connection from `pool` and gives it back: the pool's figures and
/// how long that took.
async fn probe<D: sea_orm::sqlx::Database>(
    pool: &sea_orm::sqlx::Pool<D>,
) -> Result<(u32, u32, u32, Duration), DbError> {
    let started = Instant::now();
    let held = pool
        .acquire()
        .await
        .map_err(|e| DbError::Query(sea_orm::DbErr::Custom(e.to_string())))?;
    let wait = started.elapsed();
    drop(held);
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
    Ok((pool.size(), idle, pool.options().get_max_connections(), wait))
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
