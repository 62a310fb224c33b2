//! The consent to personal-data processing as its own versioned document
//! (152-ФЗ, B8): its versions, shaped as the Rules', and the version each
//! resident gave last. Existing residents have given none (0) and are asked
//! once a version is published.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000013_consent"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("consent_versions")
                .col(big_pk_auto("id"))
                .col(integer_uniq("version"))
                .col(text("title"))
                .col(text("body"))
                .col(timestamp_with_time_zone("published_at"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(integer("consent_version").default(0))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("users")
                .drop_column("consent_version")
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table("consent_versions").to_owned())
            .await
    }
}
