//! Autopay: the payment methods the gateway keeps for residents
//! (`saved_methods`, unique per gateway id), one autopay per account
//! (`autopays`), and one debit per account and invoice period
//! (`autopay_debits`, UNIQUE — however often or wherever the job runs, an
//! invoice is debited once). A card payment remembers whether the resident
//! asked to keep its method and which kept method pays it.

use super::idx;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000026_autopay"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("saved_methods")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("gateway", 16))
                .col(string_len("method_id", 64))
                .col(string_len_null("kind", 16))
                .col(string_len("title", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("forgotten_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("saved_methods", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "saved_methods",
            "gateway_method",
            &["gateway", "method_id"],
            true,
        ))
        .await?;
        m.create_index(idx("saved_methods", "user", &["user_id"], false))
            .await?;
        m.create_table(
            Table::create()
                .table("autopays")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("account_id"))
                .col(big_integer("user_id"))
                .col(big_integer("method_id"))
                .col(big_integer("max_amount"))
                .col(small_integer_null("day"))
                .col(integer("after_period"))
                .col(integer("failures").default(0))
                .col(boolean("enabled"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("autopays", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("autopays", "method_id")
                        .to("saved_methods", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(idx("autopays", "enabled", &["enabled"], false))
            .await?;
        m.create_table(
            Table::create()
                .table("autopay_debits")
                .col(big_pk_auto("id"))
                .col(big_integer("autopay_id"))
                .col(big_integer("account_id"))
                .col(integer("period"))
                .col(big_integer("amount"))
                .col(date("debit_on"))
                .col(date("notice_on"))
                .col(string_len("status", 16))
                .col(boolean("noticed").default(false))
                .col(big_integer_null("card_payment_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("autopay_debits", "autopay_id")
                        .to("autopays", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "autopay_debits",
            "account_period",
            &["account_id", "period"],
            true,
        ))
        .await?;
        m.create_index(idx("autopay_debits", "status", &["status", "debit_on"], false))
            .await?;
        for mut col in [
            boolean("save_method").default(false).to_owned(),
            big_integer_null("saved_method_id"),
        ] {
            m.alter_table(
                Table::alter()
                    .table("card_payments")
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in ["save_method", "saved_method_id"] {
            m.alter_table(Table::alter().table("card_payments").drop_column(name).to_owned())
                .await?;
        }
        for t in ["autopay_debits", "autopays", "saved_methods"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
