//! Indexes the office's pages need at a million accounts: premises by
//! building address (buildings' own readings windows are checked against
//! the addresses billing wrote, and staff look residents up by address),
//! readings by period and meters by status and account (the home page
//! counts this period's readings and the accounts with an active meter
//! from indexes).

use super::idx;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000014_office_indexes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(idx("premises", "address", &["address"], false))
            .await?;
        m.create_index(idx(
            "meter_readings",
            "period_meter",
            &["period", "meter_id"],
            false,
        ))
        .await?;
        m.create_index(idx("meters", "status_account", &["status", "account_id"], false))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, name) in [
            ("meters", "ix_meters_status_account"),
            ("meter_readings", "ix_meter_readings_period_meter"),
            ("premises", "ix_premises_address"),
        ] {
            m.drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
