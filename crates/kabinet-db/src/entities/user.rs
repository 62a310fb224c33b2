//! The `users` table.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub account_id: i64,
    pub email: String,
    pub password_hash: String,
    pub password_generated: bool,
    pub password_expires_at: Option<TimeDateTimeWithTimeZone>,
    pub blocked: bool,
    pub rules_version: i32,
    pub failed_count: i32,
    pub failed_window_start: Option<TimeDateTimeWithTimeZone>,
    pub last_failed_at: Option<TimeDateTimeWithTimeZone>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub password_changed_at: TimeDateTimeWithTimeZone,
    pub phone: Option<String>,
    pub language: Option<String>,
    pub paperless: bool,
    pub notifications: String,
    pub consent_version: i32,
    pub sms_notifications: String,
    pub phone_verified: Option<String>,
    pub max_user: Option<i64>,
    pub max_notifications: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
