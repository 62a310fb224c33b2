//! The `card_refunds` table: refunds of card payments.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "card_refunds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub public_id: String,
    pub payment_id: i64,
    pub gateway_id: Option<String>,
    pub status: String,
    pub amount: i64,
    pub reason: String,
    pub staff_id: Option<i64>,
    pub failure: Option<String>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub settled_at: Option<TimeDateTimeWithTimeZone>,
    pub next_check_at: Option<TimeDateTimeWithTimeZone>,
    pub checks: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
