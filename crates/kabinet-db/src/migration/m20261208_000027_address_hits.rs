//! `address_hits`: requests per client address and purpose in the current
//! minute, counted in the database so that the limit holds whichever server
//! a request reaches. One row per (scope, address), rewritten in place.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000027_address_hits"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A new table: nothing existing is locked or rewritten.
        m.create_table(
            Table::create()
                .table("address_hits")
                .col(string_len("scope", 16))
                .col(string_len("address", 64))
                .col(big_integer("started"))
                .col(integer("hits"))
                .primary_key(Index::create().col("scope").col("address"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("address_hits").to_owned()).await
    }
}
