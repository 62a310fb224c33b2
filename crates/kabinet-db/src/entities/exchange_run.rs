//! The `exchange_runs` table.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "exchange_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub direction: String,
    pub kind: String,
    pub file_name: String,
    pub actor: String,
    pub started_at: TimeDateTimeWithTimeZone,
    pub finished_at: Option<TimeDateTimeWithTimeZone>,
    pub status: String,
    pub rows_read: i64,
    pub rows_written: i64,
    pub errors: i64,
    pub message: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
