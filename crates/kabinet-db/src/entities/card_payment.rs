//! The `card_payments` table.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "card_payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub public_id: String,
    pub user_id: i64,
    pub gateway: String,
    pub gateway_id: Option<String>,
    pub status: String,
    pub amount: i64,
    pub description: String,
    pub email: Option<String>,
    pub confirmation_url: Option<String>,
    pub card: Option<String>,
    pub failure: Option<String>,
    pub ip: Option<String>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
    pub settled_at: Option<TimeDateTimeWithTimeZone>,
    pub next_check_at: Option<TimeDateTimeWithTimeZone>,
    pub checks: i32,
    pub locked_until: Option<TimeDateTimeWithTimeZone>,
    pub test: bool,
    pub method: Option<String>,
    pub fee: i64,
    pub refunded: i64,
    pub save_method: bool,
    pub saved_method_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
