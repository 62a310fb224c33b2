//! The `outbox` table.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub created_at: TimeDateTimeWithTimeZone,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: TimeDateTimeWithTimeZone,
    pub locked_until: Option<TimeDateTimeWithTimeZone>,
    pub last_error: String,
    pub sent_at: Option<TimeDateTimeWithTimeZone>,
    pub user_id: Option<i64>,
    pub event_id: Option<i64>,
    pub lock_token: Option<String>,
    pub unsubscribed_at: Option<TimeDateTimeWithTimeZone>,
    pub provider_ref: Option<String>,
    pub delivery: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
