//! Billing packages uploaded in the office (see
//! [`kabinet_domain::imports::ImportState`]): their records, their bytes in
//! chunks while they are needed, and the problems their check found.

use crate::entities::{import, import_chunk, import_problem};
use crate::{Conn, DbError};
use kabinet_domain::ImportId;
use kabinet_domain::StaffId;
use kabinet_domain::imports::ImportState;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use time::OffsetDateTime;

/// What one file of a package held, as checked or imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCount {
    /// The kind of file (`accounts`, …).
    pub kind: String,
    /// Its encoding as read.
    pub encoding: String,
    /// Data lines.
    pub lines: u64,
    /// Rows it writes (or would write).
    pub written: u64,
    /// Problems found.
    pub problems: u64,
}

/// An uploaded package.
#[derive(Debug, Clone)]
pub struct Import {
    /// Its id.
    pub id: ImportId,
    /// Who uploaded it.
    pub staff_id: Option<StaffId>,
    /// Their login.
    pub actor: String,
    /// When the upload began.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
    /// Where it stands.
    pub state: ImportState,
    /// The names of the files uploaded.
    pub files: Vec<String>,
    /// Their size in bytes.
    pub size: u64,
    /// Progress of the work in hand: bytes done of `total`.
    pub done: u64,
    /// See `done`.
    pub total: u64,
    /// Data lines in all files.
    pub lines: u64,
    /// Rows written (or, after a check, that would be).
    pub written: u64,
    /// Problems found.
    pub problems: u64,
    /// Per file.
    pub counts: Vec<FileCount>,
    /// Why it failed, when it did.
    pub message: String,
}

/// A problem found in a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProblem {
    /// The file (as uploaded, or `archive: entry`).
    pub file: String,
    /// Its line (the header is 1); 0 for the file as a whole.
    pub line: u64,
    /// The column, if one.
    pub column: String,
    /// A message id for a problem of the package as a whole; empty for a
    /// line's problem, whose text is `message`.
    pub code: String,
    /// What is wrong with the line (the exchange format's own words).
    pub message: String,
}

/// How a check or an import ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The state it ends in.
    pub state: ImportState,
    /// Data lines.
    pub lines: u64,
    /// Rows written or that would be.
    pub written: u64,
    /// Problems.
    pub problems: u64,
    /// Per file.
    pub counts: Vec<FileCount>,
    /// Why it failed.
    pub message: String,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn encode_counts(counts: &[FileCount]) -> String {
    counts
        .iter()
        .map(|c| {
            format!(
                "{};{};{};{};{}",
                c.kind, c.encoding, c.lines, c.written, c.problems
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn decode_counts(s: &str) -> Vec<FileCount> {
    s.lines()
        .filter_map(|l| {
            let mut p = l.split(';');
            Some(FileCount {
                kind: p.next()?.to_string(),
                encoding: p.next()?.to_string(),
                lines: p.next()?.parse().ok()?,
                written: p.next()?.parse().ok()?,
                problems: p.next()?.parse().ok()?,
            })
        })
        .collect()
}

impl TryFrom<import::Model> for Import {
    type Error = DbError;
    fn try_from(m: import::Model) -> Result<Import, DbError> {
        let state = ImportState::from_stored(&m.state)
            .ok_or_else(|| crate::convert::corrupt("imports", "state", &m.state))?;
        Ok(Import {
            id: ImportId(m.id),
            staff_id: m.staff_id.map(StaffId),
            actor: m.actor,
            created_at: m.created_at,
            updated_at: m.updated_at,
            state,
            files: m.files.lines().map(str::to_string).collect(),
            size: to_u64(m.size),
            done: to_u64(m.done),
            total: to_u64(m.total),
            lines: to_u64(m.lines),
            written: to_u64(m.written),
            problems: to_u64(m.problems),
            counts: decode_counts(&m.counts),
            message: m.message,
        })
    }
}

/// Uploaded packages (see [`crate::Repos::imports`]).
pub struct Imports<'a, C>(pub(crate) &'a C);

impl<C: Conn> Imports<'_, C> {
    /// Records a new upload by `staff` (`actor` is their login).
    pub async fn create(
        &self,
        staff: Option<StaffId>,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<ImportId, DbError> {
        let m = import::ActiveModel {
            staff_id: Set(staff.map(|s| s.0)),
            actor: Set(actor.chars().take(64).collect()),
            created_at: Set(now),
            updated_at: Set(now),
            state: Set(ImportState::Uploading.as_str().into()),
            files: Set(String::new()),
            size: Set(0),
            done: Set(0),
            total: Set(0),
            lines: Set(0),
            written: Set(0),
            problems: Set(0),
            counts: Set(String::new()),
            message: Set(String::new()),
            ..Default::default()
        }
        .insert(self.0.conn())
        .await?;
        Ok(ImportId(m.id))
    }

    /// Stores chunk `seq` of file `file_no` of the package.
    pub async fn add_chunk(
        &self,
        id: ImportId,
        file_no: i32,
        seq: i32,
        data: Vec<u8>,
    ) -> Result<(), DbError> {
        import_chunk::Entity::insert(import_chunk::ActiveModel {
            import_id: Set(id.0),
            file_no: Set(file_no),
            seq: Set(seq),
            data: Set(data),
        })
        .exec_without_returning(self.0.conn())
        .await?;
        Ok(())
    }

    /// Chunk `seq` of file `file_no`, if there is one.
    pub async fn chunk(&self, id: ImportId, file_no: i32, seq: i32) -> Result<Option<Vec<u8>>, DbError> {
        Ok(import_chunk::Entity::find_by_id((id.0, file_no, seq))
            .one(self.0.conn())
            .await?
            .map(|c| c.data))
    }

    /// Forgets the package's bytes.
    pub async fn drop_chunks(&self, id: ImportId) -> Result<(), DbError> {
        import_chunk::Entity::delete_many()
            .filter(import_chunk::Column::ImportId.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Records the names and size of the files received.
    pub async fn set_files(&self, id: ImportId, files: &[String], size: u64) -> Result<(), DbError> {
        import::Entity::update_many()
            .col_expr(import::Column::Files, Expr::value(files.join("\n")))
            .col_expr(import::Column::Size, Expr::value(to_i64(size)))
            .filter(import::Column::Id.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Moves the package to `to` if it is in one of `from`; false if it was not.
    pub async fn transition(
        &self,
        id: ImportId,
        from: &[ImportState],
        to: ImportState,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let r = import::Entity::update_many()
            .col_expr(import::Column::State, Expr::value(to.as_str()))
            .col_expr(import::Column::UpdatedAt, Expr::value(now))
            .col_expr(import::Column::Done, Expr::value(0i64))
            .filter(import::Column::Id.eq(id.0))
            .filter(import::Column::State.is_in(from.iter().map(|s| s.as_str())))
            .exec(self.0.conn())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Packages other than `except` in one of `states`, oldest first.
    pub async fn in_states(
        &self,
        states: &[ImportState],
        except: Option<ImportId>,
    ) -> Result<Vec<ImportId>, DbError> {
        let mut q = import::Entity::find()
            .select_only()
            .column(import::Column::Id)
            .filter(import::Column::State.is_in(states.iter().map(|s| s.as_str())));
        if let Some(e) = except {
            q = q.filter(import::Column::Id.ne(e.0));
        }
        Ok(q.order_by_asc(import::Column::Id)
            .into_tuple::<i64>()
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(ImportId)
            .collect())
    }

    /// Records progress of the work in hand.
    pub async fn progress(
        &self,
        id: ImportId,
        done: u64,
        total: u64,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        import::Entity::update_many()
            .col_expr(import::Column::Done, Expr::value(to_i64(done)))
            .col_expr(import::Column::Total, Expr::value(to_i64(total)))
            .col_expr(import::Column::UpdatedAt, Expr::value(now))
            .filter(import::Column::Id.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Records how a check or an import ended.
    pub async fn finish(&self, id: ImportId, o: &Outcome, now: OffsetDateTime) -> Result<(), DbError> {
        import::Entity::update_many()
            .col_expr(import::Column::State, Expr::value(o.state.as_str()))
            .col_expr(import::Column::Lines, Expr::value(to_i64(o.lines)))
            .col_expr(import::Column::Written, Expr::value(to_i64(o.written)))
            .col_expr(import::Column::Problems, Expr::value(to_i64(o.problems)))
            .col_expr(import::Column::Counts, Expr::value(encode_counts(&o.counts)))
            .col_expr(
                import::Column::Message,
                Expr::value(o.message.chars().take(2000).collect::<String>()),
            )
            .col_expr(import::Column::Done, Expr::col(import::Column::Total))
            .col_expr(import::Column::UpdatedAt, Expr::value(now))
            .filter(import::Column::Id.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Replaces the package's problems with `problems`.
    pub async fn put_problems(&self, id: ImportId, problems: &[StoredProblem]) -> Result<(), DbError> {
        import_problem::Entity::delete_many()
            .filter(import_problem::Column::ImportId.eq(id.0))
            .exec(self.0.conn())
            .await?;
        for (n, batch) in problems.chunks(500).enumerate() {
            let rows = batch
                .iter()
                .enumerate()
                .map(|(i, p)| import_problem::ActiveModel {
                    import_id: Set(id.0),
                    seq: Set(i32::try_from(n * 500 + i).unwrap_or(i32::MAX)),
                    file: Set(p.file.chars().take(300).collect()),
                    line: Set(to_i64(p.line)),
                    col: Set(p.column.chars().take(100).collect()),
                    code: Set(p.code.chars().take(64).collect()),
                    message: Set(p.message.clone()),
                });
            import_problem::Entity::insert_many(rows)
                .exec_without_returning(self.0.conn())
                .await?;
        }
        Ok(())
    }

    /// The package's first `limit` problems, in the order found.
    pub async fn problems(&self, id: ImportId, limit: u64) -> Result<Vec<StoredProblem>, DbError> {
        Ok(import_problem::Entity::find()
            .filter(import_problem::Column::ImportId.eq(id.0))
            .order_by_asc(import_problem::Column::Seq)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(|p| StoredProblem {
                file: p.file,
                line: to_u64(p.line),
                column: p.col,
                code: p.code,
                message: p.message,
            })
            .collect())
    }

    /// One package.
    pub async fn get(&self, id: ImportId) -> Result<Option<Import>, DbError> {
        import::Entity::find_by_id(id.0)
            .one(self.0.conn())
            .await?
            .map(Import::try_from)
            .transpose()
    }

    /// The newest packages, newest first.
    pub async fn list(&self, limit: u64) -> Result<Vec<Import>, DbError> {
        import::Entity::find()
            .order_by_desc(import::Column::Id)
            .limit(limit)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(Import::try_from)
            .collect()
    }
}
