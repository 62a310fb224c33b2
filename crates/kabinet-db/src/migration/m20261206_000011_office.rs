//! The office: the files of exports, kept with their run so any past export
//! can be downloaded again from any server; the buildings an operator or
//! dispatcher works (one address a line; empty: all); and the settings the
//! office changes at run time (key and value, read by every server).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000011_office"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("exchange_files")
                .col(big_integer("run_id").primary_key())
                .col(string_len("encoding", 16))
                .col(blob("data"))
                .foreign_key(&mut fk(
                    "exchange_files",
                    "run_id",
                    "exchange_runs",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("exchange_runs", "direction", &["direction", "id"], false))
            .await?;
        m.alter_table(
            Table::alter()
                .table("staff")
                .add_column(text("buildings").default(""))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("org_settings")
                .col(string_len("key", 64).primary_key())
                .col(text("value"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("org_settings").to_owned())
            .await?;
        m.alter_table(Table::alter().table("staff").drop_column("buildings").to_owned())
            .await?;
        m.drop_index(
            Index::drop()
                .name("ix_exchange_runs_direction")
                .table("exchange_runs")
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table("exchange_files").to_owned())
            .await
    }
}
