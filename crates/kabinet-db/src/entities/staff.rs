//! The `staff` table: the organization's people who sign in to the office.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub login: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub password_generated: bool,
    pub password_expires_at: Option<TimeDateTimeWithTimeZone>,
    pub totp_secret: Option<String>,
    pub totp_sealed: Option<String>,
    pub totp_enabled: bool,
    pub totp_last_step: i64,
    pub disabled: bool,
    pub failed_count: i32,
    pub failed_window_start: Option<TimeDateTimeWithTimeZone>,
    pub last_failed_at: Option<TimeDateTimeWithTimeZone>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub buildings: String,
    pub email: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
