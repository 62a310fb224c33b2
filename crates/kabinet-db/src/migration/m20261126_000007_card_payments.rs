//! Card payments through a gateway: the payment with its state and the
//! gateway's id (unique, so two rows can never claim one gateway payment),
//! its shares per account, and the sandbox gateway's own test payments. A
//! payment's shares are credited to `payments` when it succeeds; `confirmed`
//! there tells whether the billing system has reported the row back;
//! `accounts.card_payments_until` says until when an account may have one in
//! progress.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000007_card_payments"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("card_payments")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("public_id", 32))
                .col(big_integer("user_id"))
                .col(string_len("gateway", 16))
                .col(string_len_null("gateway_id", 64))
                .col(string_len("status", 16))
                .col(big_integer("amount"))
                .col(text("description"))
                .col(string_len_null("email", 254))
                .col(text_null("confirmation_url"))
                .col(string_len_null("card", 64))
                .col(text_null("failure"))
                .col(string_len_null("ip", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("settled_at"))
                .col(timestamp_with_time_zone_null("next_check_at"))
                .col(integer("checks").default(0))
                .col(timestamp_with_time_zone_null("locked_until"))
                .foreign_key(&mut fk(
                    "card_payments",
                    "user_id",
                    "users",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("card_payments", "gateway_id", &["gateway_id"], true))
            .await?;
        m.create_index(idx(
            "card_payments",
            "user_created",
            &["user_id", "created_at"],
            false,
        ))
        .await?;
        m.create_index(idx("card_payments", "next_check", &["next_check_at"], false))
            .await?;
        m.create_table(
            Table::create()
                .table("card_payment_shares")
                .col(big_pk_auto("id"))
                .col(big_integer("payment_id"))
                .col(big_integer("account_id"))
                .col(big_integer("amount"))
                .foreign_key(&mut fk(
                    "card_payment_shares",
                    "payment_id",
                    "card_payments",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "card_payment_shares",
                    "account_id",
                    "accounts",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "card_payment_shares",
            "payment_account",
            &["payment_id", "account_id"],
            true,
        ))
        .await?;
        m.create_index(idx("card_payment_shares", "account", &["account_id"], false))
            .await?;
        m.create_table(
            Table::create()
                .table("sandbox_payments")
                .col(string_len("id", 40).primary_key())
                .col(string_len_uniq("idempotence_key", 64))
                .col(string_len("reference", 64))
                .col(big_integer("amount"))
                .col(text("description"))
                .col(text("return_url"))
                .col(string_len("status", 16))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("payments")
                .add_column(boolean("confirmed").default(true))
                .to_owned(),
        )
        .await?;
        // Until when an account may have a card payment in progress: pages
        // read the payments only while this is ahead, so an account nobody
        // paid by card lately costs no extra statement.
        m.alter_table(
            Table::alter()
                .table("accounts")
                .add_column(timestamp_with_time_zone_null("card_payments_until"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("accounts")
                .drop_column("card_payments_until")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("payments")
                .drop_column("confirmed")
                .to_owned(),
        )
        .await?;
        for t in ["sandbox_payments", "card_payment_shares", "card_payments"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
