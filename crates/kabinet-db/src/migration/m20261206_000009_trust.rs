//! What the security review asked for: card payments marked as tests (the
//! sandbox, or a gateway's test mode) so that they are never credited;
//! links to an account that has a registered resident waiting for that
//! resident's consent; staff TOTP secrets sealed at rest and one-time
//! passwords that expire.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000009_trust"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("card_payments")
                .add_column(boolean("test").default(false))
                .to_owned(),
        )
        .await?;
        // A resident asking to see an account another resident signed up
        // with: the owner approves or declines by a link sent to them (only
        // its hash is kept) or in their settings.
        m.create_table(
            Table::create()
                .table("link_requests")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(big_integer("account_id"))
                .col(big_integer("owner_id"))
                .col(string_len_uniq("token_hash", 64))
                .col(string_len("status", 16))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .foreign_key(&mut fk(
                    "link_requests",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "link_requests",
                    "account_id",
                    "accounts",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "link_requests",
                    "owner_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("link_requests", "user", &["user_id", "created_at"], false))
            .await?;
        m.create_index(idx("link_requests", "owner", &["owner_id", "status"], false))
            .await?;
        // Staff: a sealed TOTP secret (longer than the base32 column held),
        // the end of a generated password, and the secret an enrolment page
        // showed, kept on its session until a code proves it.
        m.alter_table(
            Table::alter()
                .table("staff")
                .add_column(text_null("totp_sealed"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("staff")
                .add_column(timestamp_with_time_zone_null("password_expires_at"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("staff_sessions")
                .add_column(text_null("pending_secret"))
                .to_owned(),
        )
        .await?;
        // Failed staff sign-ins per member and address: wrong passwords from
        // one address delay that address, never the member everywhere.
        m.create_table(
            Table::create()
                .table("staff_failures")
                .col(big_integer("staff_id"))
                .col(string_len("ip", 64))
                .col(integer("count").default(0))
                .col(timestamp_with_time_zone_null("window_start"))
                .col(timestamp_with_time_zone_null("last_at"))
                .primary_key(Index::create().col("staff_id").col("ip"))
                .foreign_key(&mut fk(
                    "staff_failures",
                    "staff_id",
                    "staff",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("staff_failures").to_owned())
            .await?;
        for (table, column) in [
            ("staff_sessions", "pending_secret"),
            ("staff", "password_expires_at"),
            ("staff", "totp_sealed"),
        ] {
            m.alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        m.drop_table(Table::drop().table("link_requests").to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table("card_payments")
                .drop_column("test")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
