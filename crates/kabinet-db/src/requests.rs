//! Residents' requests: the categories, the requests with their history and
//! photos, the dispatcher's queue, and the photo bytes when the database is
//! the photo store. A change of status is one conditional `UPDATE … WHERE
//! status = <the status it was read in>`, so two staff members acting at
//! once cannot both move a request.

use crate::convert::{corrupt, stmt};
use crate::{Conn, DbError};
use kabinet_domain as d;
use kabinet_domain::requests::{Category, Desk, EventKind, Photo, Request, RequestEvent, RequestStatus};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use time::{Date, OffsetDateTime};

/// A request to write.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// Who files it.
    pub user_id: d::UserId,
    /// About which account.
    pub account_id: d::AccountId,
    /// The account's number (shown to staff).
    pub account_number: String,
    /// The premises' address (shown and filtered on in the queue).
    pub address: String,
    /// The category.
    pub category: Category,
    /// The text.
    pub text: String,
    /// The text reduced for duplicate checks.
    pub text_norm: String,
    /// Where to call back.
    pub phone: String,
    /// When a visit suits.
    pub visit_time: String,
    /// When it is due.
    pub due_at: OffsetDateTime,
    /// Now.
    pub now: OffsetDateTime,
}

/// A photo's row.
#[derive(Debug, Clone)]
pub struct NewPhoto {
    /// The id in its URL.
    pub public_id: String,
    /// Its place among the request's photos.
    pub position: i32,
    /// Width.
    pub width: i32,
    /// Height.
    pub height: i32,
    /// Bytes of the stored JPEG.
    pub bytes: i64,
}

/// What the queue shows.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// One status; `None` means every open one.
    pub status: Option<RequestStatus>,
    /// One category code.
    pub category: Option<String>,
    /// Part of the address.
    pub address: Option<String>,
    /// `Some(Some(id))` one assignee, `Some(None)` nobody's.
    pub assignee: Option<Option<d::StaffId>>,
    /// Only those past their deadline at this moment.
    pub overdue_at: Option<OffsetDateTime>,
}

/// A line of the queue.
#[derive(Debug, Clone)]
pub struct QueueItem {
    /// The request.
    pub request: Request,
    /// The account's number.
    pub account_number: String,
    /// The premises' address.
    pub address: String,
}

/// A change of status to write.
#[derive(Debug, Clone)]
pub struct StatusChange {
    /// The status the request was read in.
    pub from: RequestStatus,
    /// The new one.
    pub to: RequestStatus,
    /// Who (staff), or the resident when `None`.
    pub staff_id: Option<d::StaffId>,
    /// Reason, comment or empty.
    pub body: String,
    /// A new deadline (a deferral's day, a reopening).
    pub due_at: Option<OffsetDateTime>,
    /// The deferral's day.
    pub deferred_until: Option<Date>,
    /// The resident's rating.
    pub rating: Option<i16>,
    /// Counts a reopening.
    pub reopened: bool,
    /// Takes it for this staff member when it has no assignee.
    pub assign_to: Option<d::StaffId>,
    /// Now.
    pub now: OffsetDateTime,
}

const COLUMNS: &str = "r.id, r.user_id, r.account_id, r.category, r.category_name, r.desk, r.emergency, r.body, \
     r.phone, r.visit_time, r.status, r.due_at, r.deferred_until, r.assignee_id, a.name AS assignee_name, r.rating, \
     r.reopened, r.reason, r.created_at, r.updated_at, r.photos, r.account_number, r.address";

const FROM: &str = "FROM requests r LEFT JOIN staff a ON a.id = r.assignee_id";

fn request(r: &QueryResult) -> Result<Request, DbError> {
    let status: String = r.try_get("", "status")?;
    let desk: String = r.try_get("", "desk")?;
    Ok(Request {
        id: d::RequestId(r.try_get("", "id")?),
        user_id: d::UserId(r.try_get("", "user_id")?),
        account_id: d::AccountId(r.try_get("", "account_id")?),
        category: r.try_get("", "category")?,
        category_name: r.try_get("", "category_name")?,
        desk: Desk::from_stored(&desk).ok_or_else(|| corrupt("requests", "desk", &desk))?,
        emergency: r.try_get("", "emergency")?,
        text: r.try_get("", "body")?,
        phone: r.try_get("", "phone")?,
        visit_time: r.try_get("", "visit_time")?,
        status: RequestStatus::from_stored(&status).ok_or_else(|| corrupt("requests", "status", &status))?,
        due_at: r.try_get("", "due_at")?,
        deferred_until: r.try_get("", "deferred_until")?,
        assignee_id: r.try_get::<Option<i64>>("", "assignee_id")?.map(d::StaffId),
        assignee_name: r.try_get("", "assignee_name")?,
        rating: r.try_get("", "rating")?,
        reopened: r.try_get("", "reopened")?,
        reason: r.try_get("", "reason")?,
        created_at: r.try_get("", "created_at")?,
        updated_at: r.try_get("", "updated_at")?,
        photos: r.try_get("", "photos")?,
    })
}

fn event(r: &QueryResult) -> Result<RequestEvent, DbError> {
    let kind: String = r.try_get("", "kind")?;
    let status = |col: &str| -> Result<Option<RequestStatus>, DbError> {
        let v: Option<String> = r.try_get("", col)?;
        v.map(|s| RequestStatus::from_stored(&s).ok_or_else(|| corrupt("request_events", "status", &s)))
            .transpose()
    };
    Ok(RequestEvent {
        id: d::RequestEventId(r.try_get("", "id")?),
        at: r.try_get("", "at")?,
        kind: EventKind::from_stored(&kind).ok_or_else(|| corrupt("request_events", "kind", &kind))?,
        staff_id: r.try_get::<Option<i64>>("", "staff_id")?.map(d::StaffId),
        staff_name: r.try_get("", "staff_name")?,
        from_status: status("from_status")?,
        to_status: status("to_status")?,
        body: r.try_get("", "body")?,
    })
}

fn photo(r: &QueryResult) -> Result<Photo, DbError> {
    Ok(Photo {
        public_id: r.try_get("", "public_id")?,
        request_id: d::RequestId(r.try_get("", "request_id")?),
        width: r.try_get("", "width")?,
        height: r.try_get("", "height")?,
        bytes: r.try_get("", "bytes")?,
    })
}

/// Requests (see [`crate::Repos::requests`]).
pub struct Requests<'a, C>(pub(crate) &'a C);

impl<C: Conn> Requests<'_, C> {
    async fn all(&self, sql: String, values: Vec<Value>) -> Result<Vec<QueryResult>, DbError> {
        Ok(self.0.conn().query_all_raw(stmt(self.0, sql, values)).await?)
    }

    async fn exec(&self, sql: &str, values: Vec<Value>) -> Result<u64, DbError> {
        Ok(self
            .0
            .conn()
            .execute_raw(stmt(self.0, sql, values))
            .await?
            .rows_affected())
    }

    /// The categories residents choose from, in the organization's order.
    pub async fn categories(&self) -> Result<Vec<Category>, DbError> {
        let rows = self
            .all(
                "SELECT code, name, desk, emergency, deadline_hours FROM request_categories \
                 WHERE active = TRUE ORDER BY position, id"
                    .into(),
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let desk: String = r.try_get("", "desk")?;
                Ok(Category {
                    code: r.try_get("", "code")?,
                    name: r.try_get("", "name")?,
                    desk: Desk::from_stored(&desk)
                        .ok_or_else(|| corrupt("request_categories", "desk", &desk))?,
                    emergency: r.try_get("", "emergency")?,
                    deadline_hours: r.try_get("", "deadline_hours")?,
                })
            })
            .collect()
    }

    /// What `user` filed since `since`: normalized texts and times.
    pub async fn texts_since(
        &self,
        user: d::UserId,
        since: OffsetDateTime,
    ) -> Result<Vec<d::requests::Filed>, DbError> {
        let rows = self
            .all(
                "SELECT body_norm, created_at FROM requests WHERE user_id = $1 AND created_at >= $2".into(),
                vec![user.0.into(), since.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(d::requests::Filed {
                    norm: r.try_get("", "body_norm")?,
                    at: r.try_get("", "created_at")?,
                })
            })
            .collect()
    }

    /// Replies and notes staff member `staff` wrote since `since`.
    pub async fn writes_since(&self, staff: d::StaffId, since: OffsetDateTime) -> Result<u64, DbError> {
        self.count_of(
            "SELECT COUNT(*) AS n FROM request_events WHERE staff_id = $1 AND kind IN ('reply', 'note') AND at >= $2",
            vec![staff.0.into(), since.into()],
        )
        .await
    }

    /// The `n` of a `SELECT COUNT(*) AS n …`.
    async fn count_of(&self, sql: &str, values: Vec<Value>) -> Result<u64, DbError> {
        let n = self
            .all(sql.into(), values)
            .await?
            .first()
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Writes a new request (`new`) with its first history line; returns its number.
    pub async fn insert(&self, n: &NewRequest) -> Result<d::RequestId, DbError> {
        let r = self
            .0
            .conn()
            .query_one_raw(stmt(
                self.0,
                "INSERT INTO requests (user_id, account_id, account_number, address, category, category_name, desk, \
                 emergency, body, body_norm, phone, visit_time, status, due_at, reopened, photos, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'new', $13, 0, 0, $14, $14) RETURNING id",
                vec![
                    n.user_id.0.into(),
                    n.account_id.0.into(),
                    n.account_number.clone().into(),
                    n.address.clone().into(),
                    n.category.code.clone().into(),
                    n.category.name.clone().into(),
                    n.category.desk.as_str().into(),
                    n.category.emergency.into(),
                    n.text.clone().into(),
                    n.text_norm.clone().into(),
                    n.phone.clone().into(),
                    n.visit_time.clone().into(),
                    n.due_at.into(),
                    n.now.into(),
                ],
            ))
            .await?
            .ok_or_else(|| corrupt("requests", "id", "no row returned"))?;
        let id = d::RequestId(r.try_get("", "id")?);
        self.add_event(
            id,
            EventKind::Filed,
            None,
            None,
            Some(RequestStatus::New),
            "",
            n.now,
        )
        .await?;
        Ok(id)
    }

    /// Adds a history line.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_event(
        &self,
        request: d::RequestId,
        kind: EventKind,
        staff: Option<d::StaffId>,
        from: Option<RequestStatus>,
        to: Option<RequestStatus>,
        body: &str,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        self.exec(
            "INSERT INTO request_events (request_id, at, kind, staff_id, from_status, to_status, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                request.0.into(),
                now.into(),
                kind.as_str().into(),
                staff.map(|s| s.0).into(),
                from.map(|s| s.as_str().to_string()).into(),
                to.map(|s| s.as_str().to_string()).into(),
                body.into(),
            ],
        )
        .await?;
        if kind != EventKind::Filed {
            self.exec(
                "UPDATE requests SET updated_at = $2 WHERE id = $1",
                vec![request.0.into(), now.into()],
            )
            .await?;
        }
        Ok(())
    }

    /// Adds a photo's row and counts it on the request.
    pub async fn add_photo(
        &self,
        request: d::RequestId,
        p: &NewPhoto,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        self.exec(
            "INSERT INTO request_photos (public_id, request_id, position, width, height, bytes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                p.public_id.clone().into(),
                request.0.into(),
                p.position.into(),
                p.width.into(),
                p.height.into(),
                p.bytes.into(),
                now.into(),
            ],
        )
        .await?;
        self.exec(
            "UPDATE requests SET photos = photos + 1 WHERE id = $1",
            vec![request.0.into()],
        )
        .await?;
        Ok(())
    }

    /// The request with this number.
    pub async fn get(&self, id: d::RequestId) -> Result<Option<Request>, DbError> {
        self.all(
            format!("SELECT {COLUMNS} {FROM} WHERE r.id = $1"),
            vec![id.0.into()],
        )
        .await?
        .first()
        .map(request)
        .transpose()
    }

    /// Deferred requests whose day has come by `today`, oldest first.
    pub async fn deferred_due(&self, today: time::Date, limit: u64) -> Result<Vec<Request>, DbError> {
        self.all(
            format!(
                "SELECT {COLUMNS} {FROM} WHERE r.status = 'deferred' AND r.deferred_until <= $1 \
                 ORDER BY r.id LIMIT {limit}"
            ),
            vec![today.into()],
        )
        .await?
        .iter()
        .map(request)
        .collect()
    }

    /// The request with this number, if `user` filed it.
    pub async fn of_user(&self, id: d::RequestId, user: d::UserId) -> Result<Option<Request>, DbError> {
        self.all(
            format!("SELECT {COLUMNS} {FROM} WHERE r.id = $1 AND r.user_id = $2"),
            vec![id.0.into(), user.0.into()],
        )
        .await?
        .first()
        .map(request)
        .transpose()
    }

    /// What `user` filed, newest first, with the total.
    pub async fn list_of_user(
        &self,
        user: d::UserId,
        limit: u64,
        offset: u64,
    ) -> Result<(Vec<Request>, u64), DbError> {
        let rows = self
            .all(
                format!(
                    "SELECT {COLUMNS} {FROM} WHERE r.user_id = $1 ORDER BY r.id DESC LIMIT {limit} OFFSET {offset}"
                ),
                vec![user.0.into()],
            )
            .await?;
        let list = rows.iter().map(request).collect::<Result<Vec<_>, _>>()?;
        let total = self
            .all(
                "SELECT COUNT(*) AS n FROM requests WHERE user_id = $1".into(),
                vec![user.0.into()],
            )
            .await?
            .first()
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        Ok((list, u64::try_from(total).unwrap_or(0)))
    }

    /// The history, oldest first; without `internal`, only what the resident
    /// may see.
    pub async fn events(&self, request: d::RequestId, internal: bool) -> Result<Vec<RequestEvent>, DbError> {
        let only = if internal {
            ""
        } else {
            " AND e.kind NOT IN ('note', 'assigned')"
        };
        let rows = self
            .all(
                format!(
                    "SELECT e.id, e.at, e.kind, e.staff_id, s.name AS staff_name, e.from_status, e.to_status, e.body \
                     FROM request_events e LEFT JOIN staff s ON s.id = e.staff_id \
                     WHERE e.request_id = $1{only} ORDER BY e.id"
                ),
                vec![request.0.into()],
            )
            .await?;
        rows.iter().map(event).collect()
    }

    /// The request's photos, in order.
    pub async fn photos(&self, request: d::RequestId) -> Result<Vec<Photo>, DbError> {
        let rows = self
            .all(
                "SELECT public_id, request_id, width, height, bytes FROM request_photos \
                 WHERE request_id = $1 ORDER BY position, id"
                    .into(),
                vec![request.0.into()],
            )
            .await?;
        rows.iter().map(photo).collect()
    }

    /// A photo and who filed its request.
    pub async fn photo(&self, public_id: &str) -> Result<Option<(Photo, d::UserId)>, DbError> {
        let rows = self
            .all(
                "SELECT p.public_id, p.request_id, p.width, p.height, p.bytes, r.user_id \
                 FROM request_photos p JOIN requests r ON r.id = p.request_id WHERE p.public_id = $1"
                    .into(),
                vec![public_id.into()],
            )
            .await?;
        rows.first()
            .map(|r| Ok((photo(r)?, d::UserId(r.try_get("", "user_id")?))))
            .transpose()
    }

    /// Moves a request if it is still in `c.from`, with its history line;
    /// false when someone else moved it first.
    pub async fn change_status(&self, id: d::RequestId, c: &StatusChange) -> Result<bool, DbError> {
        let mut sql = String::from("UPDATE requests SET status = $3, updated_at = $4");
        let mut values: Vec<Value> = vec![
            id.0.into(),
            c.from.as_str().into(),
            c.to.as_str().into(),
            c.now.into(),
        ];
        let mut set = |col: &str, v: Value, wrap: bool| {
            values.push(v);
            let p = format!("${}", values.len());
            if wrap {
                sql.push_str(&format!(", {col} = COALESCE({col}, {p})"));
            } else {
                sql.push_str(&format!(", {col} = {p}"));
            }
        };
        if let Some(due) = c.due_at {
            set("due_at", due.into(), false);
        }
        set("deferred_until", c.deferred_until.into(), false);
        if let Some(r) = c.rating {
            set("rating", r.into(), false);
        }
        if c.to == RequestStatus::Declined {
            set("reason", c.body.clone().into(), false);
        }
        if let Some(s) = c.assign_to {
            set("assignee_id", s.0.into(), true);
        }
        if c.reopened {
            sql.push_str(", reopened = reopened + 1");
        }
        sql.push_str(" WHERE id = $1 AND status = $2");
        let n = self
            .0
            .conn()
            .execute_raw(stmt(self.0, sql, values))
            .await?
            .rows_affected();
        if n != 1 {
            return Ok(false);
        }
        self.add_event(
            id,
            EventKind::Status,
            c.staff_id,
            Some(c.from),
            Some(c.to),
            &c.body,
            c.now,
        )
        .await?;
        Ok(true)
    }

    /// Assigns a request to a staff member.
    pub async fn assign(&self, id: d::RequestId, staff: Option<d::StaffId>) -> Result<(), DbError> {
        self.exec(
            "UPDATE requests SET assignee_id = $2 WHERE id = $1",
            vec![id.0.into(), staff.map(|s| s.0).into()],
        )
        .await?;
        Ok(())
    }

    fn filter_sql(f: &QueueFilter, values: &mut Vec<Value>) -> String {
        let mut w = match f.status {
            Some(s) => {
                values.push(s.as_str().into());
                format!("r.status = ${}", values.len())
            }
            None => "r.status IN ('new', 'in_work', 'deferred')".to_string(),
        };
        if let Some(c) = &f.category {
            values.push(c.clone().into());
            w.push_str(&format!(" AND r.category = ${}", values.len()));
        }
        if let Some(a) = &f.address {
            let escaped = a.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            values.push(format!("%{}%", escaped.to_lowercase()).into());
            w.push_str(&format!(
                " AND LOWER(r.address) LIKE ${} ESCAPE '\\'",
                values.len()
            ));
        }
        match f.assignee {
            Some(Some(s)) => {
                values.push(s.0.into());
                w.push_str(&format!(" AND r.assignee_id = ${}", values.len()));
            }
            Some(None) => w.push_str(" AND r.assignee_id IS NULL"),
            None => {}
        }
        if let Some(now) = f.overdue_at {
            values.push(now.into());
            w.push_str(&format!(
                " AND r.status IN ('new', 'in_work') AND r.due_at < ${}",
                values.len()
            ));
        }
        w
    }

    /// The queue in the order of [`kabinet_domain::requests::queue_key`]:
    /// emergencies first, the untaken first, then by deadline; with the
    /// total matching.
    pub async fn queue(
        &self,
        f: &QueueFilter,
        limit: u64,
        offset: u64,
    ) -> Result<(Vec<QueueItem>, u64), DbError> {
        let mut values = Vec::new();
        let w = Self::filter_sql(f, &mut values);
        let rows = self
            .all(
                format!(
                    "SELECT {COLUMNS} {FROM} WHERE {w} ORDER BY r.emergency DESC, (r.status = 'new') DESC, r.due_at, r.id \
                     LIMIT {limit} OFFSET {offset}"
                ),
                values.clone(),
            )
            .await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(QueueItem {
                    request: request(r)?,
                    account_number: r.try_get("", "account_number")?,
                    address: r.try_get("", "address")?,
                })
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        let total = self
            .all(format!("SELECT COUNT(*) AS n FROM requests r WHERE {w}"), values)
            .await?
            .first()
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        Ok((items, u64::try_from(total).unwrap_or(0)))
    }

    /// The address and account number a request was filed for.
    pub async fn place(&self, id: d::RequestId) -> Result<Option<(String, String)>, DbError> {
        self.all(
            "SELECT account_number, address FROM requests WHERE id = $1".into(),
            vec![id.0.into()],
        )
        .await?
        .first()
        .map(|r| Ok((r.try_get("", "account_number")?, r.try_get("", "address")?)))
        .transpose()
    }

    /// How many requests there are (load checks).
    pub async fn count(&self) -> Result<u64, DbError> {
        self.count_of("SELECT COUNT(*) AS n FROM requests", vec![]).await
    }

    /// Stores bytes under `key` (the database photo store).
    pub async fn put_blob(&self, key: &str, data: Vec<u8>) -> Result<(), DbError> {
        self.exec(
            "INSERT INTO photo_blobs (key, data) VALUES ($1, $2)",
            vec![key.into(), data.into()],
        )
        .await?;
        Ok(())
    }

    /// The bytes under `key`.
    pub async fn get_blob(&self, key: &str) -> Result<Option<Vec<u8>>, DbError> {
        self.all(
            "SELECT data FROM photo_blobs WHERE key = $1".into(),
            vec![key.into()],
        )
        .await?
        .first()
        .map(|r| r.try_get::<Vec<u8>>("", "data").map_err(DbError::from))
        .transpose()
    }

    /// Deletes the bytes under `key`.
    pub async fn delete_blob(&self, key: &str) -> Result<(), DbError> {
        self.exec("DELETE FROM photo_blobs WHERE key = $1", vec![key.into()])
            .await?;
        Ok(())
    }
}
