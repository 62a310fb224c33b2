//! The resident portal: accounts linked to a user (every user's own account
//! becomes its first link), the user's settings, pending e-mail changes and
//! the portal's announced or current closing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000005_portal"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("user_accounts")
                .col(big_integer("user_id"))
                .col(big_integer("account_id"))
                .col(timestamp_with_time_zone("linked_at"))
                .primary_key(Index::create().col("user_id").col("account_id"))
                .foreign_key(&mut fk(
                    "user_accounts",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "user_accounts",
                    "account_id",
                    "accounts",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("user_accounts", "account_id", &["account_id"], false))
            .await?;
        // My data and the sign-in history read the log by user.
        m.create_index(idx("audit_log", "user_id", &["user_id", "id"], false))
            .await?;
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO user_accounts (user_id, account_id, linked_at) \
                 SELECT id, account_id, created_at FROM users",
            )
            .await?;
        // SQLite adds one column per statement.
        let columns = [
            string_len_null("phone", 16),
            string_len_null("language", 8),
            boolean("paperless").default(false).to_owned(),
            text("notifications")
                .default("new_invoice,payment_received,readings_reminder,request_updates")
                .to_owned(),
        ];
        for mut c in columns {
            m.alter_table(Table::alter().table("users").add_column(&mut c).to_owned())
                .await?;
        }
        m.create_table(
            Table::create()
                .table("email_changes")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("token_hash", 64))
                .col(big_integer("user_id"))
                .col(string_len("new_email", 254))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(&mut fk(
                    "email_changes",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("email_changes", "user_id", &["user_id"], false))
            .await?;
        m.create_table(
            Table::create()
                .table("suspensions")
                .col(big_pk_auto("id"))
                .col(timestamp_with_time_zone("starts_at"))
                .col(timestamp_with_time_zone_null("ends_at"))
                .col(text("message"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_audit_log_user_id")
                .table("audit_log")
                .to_owned(),
        )
        .await?;
        for t in ["suspensions", "email_changes", "user_accounts"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        for c in ["notifications", "paperless", "language", "phone"] {
            m.alter_table(Table::alter().table("users").drop_column(c).to_owned())
                .await?;
        }
        Ok(())
    }
}
