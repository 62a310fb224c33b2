//! Schema migrations, written once with sea-query and rendered for SQLite and
//! PostgreSQL. Each later feature adds its own migration file here.

use sea_orm_migration::prelude::*;

mod m20261124_000001_billing_core;
mod m20261124_000002_exchange;
mod m20261124_000003_residents;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_billing_core::Migration),
            Box::new(m20261124_000002_exchange::Migration),
            Box::new(m20261124_000003_residents::Migration),
        ]
    }
}
