//! SMS notifications.
//!
//! - `users.sms_notifications`: the kinds of message wanted by SMS (codes
//!   joined by commas, as `notifications` holds those by e-mail); none at
//!   first.
//! - `users.phone_verified`: the number a code sent to it confirmed; SMS
//!   go only to it, and a changed phone clears it.
//! - `phone_codes`: the verification codes sent, hashed, with their
//!   expiry and wrong guesses; the rows of a day limit how many are sent
//!   to a phone and to a resident.
//! - `outbox.provider_ref` and `outbox.delivery`: the provider's id of an
//!   SMS and what its status said of it (accepted, delivered,
//!   undelivered).

use super::idx;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000022_sms"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(string_len("sms_notifications", 512).default(""))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(string_len_null("phone_verified", 16))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("phone_codes")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("phone", 16))
                .col(string_len("code_hash", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(integer("tries").default(0))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("phone_codes", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(idx("phone_codes", "user", &["user_id", "created_at"], false))
            .await?;
        m.create_index(idx("phone_codes", "phone", &["phone", "created_at"], false))
            .await?;
        m.alter_table(
            Table::alter()
                .table("outbox")
                .add_column(string_len_null("provider_ref", 64))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("outbox")
                .add_column(string_len("delivery", 16).default(""))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("outbox", "awaiting", &["channel", "delivery"], false))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_outbox_awaiting")
                .table("outbox")
                .to_owned(),
        )
        .await?;
        for c in ["delivery", "provider_ref"] {
            m.alter_table(Table::alter().table("outbox").drop_column(c).to_owned())
                .await?;
        }
        m.drop_table(Table::drop().table("phone_codes").to_owned())
            .await?;
        for c in ["phone_verified", "sms_notifications"] {
            m.alter_table(Table::alter().table("users").drop_column(c).to_owned())
                .await?;
        }
        Ok(())
    }
}
