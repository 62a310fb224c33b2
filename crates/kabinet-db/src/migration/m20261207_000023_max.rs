//! The MAX messenger.
//!
//! - `users.max_user`: the MAX account linked (its user id), at most one
//!   resident each; the bot writes there and answers it.
//! - `users.max_notifications`: the kinds of message wanted in MAX (codes
//!   joined by commas); none until MAX is linked.
//! - `max_codes`: the one-time codes of links to the bot, hashed, with
//!   their expiry.
//! - `max_questions`: what the bot asked a MAX user and waits an answer to
//!   (readings to confirm), one per user.

use super::idx;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000023_max"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(big_integer_null("max_user"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(string_len("max_notifications", 512).default(""))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("users", "max_user", &["max_user"], true))
            .await?;
        m.create_table(
            Table::create()
                .table("max_codes")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("code_hash", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("max_codes", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(idx("max_codes", "hash", &["code_hash"], true))
            .await?;
        m.create_index(idx("max_codes", "user", &["user_id"], false))
            .await?;
        m.create_table(
            Table::create()
                .table("max_questions")
                .col(big_integer("max_user").primary_key())
                .col(big_integer("user_id"))
                .col(text("question"))
                .col(timestamp_with_time_zone("asked_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("max_questions", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("max_questions").to_owned())
            .await?;
        m.drop_table(Table::drop().table("max_codes").to_owned()).await?;
        m.drop_index(Index::drop().name("ux_users_max_user").table("users").to_owned())
            .await?;
        for c in ["max_notifications", "max_user"] {
            m.alter_table(Table::alter().table("users").drop_column(c).to_owned())
                .await?;
        }
        Ok(())
    }
}
