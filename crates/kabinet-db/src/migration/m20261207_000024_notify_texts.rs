//! The organization's own texts of notifications: `notify_texts`, one row
//! per event kind × channel × language that staff changed (none: the
//! built-in text), with who changed it last.

use super::idx;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000024_notify_texts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("notify_texts")
                .col(big_pk_auto("id"))
                .col(string_len("kind", 32))
                .col(string_len("channel", 16))
                .col(string_len("language", 8))
                .col(string_len("subject", 256).default(""))
                .col(text("body"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer_null("updated_by"))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("notify_texts", "key", &["kind", "channel", "language"], true))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("notify_texts").to_owned()).await
    }
}
