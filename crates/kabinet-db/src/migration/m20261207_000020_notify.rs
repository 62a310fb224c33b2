//! Notifications as a subsystem: events stored once, deliveries fanned out
//! from them.
//!
//! - `notify_events`: one row per event, unique by kind, account and
//!   subject (the period of a new invoice, the row of an imported payment),
//!   so producing it again — a repeated import — adds nothing.
//! - `outbox` gains `event_id`: a delivery of an event, unique per event,
//!   resident and channel; its text is written when it is sent, in the
//!   resident's language then. `lock_token` marks the sender that claimed
//!   it; `unsubscribed_at` records that its one-click unsubscribe link was
//!   used (it works once).
//! - `notify_marks`: how far events were produced (the newest period and
//!   payment row), so an upgrade does not announce the invoices and
//!   payments already there: both start at what the database holds now.

use super::idx;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000020_notify"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("notify_events")
                .col(big_pk_auto("id"))
                .col(string_len("kind", 32))
                .col(big_integer("account_id"))
                .col(big_integer("subject"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "notify_events",
            "key",
            &["kind", "account_id", "subject"],
            true,
        ))
        .await?;
        m.alter_table(
            Table::alter()
                .table("outbox")
                .add_column(big_integer_null("event_id"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("outbox")
                .add_column(string_len_null("lock_token", 64))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("outbox")
                .add_column(timestamp_with_time_zone_null("unsubscribed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "outbox",
            "delivery",
            &["event_id", "user_id", "channel"],
            true,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("notify_marks")
                .col(string_len("name", 32).primary_key())
                .col(big_integer("value"))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared(
            "INSERT INTO notify_marks (name, value) SELECT 'invoice_period', COALESCE(MAX(period), 0) FROM invoices",
        )
        .await?;
        conn.execute_unprepared(
            "INSERT INTO notify_marks (name, value) SELECT 'payment_id', COALESCE(MAX(id), 0) FROM payments",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("notify_marks").to_owned())
            .await?;
        m.drop_index(
            Index::drop()
                .name("ux_outbox_delivery")
                .table("outbox")
                .to_owned(),
        )
        .await?;
        for c in ["unsubscribed_at", "lock_token", "event_id"] {
            m.alter_table(Table::alter().table("outbox").drop_column(c).to_owned())
                .await?;
        }
        m.drop_table(Table::drop().table("notify_events").to_owned())
            .await
    }
}
