//! The billing core: organization, payees, premises, accounts, services, periods,
//! charges, invoices, payments, meters and readings. Money columns are BIGINT
//! kopecks; periods are INTEGER `YYYYMM`. `charges`, the largest table, has no
//! foreign keys (see the comment on it).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::idx;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000001_billing_core"
    }
}

fn fk(
    from: &'static str,
    col: &'static str,
    to: &'static str,
    to_col: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from}_{col}"))
        .from(from, col)
        .to(to, to_col)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// Tables in creation order; dropped in reverse.
const TABLES: [&str; 11] = [
    "organizations",
    "payees",
    "premises",
    "accounts",
    "services",
    "billing_periods",
    "charges",
    "invoices",
    "payments",
    "meters",
    "meter_readings",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("organizations")
                .col(big_pk_auto("id"))
                .col(text("name"))
                .col(text("short_name"))
                .col(string_len("inn", 12))
                .col(string_len("kpp", 9))
                .col(string_len("ogrn", 15))
                .col(text("address"))
                .col(string_len("phone", 32))
                .col(string_len("dispatch_phone", 32))
                .col(string_len("email", 254))
                .col(string_len("website", 254))
                .col(boolean("is_demo").default(false))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("payees")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("code", 32))
                .col(text("name"))
                .col(string_len("inn", 12))
                .col(string_len("kpp", 9))
                .col(string_len("bank_name", 200))
                .col(string_len("bic", 9))
                .col(string_len("correspondent_account", 20))
                .col(string_len("settlement_account", 20))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("premises")
                .col(big_pk_auto("id"))
                .col(text("address"))
                .col(string_len_null("flat", 16))
                .col(big_integer("total_area"))
                .col(big_integer_null("living_area"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("accounts")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("number", 32))
                .col(big_integer("premises_id"))
                .col(text("holder_name"))
                .col(integer("residents"))
                .col(string_len_null("els", 10))
                .col(string_len_null("izhku", 13))
                .col(date("opened_on"))
                .col(date_null("closed_on"))
                .foreign_key(&mut fk("accounts", "premises_id", "premises", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("accounts", "premises", &["premises_id"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("services")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("code", 32))
                .col(text("name"))
                .col(string_len("unit", 16))
                .col(big_integer("payee_id"))
                .col(string_len_null("resource", 16))
                .col(small_integer_null("zone"))
                .col(integer("sort_order"))
                .foreign_key(&mut fk("services", "payee_id", "payees", "id"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("billing_periods")
                .col(integer("period").primary_key())
                .col(date("issued_on"))
                .col(date("due_date"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("charges")
                .col(big_pk_auto("id"))
                .col(big_integer("account_id"))
                .col(integer("period"))
                .col(big_integer("service_id"))
                .col(big_integer_null("volume"))
                .col(string_len("unit", 16))
                .col(big_integer_null("tariff"))
                .col(big_integer("charged"))
                .col(big_integer("recalculation"))
                .col(big_integer("benefits"))
                .col(big_integer("total"))
                .col(string_len("method", 16))
                // No foreign keys here on purpose: a monthly import writes a
                // million charge rows, and PostgreSQL's per-row FK triggers
                // triple its time. Every write path resolves the references
                // (imports join on natural keys inside the same transaction) and
                // nothing deletes accounts, services or periods.
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "charges",
            "account_period_service",
            &["account_id", "period", "service_id"],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("invoices")
                .col(big_pk_auto("id"))
                .col(big_integer("account_id"))
                .col(integer("period"))
                .col(string_len("number", 32))
                .col(big_integer("opening_balance"))
                .col(big_integer("charged"))
                .col(big_integer("paid"))
                .col(big_integer("penalties"))
                .col(big_integer("total_due"))
                .col(date("due_date"))
                .foreign_key(&mut fk("invoices", "account_id", "accounts", "id"))
                .foreign_key(&mut fk("invoices", "period", "billing_periods", "period"))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("invoices", "account_period", &["account_id", "period"], true))
            .await?;

        m.create_table(
            Table::create()
                .table("payments")
                .col(big_pk_auto("id"))
                .col(big_integer("account_id"))
                .col(string_len("source", 16))
                .col(string_len("external_id", 64))
                .col(big_integer("amount"))
                .col(timestamp_with_time_zone("paid_at"))
                .col(integer_null("period"))
                .foreign_key(&mut fk("payments", "account_id", "accounts", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "payments",
            "source_external",
            &["source", "external_id"],
            true,
        ))
        .await?;
        m.create_index(idx("payments", "account_paid", &["account_id", "paid_at"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("meters")
                .col(big_pk_auto("id"))
                .col(big_integer("account_id"))
                .col(string_len("serial", 32))
                .col(string_len("resource", 16))
                .col(string_len("location", 64))
                .col(small_integer("tariffs"))
                .col(small_integer("integer_digits"))
                .col(small_integer("fraction_digits"))
                .col(integer("scale"))
                .col(date("installed_on"))
                .col(date("verification_due"))
                .col(string_len("status", 16))
                .foreign_key(&mut fk("meters", "account_id", "accounts", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("meters", "account", &["account_id"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("meter_readings")
                .col(big_pk_auto("id"))
                .col(big_integer("meter_id"))
                .col(small_integer("zone"))
                .col(big_integer("value"))
                .col(date("taken_on"))
                .col(string_len("source", 16))
                .col(timestamp_with_time_zone("submitted_at"))
                .foreign_key(&mut fk("meter_readings", "meter_id", "meters", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "meter_readings",
            "meter_day_zone",
            &["meter_id", "taken_on", "zone"],
            true,
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(*table).to_owned()).await?;
        }
        Ok(())
    }
}
