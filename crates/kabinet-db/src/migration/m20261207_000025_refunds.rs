//! Refunds and payment methods: `card_refunds` (a refund of a card payment,
//! full or partial, with the gateway's id, unique), the sandbox gateway's own
//! refunds, and on `card_payments` the method (`sbp`, `bank_card`), the fee
//! the payer paid on top of the shares, and the sum refunded so far. The
//! payments credited to accounts carry the gateway's payment id, and a
//! refund's negative rows its refund id too, for the export to billing.

use super::idx;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000025_refunds"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for mut col in [
            string_len_null("method", 16),
            big_integer("fee").default(0).to_owned(),
            big_integer("refunded").default(0).to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table("card_payments")
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table("sandbox_payments")
                .add_column(string_len_null("method", 16))
                .to_owned(),
        )
        .await?;
        for name in ["gateway_payment_id", "gateway_refund_id"] {
            m.alter_table(
                Table::alter()
                    .table("payments")
                    .add_column(string_len_null(name, 64))
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table("card_refunds")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("public_id", 32))
                .col(big_integer("payment_id"))
                .col(string_len_null("gateway_id", 64))
                .col(string_len("status", 16))
                .col(big_integer("amount"))
                .col(text("reason"))
                .col(big_integer_null("staff_id"))
                .col(text_null("failure"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("settled_at"))
                .col(timestamp_with_time_zone_null("next_check_at"))
                .col(integer("checks").default(0))
                .foreign_key(
                    ForeignKey::create()
                        .from("card_refunds", "payment_id")
                        .to("card_payments", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(idx("card_refunds", "gateway_id", &["gateway_id"], true))
            .await?;
        m.create_index(idx("card_refunds", "payment", &["payment_id"], false))
            .await?;
        m.create_index(idx("card_refunds", "next_check", &["next_check_at"], false))
            .await?;
        m.create_table(
            Table::create()
                .table("sandbox_refunds")
                .col(string_len("id", 40).primary_key())
                .col(string_len_uniq("idempotence_key", 64))
                .col(string_len("payment_id", 40))
                .col(big_integer("amount"))
                .col(string_len("status", 16))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("sandbox_refunds", "payment", &["payment_id"], false))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("sandbox_refunds").to_owned())
            .await?;
        m.drop_table(Table::drop().table("card_refunds").to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table("sandbox_payments")
                .drop_column("method")
                .to_owned(),
        )
        .await?;
        for name in ["gateway_payment_id", "gateway_refund_id"] {
            m.alter_table(Table::alter().table("payments").drop_column(name).to_owned())
                .await?;
        }
        for name in ["method", "fee", "refunded"] {
            m.alter_table(Table::alter().table("card_payments").drop_column(name).to_owned())
                .await?;
        }
        Ok(())
    }
}
