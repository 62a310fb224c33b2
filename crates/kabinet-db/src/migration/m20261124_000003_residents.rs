//! Residents' sign-in: users, sessions (browser cookies and API tokens),
//! password-reset tokens, Rules versions and their acceptances, the audit log,
//! the outbox of e-mails and the keyed passport hashes used at registration.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::idx;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000003_residents"
    }
}

fn fk_cascade(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from}_{col}"))
        .from(from, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// An index named after its columns.
fn index(table: &'static str, cols: &[&'static str], unique: bool) -> IndexCreateStatement {
    idx(table, &cols.join("_"), cols, unique)
}

const TABLES: [&str; 8] = [
    "rules_versions",
    "users",
    "sessions",
    "password_resets",
    "acceptances",
    "audit_log",
    "outbox",
    "account_secrets",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("rules_versions")
                .col(big_pk_auto("id"))
                .col(integer_uniq("version"))
                .col(text("title"))
                .col(text("body"))
                .col(timestamp_with_time_zone("published_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("users")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("account_id"))
                .col(string_len("email", 254))
                .col(text("password_hash"))
                .col(boolean("password_generated"))
                .col(timestamp_with_time_zone_null("password_expires_at"))
                .col(boolean("blocked").default(false))
                .col(integer("rules_version").default(0))
                .col(integer("failed_count").default(0))
                .col(timestamp_with_time_zone_null("failed_window_start"))
                .col(timestamp_with_time_zone_null("last_failed_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("password_changed_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_users_account_id")
                        .from("users", "account_id")
                        .to("accounts", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("sessions")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("token_hash", 64))
                .col(big_integer("user_id"))
                .col(string_len("kind", 8))
                .col(boolean("restricted").default(false))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("last_seen_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(string_len("ip", 64))
                .col(text("user_agent"))
                .foreign_key(&mut fk_cascade("sessions", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sessions", &["user_id"], false)).await?;
        m.create_index(index("sessions", &["expires_at"], false)).await?;
        m.create_table(
            Table::create()
                .table("password_resets")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("token_hash", 64))
                .col(big_integer("user_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(&mut fk_cascade("password_resets", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("password_resets", &["user_id"], false))
            .await?;
        m.create_table(
            Table::create()
                .table("acceptances")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("kind", 16))
                .col(integer("version"))
                .col(timestamp_with_time_zone("accepted_at"))
                .col(string_len("ip", 64))
                .col(text("user_agent"))
                .foreign_key(&mut fk_cascade("acceptances", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("acceptances", &["user_id"], false)).await?;
        m.create_table(
            Table::create()
                .table("audit_log")
                .col(big_pk_auto("id"))
                .col(timestamp_with_time_zone("at"))
                .col(string_len("actor", 16))
                .col(big_integer_null("user_id"))
                .col(big_integer_null("account_id"))
                .col(string_len("event", 48))
                .col(string_len("ip", 64))
                .col(text("user_agent"))
                .col(text("details"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("audit_log", &["account_id", "at"], false))
            .await?;
        m.create_index(index("audit_log", &["at"], false)).await?;
        m.create_table(
            Table::create()
                .table("outbox")
                .col(big_pk_auto("id"))
                .col(string_len("channel", 8))
                .col(string_len("recipient", 254))
                .col(text("subject"))
                .col(text("body_text"))
                .col(text("body_html"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string_len("status", 16))
                .col(integer("attempts").default(0))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("locked_until"))
                .col(text("last_error").default(""))
                .col(timestamp_with_time_zone_null("sent_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("outbox", &["status", "next_attempt_at"], false))
            .await?;
        m.create_table(
            Table::create()
                .table("account_secrets")
                .col(big_integer("account_id").primary_key())
                .col(string_len("passport_hash", 64))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_account_secrets_account_id")
                        .from("account_secrets", "account_id")
                        .to("accounts", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(*table).to_owned()).await?;
        }
        Ok(())
    }
}
