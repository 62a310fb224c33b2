//! Schema migrations, written once with sea-query and rendered for SQLite and
//! PostgreSQL. Each later feature adds its own migration file here.

use sea_orm_migration::prelude::*;

mod m20261124_000001_billing_core;
mod m20261124_000002_exchange;
mod m20261124_000003_residents;
mod m20261125_000004_account_counters;
mod m20261125_000005_portal;
mod m20261125_000006_readings;
mod m20261126_000007_card_payments;
mod m20261127_000008_requests;
mod m20261206_000009_trust;
mod m20261206_000010_jobs;
mod m20261206_000011_office;
mod m20261206_000012_imports;
mod m20261206_000013_consent;
mod m20261207_000014_office_indexes;
mod m20261207_000015_support;
mod m20261207_000016_announcements;
mod m20261207_000017_staff_email;
mod m20261207_000018_my_data;
mod m20261207_000019_joins;
mod m20261207_000020_notify;
mod m20261207_000021_verification;
mod m20261207_000022_sms;
mod m20261207_000023_max;
mod m20261207_000024_notify_texts;
mod m20261207_000025_refunds;
mod m20261207_000026_autopay;
mod m20261208_000027_address_hits;

/// An index `ux_<table>_<name>` (unique) or `ix_<table>_<name>` on `cols`.
pub(crate) fn idx(
    table: &'static str,
    name: &str,
    cols: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("{}_{table}_{name}", if unique { "ux" } else { "ix" }))
        .table(table);
    for c in cols {
        i.col(*c);
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

/// A foreign key `fk_<from>_<col>` from `from.col` to `to.id`.
pub(crate) fn fk(
    from: &'static str,
    col: &'static str,
    to: &'static str,
    action: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from}_{col}"))
        .from(from, col)
        .to(to, "id")
        .on_delete(action)
        .to_owned()
}

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_billing_core::Migration),
            Box::new(m20261124_000002_exchange::Migration),
            Box::new(m20261124_000003_residents::Migration),
            Box::new(m20261125_000004_account_counters::Migration),
            Box::new(m20261125_000005_portal::Migration),
            Box::new(m20261125_000006_readings::Migration),
            Box::new(m20261126_000007_card_payments::Migration),
            Box::new(m20261127_000008_requests::Migration),
            Box::new(m20261206_000009_trust::Migration),
            Box::new(m20261206_000010_jobs::Migration),
            Box::new(m20261206_000011_office::Migration),
            Box::new(m20261206_000012_imports::Migration),
            Box::new(m20261206_000013_consent::Migration),
            Box::new(m20261207_000014_office_indexes::Migration),
            Box::new(m20261207_000015_support::Migration),
            Box::new(m20261207_000016_announcements::Migration),
            Box::new(m20261207_000017_staff_email::Migration),
            Box::new(m20261207_000018_my_data::Migration),
            Box::new(m20261207_000019_joins::Migration),
            Box::new(m20261207_000020_notify::Migration),
            Box::new(m20261207_000021_verification::Migration),
            Box::new(m20261207_000022_sms::Migration),
            Box::new(m20261207_000023_max::Migration),
            Box::new(m20261207_000024_notify_texts::Migration),
            Box::new(m20261207_000025_refunds::Migration),
            Box::new(m20261207_000026_autopay::Migration),
            Box::new(m20261208_000027_address_hits::Migration),
        ]
    }
}
