//! The `autopay_debits` table: one debit per account and invoice period.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "autopay_debits")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub autopay_id: i64,
    pub account_id: i64,
    pub period: i32,
    pub amount: i64,
    pub debit_on: TimeDate,
    pub notice_on: TimeDate,
    pub status: String,
    pub noticed: bool,
    pub card_payment_id: Option<i64>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
