//! Residents' requests: the categories, the requests with their history and
//! photos, the dispatcher's queue, and the photo bytes when the database is
//! the photo store. A change of status is one conditional `UPDATE … WHERE
//! status = <the status it was read in>`, so two staff members acting at
//! once cannot both move a request.

use crate::convert::corrupt;
use crate::entities::{
    account, photo_blob, premises, request, request_category, request_event, request_join, request_photo,
    staff,
};
use crate::{Conn, DbError};
use kabinet_domain as d;
use kabinet_domain::requests::{
    Category, CategorySetting, Desk, EventKind, Photo, Request, RequestEvent, RequestStatus, SharedRequest,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, OnConflict, Order, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, JoinType,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Select,
};
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
    /// Only these desks (the viewer's; empty shows nothing).
    pub desks: Vec<Desk>,
    /// Only requests for accounts in these buildings (premises addresses);
    /// `None`: every building.
    pub buildings: Option<Vec<String>>,
}

/// Requests whose account is in one of `buildings` (premises addresses).
pub(crate) fn in_buildings(buildings: &[String]) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::Query;
    let accounts = Query::select()
        .column((account::Entity, account::Column::Id))
        .from(account::Entity)
        .inner_join(
            premises::Entity,
            Expr::col((premises::Entity, premises::Column::Id))
                .equals((account::Entity, account::Column::PremisesId)),
        )
        .and_where(
            Expr::col((premises::Entity, premises::Column::Address))
                .is_in(buildings.iter().map(String::as_str)),
        )
        .to_owned();
    Expr::col((request::Entity, request::Column::AccountId)).in_subquery(accounts)
}

/// A resident who joined a request, as staff see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joiner {
    /// The resident.
    pub user_id: d::UserId,
    /// The account they joined for.
    pub account_id: d::AccountId,
    /// Its number.
    pub account_number: String,
    /// Its address with the flat.
    pub address: String,
    /// When.
    pub joined_at: OffsetDateTime,
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

/// A request's row with its assignee's name.
#[derive(FromQueryResult)]
struct RequestRow {
    #[sea_orm(nested)]
    r: request::Model,
    assignee_name: Option<String>,
}

impl TryFrom<RequestRow> for Request {
    type Error = DbError;
    fn try_from(row: RequestRow) -> Result<Request, DbError> {
        let r = row.r;
        Ok(Request {
            id: d::RequestId(r.id),
            user_id: d::UserId(r.user_id),
            account_id: d::AccountId(r.account_id),
            desk: Desk::from_stored(&r.desk).ok_or_else(|| corrupt("requests", "desk", &r.desk))?,
            status: RequestStatus::from_stored(&r.status)
                .ok_or_else(|| corrupt("requests", "status", &r.status))?,
            category: r.category,
            category_name: r.category_name,
            emergency: r.emergency,
            text: r.body,
            phone: r.phone,
            visit_time: r.visit_time,
            due_at: r.due_at,
            deferred_until: r.deferred_until,
            assignee_id: r.assignee_id.map(d::StaffId),
            assignee_name: row.assignee_name,
            rating: r.rating,
            reopened: r.reopened,
            reason: r.reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
            photos: r.photos,
            joined: r.joined,
        })
    }
}

/// A history line's row with its author's name.
#[derive(FromQueryResult)]
struct EventRow {
    #[sea_orm(nested)]
    e: request_event::Model,
    staff_name: Option<String>,
}

impl TryFrom<EventRow> for RequestEvent {
    type Error = DbError;
    fn try_from(row: EventRow) -> Result<RequestEvent, DbError> {
        let e = row.e;
        let status = |v: Option<String>| -> Result<Option<RequestStatus>, DbError> {
            v.map(|s| RequestStatus::from_stored(&s).ok_or_else(|| corrupt("request_events", "status", &s)))
                .transpose()
        };
        Ok(RequestEvent {
            id: d::RequestEventId(e.id),
            at: e.at,
            kind: EventKind::from_stored(&e.kind)
                .ok_or_else(|| corrupt("request_events", "kind", &e.kind))?,
            staff_id: e.staff_id.map(d::StaffId),
            staff_name: row.staff_name,
            from_status: status(e.from_status)?,
            to_status: status(e.to_status)?,
            body: e.body,
        })
    }
}

impl From<request_photo::Model> for Photo {
    fn from(p: request_photo::Model) -> Photo {
        Photo {
            public_id: p.public_id,
            request_id: d::RequestId(p.request_id),
            width: p.width,
            height: p.height,
            bytes: p.bytes,
        }
    }
}

impl TryFrom<request_category::Model> for Category {
    type Error = DbError;
    fn try_from(c: request_category::Model) -> Result<Category, DbError> {
        Ok(Category {
            desk: Desk::from_stored(&c.desk).ok_or_else(|| corrupt("request_categories", "desk", &c.desk))?,
            code: c.code,
            name: c.name,
            emergency: c.emergency,
            deadline_hours: c.deadline_hours,
            common_property: c.common_property,
        })
    }
}

/// A category as stored: its row id and its setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCategory {
    /// The row id (the office's page addresses it).
    pub id: i64,
    /// The category, its place and whether it is offered.
    pub setting: CategorySetting,
}

impl TryFrom<request_category::Model> for StoredCategory {
    type Error = DbError;
    fn try_from(c: request_category::Model) -> Result<StoredCategory, DbError> {
        let (id, position, active) = (c.id, c.position, c.active);
        Ok(StoredCategory {
            id,
            setting: CategorySetting {
                category: c.try_into()?,
                position,
                active,
            },
        })
    }
}

/// Requests with their assignee's name, for [`RequestRow`].
fn requests() -> Select<request::Entity> {
    request::Entity::find()
        .join(JoinType::LeftJoin, request::Relation::Assignee.def())
        .column_as(staff::Column::Name, "assignee_name")
}

/// A request as its building's residents see it ([`SharedRequest`]), its
/// building from its account's premises; `joined_at` comes from a join of
/// `request_joins` the caller adds.
fn shared_select() -> sea_orm::sea_query::SelectStatement {
    use request::Column as R;
    Query::select()
        .columns([
            (request::Entity, R::Id),
            (request::Entity, R::CategoryName),
            (request::Entity, R::Status),
            (request::Entity, R::Emergency),
            (request::Entity, R::CreatedAt),
            (request::Entity, R::DueAt),
            (request::Entity, R::Joined),
        ])
        .expr_as(
            Expr::col((premises::Entity, premises::Column::Address)),
            Alias::new("building"),
        )
        .expr_as(
            Expr::col((request_join::Entity, request_join::Column::CreatedAt)),
            Alias::new("joined_at"),
        )
        .from(request::Entity)
        .inner_join(
            account::Entity,
            Expr::col((account::Entity, account::Column::Id)).equals((request::Entity, R::AccountId)),
        )
        .inner_join(
            premises::Entity,
            Expr::col((premises::Entity, premises::Column::Id))
                .equals((account::Entity, account::Column::PremisesId)),
        )
        .to_owned()
}

/// The statuses of the open queue.
const OPEN: [RequestStatus; 3] = [RequestStatus::New, RequestStatus::InWork, RequestStatus::Deferred];

fn stored(statuses: &[RequestStatus]) -> Vec<&'static str> {
    statuses.iter().map(|s| s.as_str()).collect()
}

/// Requests (see [`crate::Repos::requests`]).
pub struct Requests<'a, C>(pub(crate) &'a C);

impl<C: Conn> Requests<'_, C> {
    async fn rows(&self, select: Select<request::Entity>) -> Result<Vec<Request>, DbError> {
        select
            .into_model::<RequestRow>()
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    async fn row(&self, select: Select<request::Entity>) -> Result<Option<Request>, DbError> {
        select
            .into_model::<RequestRow>()
            .one(self.0.conn())
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    /// The categories residents choose from, in the organization's order.
    pub async fn categories(&self) -> Result<Vec<Category>, DbError> {
        request_category::Entity::find()
            .filter(request_category::Column::Active.eq(true))
            .order_by_asc(request_category::Column::Position)
            .order_by_asc(request_category::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// Every category, switched off or not, in the list's order, with its
    /// row id (the office's page).
    pub async fn all_categories(&self) -> Result<Vec<StoredCategory>, DbError> {
        request_category::Entity::find()
            .order_by_asc(request_category::Column::Position)
            .order_by_asc(request_category::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(StoredCategory::try_from)
            .collect()
    }

    /// The category with row id `id`.
    pub async fn category(&self, id: i64) -> Result<Option<StoredCategory>, DbError> {
        request_category::Entity::find_by_id(id)
            .one(self.0.conn())
            .await?
            .map(StoredCategory::try_from)
            .transpose()
    }

    /// Adds a category; `None` when its code is taken already.
    pub async fn add_category(&self, c: &CategorySetting) -> Result<Option<i64>, DbError> {
        let taken = request_category::Entity::find()
            .filter(request_category::Column::Code.eq(c.category.code.as_str()))
            .count(self.0.conn())
            .await?;
        if taken > 0 {
            return Ok(None);
        }
        let row = request_category::ActiveModel {
            code: Set(c.category.code.clone()),
            name: Set(c.category.name.clone()),
            desk: Set(c.category.desk.as_str().into()),
            emergency: Set(c.category.emergency),
            deadline_hours: Set(c.category.deadline_hours),
            common_property: Set(c.category.common_property),
            position: Set(c.position),
            active: Set(c.active),
            ..Default::default()
        };
        Ok(Some(
            request_category::Entity::insert(row)
                .exec(self.0.conn())
                .await?
                .last_insert_id,
        ))
    }

    /// Changes category `id` to `c`, all but its code (filed requests and
    /// the queue's filter keep the code).
    pub async fn update_category(&self, id: i64, c: &CategorySetting) -> Result<(), DbError> {
        request_category::Entity::update_many()
            .col_expr(
                request_category::Column::Name,
                Expr::value(c.category.name.clone()),
            )
            .col_expr(
                request_category::Column::Desk,
                Expr::value(c.category.desk.as_str()),
            )
            .col_expr(
                request_category::Column::Emergency,
                Expr::value(c.category.emergency),
            )
            .col_expr(
                request_category::Column::DeadlineHours,
                Expr::value(c.category.deadline_hours),
            )
            .col_expr(
                request_category::Column::CommonProperty,
                Expr::value(c.category.common_property),
            )
            .col_expr(request_category::Column::Position, Expr::value(c.position))
            .col_expr(request_category::Column::Active, Expr::value(c.active))
            .filter(request_category::Column::Id.eq(id))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// What `user` filed since `since`: normalized texts and times.
    pub async fn texts_since(
        &self,
        user: d::UserId,
        since: OffsetDateTime,
    ) -> Result<Vec<d::requests::Filed>, DbError> {
        #[derive(FromQueryResult)]
        struct Row {
            body_norm: String,
            created_at: OffsetDateTime,
        }
        Ok(request::Entity::find()
            .select_only()
            .columns([request::Column::BodyNorm, request::Column::CreatedAt])
            .filter(request::Column::UserId.eq(user.0))
            .filter(request::Column::CreatedAt.gte(since))
            .into_model::<Row>()
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(|r| d::requests::Filed {
                norm: r.body_norm,
                at: r.created_at,
            })
            .collect())
    }

    /// Replies and notes staff member `staff` wrote since `since`.
    pub async fn writes_since(&self, staff: d::StaffId, since: OffsetDateTime) -> Result<u64, DbError> {
        Ok(request_event::Entity::find()
            .filter(request_event::Column::StaffId.eq(staff.0))
            .filter(request_event::Column::Kind.is_in([EventKind::Reply.as_str(), EventKind::Note.as_str()]))
            .filter(request_event::Column::At.gte(since))
            .count(self.0.conn())
            .await?)
    }

    /// Writes a new request (`new`) with its first history line; returns its number.
    pub async fn insert(&self, n: &NewRequest) -> Result<d::RequestId, DbError> {
        let row = request::ActiveModel {
            user_id: Set(n.user_id.0),
            account_id: Set(n.account_id.0),
            account_number: Set(n.account_number.clone()),
            address: Set(n.address.clone()),
            category: Set(n.category.code.clone()),
            category_name: Set(n.category.name.clone()),
            desk: Set(n.category.desk.as_str().into()),
            emergency: Set(n.category.emergency),
            body: Set(n.text.clone()),
            body_norm: Set(n.text_norm.clone()),
            phone: Set(n.phone.clone()),
            visit_time: Set(n.visit_time.clone()),
            status: Set(RequestStatus::New.as_str().into()),
            due_at: Set(n.due_at),
            deferred_until: Set(None),
            assignee_id: Set(None),
            rating: Set(None),
            reopened: Set(0),
            reason: Set(None),
            photos: Set(0),
            joined: Set(0),
            created_at: Set(n.now),
            updated_at: Set(n.now),
            ..Default::default()
        };
        let id = d::RequestId(
            request::Entity::insert(row)
                .exec(self.0.conn())
                .await?
                .last_insert_id,
        );
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
    ) -> Result<i64, DbError> {
        let row = request_event::ActiveModel {
            request_id: Set(request.0),
            at: Set(now),
            kind: Set(kind.as_str().into()),
            staff_id: Set(staff.map(|s| s.0)),
            from_status: Set(from.map(|s| s.as_str().to_string())),
            to_status: Set(to.map(|s| s.as_str().to_string())),
            body: Set(body.into()),
            ..Default::default()
        };
        let id = request_event::Entity::insert(row)
            .exec(self.0.conn())
            .await?
            .last_insert_id;
        if kind != EventKind::Filed {
            request::Entity::update_many()
                .col_expr(request::Column::UpdatedAt, Expr::value(now))
                .filter(request::Column::Id.eq(request.0))
                .exec(self.0.conn())
                .await?;
        }
        Ok(id)
    }

    /// Adds a photo's row and counts it on the request.
    pub async fn add_photo(
        &self,
        request: d::RequestId,
        p: &NewPhoto,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        let row = request_photo::ActiveModel {
            public_id: Set(p.public_id.clone()),
            request_id: Set(request.0),
            position: Set(p.position),
            width: Set(p.width),
            height: Set(p.height),
            bytes: Set(p.bytes),
            created_at: Set(now),
            ..Default::default()
        };
        request_photo::Entity::insert(row).exec(self.0.conn()).await?;
        request::Entity::update_many()
            .col_expr(request::Column::Photos, Expr::col(request::Column::Photos).add(1))
            .filter(request::Column::Id.eq(request.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// The request with this number.
    pub async fn get(&self, id: d::RequestId) -> Result<Option<Request>, DbError> {
        self.row(requests().filter(request::Column::Id.eq(id.0))).await
    }

    /// Deferred requests whose day has come by `today`, oldest first.
    pub async fn deferred_due(&self, today: time::Date, limit: u64) -> Result<Vec<Request>, DbError> {
        self.rows(
            requests()
                .filter(request::Column::Status.eq(RequestStatus::Deferred.as_str()))
                .filter(request::Column::DeferredUntil.lte(today))
                .order_by_asc(request::Column::Id)
                .limit(limit),
        )
        .await
    }

    /// The request with this number, if `user` filed it.
    pub async fn of_user(&self, id: d::RequestId, user: d::UserId) -> Result<Option<Request>, DbError> {
        self.row(
            requests()
                .filter(request::Column::Id.eq(id.0))
                .filter(request::Column::UserId.eq(user.0)),
        )
        .await
    }

    /// What `user` filed that is not yet closed, declined or cancelled,
    /// newest first, at most `limit`.
    pub async fn unfinished_of_user(&self, user: d::UserId, limit: u64) -> Result<Vec<Request>, DbError> {
        let finished: Vec<&str> = RequestStatus::ALL
            .iter()
            .filter(|s| s.is_final())
            .map(|s| s.as_str())
            .collect();
        self.rows(
            requests()
                .filter(request::Column::UserId.eq(user.0))
                .filter(request::Column::Status.is_not_in(finished))
                .order_by_desc(request::Column::Id)
                .limit(limit),
        )
        .await
    }

    /// What `user` filed, newest first, with the total.
    pub async fn list_of_user(
        &self,
        user: d::UserId,
        limit: u64,
        offset: u64,
    ) -> Result<(Vec<Request>, u64), DbError> {
        let mine = request::Column::UserId.eq(user.0);
        let list = self
            .rows(
                requests()
                    .filter(mine.clone())
                    .order_by_desc(request::Column::Id)
                    .limit(limit)
                    .offset(offset),
            )
            .await?;
        let total = request::Entity::find().filter(mine).count(self.0.conn()).await?;
        Ok((list, total))
    }

    /// The history, oldest first; without `internal`, only what the resident
    /// may see.
    pub async fn events(&self, request: d::RequestId, internal: bool) -> Result<Vec<RequestEvent>, DbError> {
        let mut select = request_event::Entity::find()
            .join(JoinType::LeftJoin, request_event::Relation::Staff.def())
            .column_as(staff::Column::Name, "staff_name")
            .filter(request_event::Column::RequestId.eq(request.0));
        if !internal {
            select = select.filter(
                request_event::Column::Kind
                    .is_not_in([EventKind::Note.as_str(), EventKind::Assigned.as_str()]),
            );
        }
        select
            .order_by_asc(request_event::Column::Id)
            .into_model::<EventRow>()
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// The request's photos, in order.
    pub async fn photos(&self, request: d::RequestId) -> Result<Vec<Photo>, DbError> {
        Ok(request_photo::Entity::find()
            .filter(request_photo::Column::RequestId.eq(request.0))
            .order_by_asc(request_photo::Column::Position)
            .order_by_asc(request_photo::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(Photo::from)
            .collect())
    }

    /// A photo, who filed its request and the request's desk.
    pub async fn photo(&self, public_id: &str) -> Result<Option<(Photo, d::UserId, Desk)>, DbError> {
        let Some((p, Some(r))) = request_photo::Entity::find()
            .filter(request_photo::Column::PublicId.eq(public_id))
            .find_also_related(request::Entity)
            .one(self.0.conn())
            .await?
        else {
            return Ok(None);
        };
        let desk = Desk::from_stored(&r.desk).ok_or_else(|| corrupt("requests", "desk", &r.desk))?;
        Ok(Some((Photo::from(p), d::UserId(r.user_id), desk)))
    }

    /// Moves a request if it is still in `c.from`, with its history line
    /// (returned); `None` when someone else moved it first.
    pub async fn change_status(&self, id: d::RequestId, c: &StatusChange) -> Result<Option<i64>, DbError> {
        use request::Column as R;
        let mut update = request::Entity::update_many()
            .col_expr(R::Status, Expr::value(c.to.as_str()))
            .col_expr(R::UpdatedAt, Expr::value(c.now))
            .col_expr(R::DeferredUntil, Expr::value(c.deferred_until));
        if let Some(due) = c.due_at {
            update = update.col_expr(R::DueAt, Expr::value(due));
        }
        if let Some(r) = c.rating {
            update = update.col_expr(R::Rating, Expr::value(r));
        }
        if c.to == RequestStatus::Declined {
            update = update.col_expr(R::Reason, Expr::value(c.body.clone()));
        }
        if let Some(s) = c.assign_to {
            let keep = Func::coalesce([Expr::col(R::AssigneeId), Expr::value(s.0)]);
            update = update.col_expr(R::AssigneeId, keep.into());
        }
        if c.reopened {
            update = update.col_expr(R::Reopened, Expr::col(R::Reopened).add(1));
        }
        let n = update
            .filter(R::Id.eq(id.0))
            .filter(R::Status.eq(c.from.as_str()))
            .exec(self.0.conn())
            .await?
            .rows_affected;
        if n != 1 {
            return Ok(None);
        }
        let event = self
            .add_event(
                id,
                EventKind::Status,
                c.staff_id,
                Some(c.from),
                Some(c.to),
                &c.body,
                c.now,
            )
            .await?;
        Ok(Some(event))
    }

    /// History line `id` and the request it belongs to.
    pub async fn event(&self, id: i64) -> Result<Option<(d::RequestId, RequestEvent)>, DbError> {
        let Some(e) = request_event::Entity::find_by_id(id).one(self.0.conn()).await? else {
            return Ok(None);
        };
        let request = d::RequestId(e.request_id);
        let event = RequestEvent::try_from(EventRow { e, staff_name: None })?;
        Ok(Some((request, event)))
    }

    /// Assigns a request to a staff member.
    pub async fn assign(&self, id: d::RequestId, staff: Option<d::StaffId>) -> Result<(), DbError> {
        request::Entity::update_many()
            .col_expr(request::Column::AssigneeId, Expr::value(staff.map(|s| s.0)))
            .filter(request::Column::Id.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// The queue filter as a condition on `requests`.
    fn condition(f: &QueueFilter) -> Condition {
        use request::Column as R;
        let mut c = Condition::all().add(match f.status {
            Some(s) => R::Status.eq(s.as_str()),
            None => R::Status.is_in(stored(&OPEN)),
        });
        if let Some(category) = &f.category {
            c = c.add(R::Category.eq(category.as_str()));
        }
        if let Some(a) = &f.address {
            let escaped = a.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let pattern = LikeExpr::new(format!("%{}%", escaped.to_lowercase())).escape('\\');
            c = c.add(Expr::expr(Func::lower(Expr::col((request::Entity, R::Address)))).like(pattern));
        }
        match f.assignee {
            Some(Some(s)) => c = c.add(R::AssigneeId.eq(s.0)),
            Some(None) => c = c.add(R::AssigneeId.is_null()),
            None => {}
        }
        c = c.add(R::Desk.is_in(f.desks.iter().map(|k| k.as_str())));
        if let Some(b) = &f.buildings {
            c = c.add(in_buildings(b));
        }
        if let Some(now) = f.overdue_at {
            c = c
                .add(R::Status.is_in(stored(&[RequestStatus::New, RequestStatus::InWork])))
                .add(R::DueAt.lt(now));
        }
        c
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
        use request::Column as R;
        let untaken = Expr::col((request::Entity, R::Status)).eq(RequestStatus::New.as_str());
        let rows = requests()
            .filter(Self::condition(f))
            .order_by_desc(R::Emergency)
            .order_by(untaken, Order::Desc)
            .order_by_asc(R::DueAt)
            .order_by_asc(R::Id)
            .limit(limit)
            .offset(offset)
            .into_model::<RequestRow>()
            .all(self.0.conn())
            .await?;
        let items = rows
            .into_iter()
            .map(|row| {
                let account_number = row.r.account_number.clone();
                let address = row.r.address.clone();
                Ok(QueueItem {
                    request: row.try_into()?,
                    account_number,
                    address,
                })
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        let total = request::Entity::find()
            .filter(Self::condition(f))
            .count(self.0.conn())
            .await?;
        Ok((items, total))
    }

    /// The address and account number a request was filed for.
    pub async fn place(&self, id: d::RequestId) -> Result<Option<(String, String)>, DbError> {
        Ok(request::Entity::find_by_id(id.0)
            .one(self.0.conn())
            .await?
            .map(|r| (r.account_number, r.address)))
    }

    /// The building (premises address) of the account request `id` was
    /// filed for.
    pub async fn building(&self, id: d::RequestId) -> Result<Option<String>, DbError> {
        let Some(r) = request::Entity::find_by_id(id.0).one(self.0.conn()).await? else {
            return Ok(None);
        };
        let Some(a) = account::Entity::find_by_id(r.account_id)
            .one(self.0.conn())
            .await?
        else {
            return Ok(None);
        };
        Ok(premises::Entity::find_by_id(a.premises_id)
            .one(self.0.conn())
            .await?
            .map(|p| p.address))
    }

    /// Open requests about common property in `buildings` (premises
    /// addresses) that `user` did not file, newest first, at most `limit`;
    /// with `only`, just that request. Each says whether and when `user`
    /// joined it.
    pub async fn shared(
        &self,
        buildings: &[String],
        user: d::UserId,
        only: Option<d::RequestId>,
        limit: u64,
    ) -> Result<Vec<SharedRequest>, DbError> {
        use request::Column as R;
        if buildings.is_empty() {
            return Ok(Vec::new());
        }
        let common = Query::select()
            .column(request_category::Column::Code)
            .from(request_category::Entity)
            .and_where(Expr::col(request_category::Column::CommonProperty).eq(true))
            .to_owned();
        let mut q = shared_select();
        q.join(
            JoinType::LeftJoin,
            request_join::Entity,
            Condition::all()
                .add(
                    Expr::col((request_join::Entity, request_join::Column::RequestId))
                        .equals((request::Entity, R::Id)),
                )
                .add(Expr::col((request_join::Entity, request_join::Column::UserId)).eq(user.0)),
        )
        .and_where(
            Expr::col((premises::Entity, premises::Column::Address))
                .is_in(buildings.iter().map(String::as_str)),
        )
        .and_where(Expr::col((request::Entity, R::Status)).is_in(stored(&OPEN)))
        .and_where(Expr::col((request::Entity, R::Category)).in_subquery(common))
        .and_where(Expr::col((request::Entity, R::UserId)).ne(user.0))
        .order_by((request::Entity, R::Id), Order::Desc)
        .limit(limit);
        if let Some(id) = only {
            q.and_where(Expr::col((request::Entity, R::Id)).eq(id.0));
        }
        self.shared_rows(&q).await
    }

    /// The requests `user` joined, newest join first, at most `limit`, as
    /// the building's residents see them (whatever their status now).
    pub async fn joined_by(&self, user: d::UserId, limit: u64) -> Result<Vec<SharedRequest>, DbError> {
        let mut q = shared_select();
        q.inner_join(
            request_join::Entity,
            Expr::col((request_join::Entity, request_join::Column::RequestId))
                .equals((request::Entity, request::Column::Id)),
        )
        .and_where(Expr::col((request_join::Entity, request_join::Column::UserId)).eq(user.0))
        .order_by(
            (request_join::Entity, request_join::Column::CreatedAt),
            Order::Desc,
        )
        .order_by((request::Entity, request::Column::Id), Order::Desc)
        .limit(limit);
        self.shared_rows(&q).await
    }

    async fn shared_rows(
        &self,
        q: &sea_orm::sea_query::SelectStatement,
    ) -> Result<Vec<SharedRequest>, DbError> {
        #[derive(FromQueryResult)]
        struct Row {
            id: i64,
            category_name: String,
            status: String,
            emergency: bool,
            created_at: OffsetDateTime,
            due_at: OffsetDateTime,
            joined: i32,
            building: String,
            joined_at: Option<OffsetDateTime>,
        }
        let c = self.0.conn();
        Row::find_by_statement(c.get_database_backend().build(q))
            .all(c)
            .await?
            .into_iter()
            .map(|r| {
                Ok(SharedRequest {
                    id: d::RequestId(r.id),
                    status: RequestStatus::from_stored(&r.status)
                        .ok_or_else(|| corrupt("requests", "status", &r.status))?,
                    category_name: r.category_name,
                    building: r.building,
                    emergency: r.emergency,
                    created_at: r.created_at,
                    due_at: r.due_at,
                    joined: r.joined,
                    joined_at: r.joined_at,
                })
            })
            .collect()
    }

    /// Records that `user` joined request `id` for `account`; `false` when
    /// they had already. The request's count goes up with it.
    pub async fn join(
        &self,
        id: d::RequestId,
        user: d::UserId,
        account: d::AccountId,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let row = request_join::ActiveModel {
            request_id: Set(id.0),
            user_id: Set(user.0),
            account_id: Set(account.0),
            created_at: Set(now),
        };
        let added = request_join::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([request_join::Column::RequestId, request_join::Column::UserId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(self.0.conn())
            .await?;
        if added == 0 {
            return Ok(false);
        }
        self.count_joined(id, 1).await?;
        Ok(true)
    }

    /// Takes `user` off request `id`; `false` when they were not on it.
    pub async fn leave(&self, id: d::RequestId, user: d::UserId) -> Result<bool, DbError> {
        let gone = request_join::Entity::delete_many()
            .filter(request_join::Column::RequestId.eq(id.0))
            .filter(request_join::Column::UserId.eq(user.0))
            .exec(self.0.conn())
            .await?
            .rows_affected;
        if gone == 0 {
            return Ok(false);
        }
        self.count_joined(id, -1).await?;
        Ok(true)
    }

    async fn count_joined(&self, id: d::RequestId, by: i32) -> Result<(), DbError> {
        request::Entity::update_many()
            .col_expr(
                request::Column::Joined,
                Expr::col(request::Column::Joined).add(by),
            )
            .filter(request::Column::Id.eq(id.0))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Who joined request `id`, in the order they joined: the resident, the
    /// account they joined for, its number and address with the flat.
    pub async fn joiners(&self, id: d::RequestId) -> Result<Vec<Joiner>, DbError> {
        #[derive(FromQueryResult)]
        struct Row {
            user_id: i64,
            account_id: i64,
            created_at: OffsetDateTime,
            number: String,
            address: String,
            flat: Option<String>,
        }
        let q = Query::select()
            .columns([
                (request_join::Entity, request_join::Column::UserId),
                (request_join::Entity, request_join::Column::AccountId),
                (request_join::Entity, request_join::Column::CreatedAt),
            ])
            .column((account::Entity, account::Column::Number))
            .columns([
                (premises::Entity, premises::Column::Address),
                (premises::Entity, premises::Column::Flat),
            ])
            .from(request_join::Entity)
            .inner_join(
                account::Entity,
                Expr::col((account::Entity, account::Column::Id))
                    .equals((request_join::Entity, request_join::Column::AccountId)),
            )
            .inner_join(
                premises::Entity,
                Expr::col((premises::Entity, premises::Column::Id))
                    .equals((account::Entity, account::Column::PremisesId)),
            )
            .and_where(Expr::col((request_join::Entity, request_join::Column::RequestId)).eq(id.0))
            .order_by(
                (request_join::Entity, request_join::Column::CreatedAt),
                Order::Asc,
            )
            .order_by((request_join::Entity, request_join::Column::UserId), Order::Asc)
            .to_owned();
        let c = self.0.conn();
        Ok(Row::find_by_statement(c.get_database_backend().build(&q))
            .all(c)
            .await?
            .into_iter()
            .map(|r| Joiner {
                user_id: d::UserId(r.user_id),
                account_id: d::AccountId(r.account_id),
                account_number: r.number,
                address: d::full_address(&r.address, r.flat.as_deref()),
                joined_at: r.created_at,
            })
            .collect())
    }

    /// How many requests there are (load checks).
    pub async fn count(&self) -> Result<u64, DbError> {
        Ok(request::Entity::find().count(self.0.conn()).await?)
    }

    /// Stores bytes under `key` (the database photo store).
    pub async fn put_blob(&self, key: &str, data: Vec<u8>) -> Result<(), DbError> {
        let row = photo_blob::ActiveModel {
            key: Set(key.into()),
            data: Set(data),
        };
        photo_blob::Entity::insert(row)
            .exec_without_returning(self.0.conn())
            .await?;
        Ok(())
    }

    /// The bytes under `key`.
    pub async fn get_blob(&self, key: &str) -> Result<Option<Vec<u8>>, DbError> {
        Ok(photo_blob::Entity::find_by_id(key.to_string())
            .one(self.0.conn())
            .await?
            .map(|b| b.data))
    }

    /// Deletes the bytes under `key`.
    pub async fn delete_blob(&self, key: &str) -> Result<(), DbError> {
        photo_blob::Entity::delete_by_id(key.to_string())
            .exec(self.0.conn())
            .await?;
        Ok(())
    }
}
