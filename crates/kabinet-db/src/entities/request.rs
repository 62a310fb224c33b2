//! The `requests` table.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub account_id: i64,
    pub account_number: String,
    pub address: String,
    pub category: String,
    pub category_name: String,
    pub desk: String,
    pub emergency: bool,
    pub body: String,
    pub body_norm: String,
    pub phone: String,
    pub visit_time: String,
    pub status: String,
    pub due_at: TimeDateTimeWithTimeZone,
    pub deferred_until: Option<TimeDate>,
    pub assignee_id: Option<i64>,
    pub rating: Option<i16>,
    pub reopened: i32,
    pub reason: Option<String>,
    pub photos: i32,
    pub joined: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::staff::Entity",
        from = "Column::AssigneeId",
        to = "super::staff::Column::Id"
    )]
    Assignee,
}

impl ActiveModelBehavior for ActiveModel {}
