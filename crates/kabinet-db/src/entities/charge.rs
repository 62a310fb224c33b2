//! The `charges` table.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "charges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub period: i32,
    pub service_id: i64,
    pub volume: Option<i64>,
    pub unit: String,
    pub tariff: Option<i64>,
    pub charged: i64,
    pub recalculation: i64,
    pub benefits: i64,
    pub total: i64,
    pub method: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
