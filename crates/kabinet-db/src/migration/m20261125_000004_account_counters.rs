//! Counters per personal account that must hold across servers: failed
//! registration checks and e-mails sent to the account's resident on someone
//! else's request.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000004_account_counters"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("account_counters")
                .col(big_integer("account_id"))
                .col(string_len("kind", 16))
                .col(integer("count").default(0))
                .col(timestamp_with_time_zone_null("window_start"))
                .col(timestamp_with_time_zone_null("last_at"))
                .primary_key(Index::create().col("account_id").col("kind"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_account_counters_account_id")
                        .from("account_counters", "account_id")
                        .to("accounts", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("account_counters").to_owned())
            .await
    }
}
