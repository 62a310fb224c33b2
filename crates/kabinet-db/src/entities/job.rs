//! The `jobs` table.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub run_at: TimeDateTimeWithTimeZone,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: String,
    pub locked_until: Option<TimeDateTimeWithTimeZone>,
    pub lock_token: Option<String>,
    pub unique_key: Option<String>,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
