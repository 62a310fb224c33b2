//! Meter verification notices: residents who get any message by e-mail get
//! these too (as new residents do; one who turned every message off stays
//! so), and the meters due on a day are found by an index, not by reading
//! every meter once a day.

use super::idx;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000021_verification"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "UPDATE users SET notifications = notifications || ',meter_verification' \
                 WHERE notifications <> '' AND notifications NOT LIKE '%meter_verification%'",
            )
            .await?;
        m.create_index(idx("meters", "verification_due", &["verification_due"], false))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_meters_verification_due")
                .table("meters")
                .to_owned(),
        )
        .await
    }
}
