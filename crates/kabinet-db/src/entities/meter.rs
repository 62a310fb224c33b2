//! The `meters` table.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meters")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub serial: String,
    pub resource: String,
    pub location: String,
    pub tariffs: i16,
    pub integer_digits: i16,
    pub fraction_digits: i16,
    pub scale: i32,
    pub installed_on: TimeDate,
    pub verification_due: TimeDate,
    pub status: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
