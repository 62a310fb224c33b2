//! Residents join a neighbour's open request about the building's common
//! property instead of filing the same one again, and "my data" says how
//! each account came to be linked.
//!
//! - `request_categories.common_property`: the categories about the whole
//!   building (a lift, the heating, the water or the power of a building);
//!   the lift and the three outages of the default list are such.
//! - `request_joins`: who joined which request, for which of their accounts.
//! - `requests.joined`: how many joined, kept with each join and leave so
//!   that the queue shows it without counting.
//! - `user_accounts.linked_by`: `registration` (the sign-in account),
//!   `details` (added with the account's details) or `owner` (the resident
//!   who signs in with it approved). Links made before are read from the
//!   approved requests.

use super::{fk, idx};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000019_joins"
    }
}

/// The default categories that concern the whole building.
const COMMON: [&str; 4] = ["lift", "no_water", "no_heating", "no_power"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("request_categories")
                .add_column(boolean("common_property").default(false))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table("request_categories")
                .value("common_property", true)
                .and_where(Expr::col("code").is_in(COMMON))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("requests")
                .add_column(integer("joined").default(0))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("request_joins")
                .col(big_integer("request_id"))
                .col(big_integer("user_id"))
                .col(big_integer("account_id"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("request_id").col("user_id"))
                .foreign_key(&mut fk(
                    "request_joins",
                    "request_id",
                    "requests",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "request_joins",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "request_joins",
                    "account_id",
                    "accounts",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("request_joins", "user", &["user_id"], false))
            .await?;
        // Requests by account: the open requests of a building are found
        // through its accounts.
        m.create_index(idx("requests", "account", &["account_id"], false))
            .await?;
        m.alter_table(
            Table::alter()
                .table("user_accounts")
                .add_column(string_len("linked_by", 16).default("details"))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared(
            "UPDATE user_accounts SET linked_by = 'registration' WHERE EXISTS \
             (SELECT 1 FROM users u WHERE u.id = user_accounts.user_id AND u.account_id = user_accounts.account_id)",
        )
        .await?;
        conn.execute_unprepared(
            "UPDATE user_accounts SET linked_by = 'owner' WHERE linked_by = 'details' AND EXISTS \
             (SELECT 1 FROM link_requests q WHERE q.user_id = user_accounts.user_id \
              AND q.account_id = user_accounts.account_id AND q.status = 'approved')",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("user_accounts")
                .drop_column("linked_by")
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_requests_account")
                .table("requests")
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table("request_joins").to_owned())
            .await?;
        m.alter_table(Table::alter().table("requests").drop_column("joined").to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table("request_categories")
                .drop_column("common_property")
                .to_owned(),
        )
        .await
    }
}
