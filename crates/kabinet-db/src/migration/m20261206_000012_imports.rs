//! Billing packages uploaded in the office: the package's record (who, when,
//! its files, where it stands, its counts), its bytes in chunks while they
//! are needed (so the server that checks or imports it need not be the one
//! that received it), and the problems its check found.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000012_imports"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("imports")
                .col(big_pk_auto("id"))
                .col(big_integer_null("staff_id"))
                .col(string_len("actor", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(string_len("state", 16))
                .col(text("files").default(""))
                .col(big_integer("size").default(0))
                .col(big_integer("done").default(0))
                .col(big_integer("total").default(0))
                .col(big_integer("lines").default(0))
                .col(big_integer("written").default(0))
                .col(big_integer("problems").default(0))
                .col(text("counts").default(""))
                .col(text("message").default(""))
                .foreign_key(&mut fk("imports", "staff_id", "staff", ForeignKeyAction::SetNull))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("imports", "state", &["state"], false)).await?;
        m.create_table(
            Table::create()
                .table("import_chunks")
                .col(big_integer("import_id"))
                .col(integer("file_no"))
                .col(integer("seq"))
                .col(blob("data"))
                .primary_key(Index::create().col("import_id").col("file_no").col("seq"))
                .foreign_key(&mut fk(
                    "import_chunks",
                    "import_id",
                    "imports",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("import_problems")
                .col(big_integer("import_id"))
                .col(integer("seq"))
                .col(string_len("file", 300))
                .col(big_integer("line"))
                .col(string_len("col", 100))
                .col(string_len("code", 64))
                .col(text("message"))
                .primary_key(Index::create().col("import_id").col("seq"))
                .foreign_key(&mut fk(
                    "import_problems",
                    "import_id",
                    "imports",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["import_problems", "import_chunks", "imports"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
