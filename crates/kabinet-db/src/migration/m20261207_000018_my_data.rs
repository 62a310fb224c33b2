//! "My data" lists the readings a resident handed in, found by who handed
//! them in (a resident may since have unlinked the account).

use super::idx;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000018_my_data"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(idx("meter_readings", "user", &["user_id"], false))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_meter_readings_user")
                .table("meter_readings")
                .to_owned(),
        )
        .await
    }
}
