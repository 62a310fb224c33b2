//! Readings residents hand in: the billing period each counts for, who handed
//! it in and from where. One reading per meter, zone and period from the
//! portal (a second one replaces the first until it is exported); rows from
//! billing have no period and are never matched by it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::idx;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000006_readings"
    }
}

const COLUMNS: [&str; 3] = ["period", "user_id", "ip"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for col in [
            integer_null("period"),
            big_integer_null("user_id"),
            string_len_null("ip", 64),
        ] {
            m.alter_table(Table::alter().table("meter_readings").add_column(col).to_owned())
                .await?;
        }
        m.create_index(idx(
            "meter_readings",
            "meter_zone_period",
            &["meter_id", "zone", "period"],
            true,
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ux_meter_readings_meter_zone_period")
                .table("meter_readings")
                .to_owned(),
        )
        .await?;
        for col in COLUMNS {
            m.alter_table(Table::alter().table("meter_readings").drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
