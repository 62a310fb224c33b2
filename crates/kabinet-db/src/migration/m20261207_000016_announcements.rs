//! Announcements and outages (B2): what the office publishes to everyone or
//! to chosen buildings (their addresses, one a line), shown from a moment
//! until another. Residents' pages read those in force on every request
//! (from a short cache), so they are found by their end. Residents who get
//! messages by e-mail are given announcements too.

use super::idx;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000016_announcements"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("announcements")
                .col(big_pk_auto("id"))
                .col(string_len("kind", 16))
                .col(string_len_null("service", 16))
                .col(text("title"))
                .col(text("body"))
                .col(text("buildings"))
                .col(timestamp_with_time_zone("starts_at"))
                .col(timestamp_with_time_zone_null("ends_at"))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("announcements", "ends", &["ends_at"], false))
            .await?;
        m.create_index(idx("announcements", "starts", &["starts_at"], false))
            .await?;
        // Residents who get any message by e-mail get announcements too, as
        // new residents do; one who turned every message off stays so.
        m.get_connection()
            .execute_unprepared(
                "UPDATE users SET notifications = notifications || ',announcements' \
                 WHERE notifications <> '' AND notifications NOT LIKE '%announcements%'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("announcements").to_owned())
            .await
    }
}
