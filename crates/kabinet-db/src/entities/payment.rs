//! The `payments` table.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub source: String,
    pub external_id: String,
    pub amount: i64,
    pub paid_at: TimeDateTimeWithTimeZone,
    pub period: Option<i32>,
    pub export_run_id: Option<i64>,
    pub confirmed: bool,
    pub gateway_payment_id: Option<String>,
    pub gateway_refund_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
