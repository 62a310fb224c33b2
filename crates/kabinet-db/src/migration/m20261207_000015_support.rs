//! Residents' support (S6): messages kept by the resident they were written
//! for (a family sharing one address must not see each other's mail), and
//! the indexes that find a resident by the start of an account number,
//! e-mail, phone or building address at a million accounts.
//!
//! The prefix search compares bytes (`"a" <= x < "a\u{10FFFF}"`). SQLite's
//! default collation does; on PostgreSQL the database's collation may not,
//! so its indexes are built, and the search compares, under `COLLATE "C"`.

use super::idx;
use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000015_support"
    }
}

/// The searched columns: (table, column, index name).
const SEARCHED: [(&str, &str, &str); 4] = [
    ("users", "email", "ix_users_email_search"),
    ("users", "phone", "ix_users_phone_search"),
    ("accounts", "number", "ix_accounts_number_search"),
    ("premises", "address", "ix_premises_address_search"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("outbox")
                .add_column(big_integer_null("user_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("outbox", "user", &["user_id", "id"], false))
            .await?;
        // Messages written before: kept by their resident when exactly one
        // resident has that address; a shared address's stay unassigned.
        m.get_connection()
            .execute_unprepared(
                "UPDATE outbox SET user_id = (SELECT u.id FROM users u WHERE u.email = outbox.recipient) \
                 WHERE (SELECT count(*) FROM users u WHERE u.email = outbox.recipient) = 1",
            )
            .await?;
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        for (table, column, name) in SEARCHED {
            let collate = if pg { " COLLATE \"C\"" } else { "" };
            m.get_connection()
                .execute_unprepared(&format!("CREATE INDEX {name} ON {table} ({column}{collate})"))
                .await?;
        }
        // The premises(address) index of the office's migration stays: the
        // buildings' windows look addresses up by equality.
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, _, name) in SEARCHED {
            m.drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        m.drop_index(Index::drop().name("ix_outbox_user").table("outbox").to_owned())
            .await?;
        m.alter_table(Table::alter().table("outbox").drop_column("user_id").to_owned())
            .await
    }
}
