//! The `meter_readings` table.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meter_readings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub meter_id: i64,
    pub zone: i16,
    pub value: i64,
    pub taken_on: TimeDate,
    pub source: String,
    pub submitted_at: TimeDateTimeWithTimeZone,
    pub export_run_id: Option<i64>,
    pub period: Option<i32>,
    pub user_id: Option<i64>,
    pub ip: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
