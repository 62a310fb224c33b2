//! Staff and residents' requests: staff members with their second factor,
//! recovery codes and sessions; the organization's request categories
//! (seeded with the defaults); requests with their history and photos; and
//! the photo bytes when the database is the photo store.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000008_requests"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("staff")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("login", 64))
                .col(string_len("name", 128))
                .col(string_len("role", 16))
                .col(text("password_hash"))
                .col(boolean("password_generated"))
                .col(string_len_null("totp_secret", 64))
                .col(boolean("totp_enabled").default(false))
                .col(big_integer("totp_last_step").default(0))
                .col(boolean("disabled").default(false))
                .col(integer("failed_count").default(0))
                .col(timestamp_with_time_zone_null("failed_window_start"))
                .col(timestamp_with_time_zone_null("last_failed_at"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("staff_recovery_codes")
                .col(big_pk_auto("id"))
                .col(big_integer("staff_id"))
                .col(string_len("code_hash", 64))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(&mut fk(
                    "staff_recovery_codes",
                    "staff_id",
                    "staff",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "staff_recovery_codes",
            "staff_code",
            &["staff_id", "code_hash"],
            true,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("staff_sessions")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("token_hash", 64))
                .col(big_integer("staff_id"))
                .col(string_len("stage", 16))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("last_seen_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(string_len("ip", 64))
                .col(string_len("user_agent", 512))
                .foreign_key(&mut fk(
                    "staff_sessions",
                    "staff_id",
                    "staff",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("staff_sessions", "staff", &["staff_id"], false))
            .await?;
        m.create_table(
            Table::create()
                .table("request_categories")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("code", 32))
                .col(string_len("name", 128))
                .col(string_len("desk", 16))
                .col(boolean("emergency"))
                .col(big_integer_null("deadline_hours"))
                .col(integer("position"))
                .col(boolean("active").default(true))
                .to_owned(),
        )
        .await?;
        let mut seed = Query::insert();
        seed.into_table("request_categories").columns([
            "code",
            "name",
            "desk",
            "emergency",
            "position",
            "active",
        ]);
        for (i, (code, name, desk)) in kabinet_domain::requests::DEFAULT_CATEGORIES.iter().enumerate() {
            let dispatch = *desk == kabinet_domain::requests::Desk::Dispatch;
            seed.values([
                (*code).into(),
                (*name).into(),
                desk.as_str().into(),
                dispatch.into(),
                <i32 as std::convert::TryFrom<usize>>::try_from(i)
                    .unwrap_or(0)
                    .into(),
                true.into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        m.exec_stmt(seed).await?;
        m.create_table(
            Table::create()
                .table("requests")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(big_integer("account_id"))
                .col(string_len("account_number", 32))
                .col(text("address"))
                .col(string_len("category", 32))
                .col(string_len("category_name", 128))
                .col(string_len("desk", 16))
                .col(boolean("emergency"))
                .col(text("body"))
                .col(text("body_norm"))
                .col(string_len("phone", 32))
                .col(string_len("visit_time", 200))
                .col(string_len("status", 16))
                .col(timestamp_with_time_zone("due_at"))
                .col(date_null("deferred_until"))
                .col(big_integer_null("assignee_id"))
                .col(small_integer_null("rating"))
                .col(integer("reopened").default(0))
                .col(text_null("reason"))
                .col(integer("photos").default(0))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(
                    "requests",
                    "user_id",
                    "users",
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "requests",
                    "account_id",
                    "accounts",
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "requests",
                    "assignee_id",
                    "staff",
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("requests", "user_created", &["user_id", "created_at"], false))
            .await?;
        // The queue: open requests, emergencies first, then by deadline.
        m.create_index(idx(
            "requests",
            "queue",
            &["status", "emergency", "due_at"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("request_events")
                .col(big_pk_auto("id"))
                .col(big_integer("request_id"))
                .col(timestamp_with_time_zone("at"))
                .col(string_len("kind", 16))
                .col(big_integer_null("staff_id"))
                .col(string_len_null("from_status", 16))
                .col(string_len_null("to_status", 16))
                .col(text("body"))
                .foreign_key(&mut fk(
                    "request_events",
                    "request_id",
                    "requests",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "request_events",
                    "staff_id",
                    "staff",
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("request_events", "request", &["request_id"], false))
            .await?;
        m.create_table(
            Table::create()
                .table("request_photos")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("public_id", 32))
                .col(big_integer("request_id"))
                .col(integer("position"))
                .col(integer("width"))
                .col(integer("height"))
                .col(big_integer("bytes"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "request_photos",
                    "request_id",
                    "requests",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("request_photos", "request", &["request_id"], false))
            .await?;
        m.create_table(
            Table::create()
                .table("photo_blobs")
                .col(string_len("key", 64).primary_key())
                .col(blob("data"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "photo_blobs",
            "request_photos",
            "request_events",
            "requests",
            "request_categories",
            "staff_sessions",
            "staff_recovery_codes",
            "staff",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
