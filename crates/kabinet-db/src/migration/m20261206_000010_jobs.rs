//! One queue for all background work: e-mails of the outbox, payment
//! reconciliation, the session sweep, deferred requests, and what comes later.
//! E-mails waiting in the outbox when this runs get their delivery job.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::idx;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000010_jobs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("jobs")
                .col(big_pk_auto("id"))
                .col(string_len("kind", 64))
                .col(text("payload"))
                .col(string_len("status", 16))
                .col(timestamp_with_time_zone("run_at"))
                .col(integer("attempts").default(0))
                .col(integer("max_attempts"))
                .col(text("last_error").default(""))
                .col(timestamp_with_time_zone_null("locked_until"))
                .col(string_len_null("lock_token", 64))
                .col(string_len_null("unique_key", 128))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("jobs", "due", &["status", "run_at"], false))
            .await?;
        m.create_index(idx("jobs", "key", &["unique_key"], true)).await?;
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO jobs (kind, payload, status, run_at, attempts, max_attempts, last_error, created_at) \
                 SELECT 'email', '{\"outbox\":' || CAST(id AS TEXT) || '}', 'queued', next_attempt_at, 0, 10, '', created_at \
                 FROM outbox WHERE status = 'pending'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("jobs").to_owned()).await
    }
}
