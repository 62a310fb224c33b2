//! Data exchange with the billing system: a log of import/export runs, export
//! marks on readings and payments, and the natural key of meters.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000002_exchange"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("exchange_runs")
                .col(big_pk_auto("id"))
                .col(string_len("direction", 8))
                .col(string_len("kind", 16))
                .col(text("file_name"))
                .col(string_len("actor", 64))
                .col(timestamp_with_time_zone("started_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .col(string_len("status", 16))
                .col(big_integer("rows_read").default(0))
                .col(big_integer("rows_written").default(0))
                .col(big_integer("errors").default(0))
                .col(text("message").default(""))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_exchange_runs_started")
                .table("exchange_runs")
                .col("started_at")
                .to_owned(),
        )
        .await?;
        for table in ["meter_readings", "payments"] {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .add_column(big_integer_null("export_run_id"))
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create()
                    .name(format!("ix_{table}_export"))
                    .table(table)
                    .col("source")
                    .col("export_run_id")
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("ux_meters_account_serial")
                .table("meters")
                .col("account_id")
                .col("serial")
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ux_meters_account_serial")
                .table("meters")
                .to_owned(),
        )
        .await?;
        for table in ["meter_readings", "payments"] {
            m.drop_index(
                Index::drop()
                    .name(format!("ix_{table}_export"))
                    .table(table)
                    .to_owned(),
            )
            .await?;
            m.alter_table(
                Table::alter()
                    .table(table)
                    .drop_column("export_run_id")
                    .to_owned(),
            )
            .await?;
        }
        m.drop_table(Table::drop().table("exchange_runs").to_owned())
            .await?;
        Ok(())
    }
}
