//! Requests to the dispatch service and the organization (R9, S3): residents
//! file them with photos and follow them; staff work the queue. The rules of
//! the lifecycle, deadlines and limits are in [`kabinet_domain::requests`];
//! here they meet the database, the photo store and the e-mail outbox.
//!
//! Filing takes the resident's row lock (PostgreSQL) or the write lock
//! (SQLite), so the daily and duplicate limits hold for concurrent requests
//! too. A change of status is a conditional update: when two staff members
//! act at once, one wins and the other is told the request changed. What
//! the resident reads never includes internal notes or assignments.

mod categories;
mod joins;
mod photos;
mod store;

pub use joins::JOINED_SHOWN;
pub use kabinet_db::requests::Joiner;
pub use photos::{MAX_BYTES as MAX_PHOTO_BYTES, MAX_PHOTOS, process as process_photo};
pub use store::{PhotoStorage, S3Settings};

use crate::account::AccountScope;
use crate::auth::{Client, Resident};
use crate::staff::StaffUser;
use crate::{Error, FieldErrors};
use kabinet_db::requests::{NewPhoto, NewRequest, QueueFilter, QueueItem, StatusChange};
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use kabinet_domain::requests::{
    Category, Change, ChangeError, Deadlines, EventKind, Photo, Request, RequestEvent, RequestStatus, Side,
};
use kabinet_domain::staff::{Permission, StaffMember};
use kabinet_notify::messages::RequestNews;
use store::PhotoStore;
use time::OffsetDateTime;

/// Field names of the request form.
pub mod fields {
    /// Account.
    pub const ACCOUNT: &str = "account";
    /// Category.
    pub const CATEGORY: &str = "category";
    /// Text.
    pub const TEXT: &str = "text";
    /// Phone.
    pub const PHONE: &str = "phone";
    /// Visit time.
    pub const VISIT: &str = "visit_time";
    /// Photos.
    pub const PHOTOS: &str = "photos";
    /// Reply, note, reason, comment.
    pub const BODY: &str = "body";
    /// Deferral day.
    pub const UNTIL: &str = "until";
    /// Rating.
    pub const RATING: &str = "rating";
}

/// How requests are handled (organization settings).
#[derive(Debug, Clone)]
pub struct RequestSettings {
    /// Deadlines by desk.
    pub deadlines: Deadlines,
    /// Where photo bytes go.
    pub storage: PhotoStorage,
    /// Requests one resident may file in a minute.
    pub filings_per_minute: usize,
    /// Replies and notes one staff member may write in a minute.
    pub staff_writes_per_minute: u64,
}

impl Default for RequestSettings {
    fn default() -> Self {
        RequestSettings {
            deadlines: Deadlines::default(),
            storage: PhotoStorage::default(),
            filings_per_minute: d::requests::PER_MINUTE_LIMIT,
            staff_writes_per_minute: STAFF_WRITES_PER_MINUTE,
        }
    }
}

/// A file sent with a request.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The file's name as the browser sent it (messages only).
    pub name: String,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// A new request as typed.
#[derive(Debug, Clone, Default)]
pub struct RequestInput {
    /// The account number (default: the sign-in account).
    pub account: Option<String>,
    /// The category's code.
    pub category: String,
    /// The text.
    pub text: String,
    /// Where to call back.
    pub phone: String,
    /// When a visit suits.
    pub visit_time: String,
    /// Photos.
    pub photos: Vec<Upload>,
}

/// What the form offers.
#[derive(Debug, Clone)]
pub struct RequestForm {
    /// The resident's accounts.
    pub scope: AccountScope,
    /// The categories.
    pub categories: Vec<Category>,
    /// The phone from the resident's settings.
    pub phone: String,
}

/// A page of requests.
#[derive(Debug, Clone)]
pub struct RequestPage<T> {
    /// The items.
    pub items: Vec<T>,
    /// How many there are in all.
    pub total: u64,
    /// This page (from 1).
    pub page: u64,
    /// Pages in all.
    pub pages: u64,
}

/// A request as its resident sees it.
#[derive(Debug, Clone)]
pub struct RequestView {
    /// The request.
    pub request: Request,
    /// Its history without internal lines.
    pub events: Vec<RequestEvent>,
    /// Its photos.
    pub photos: Vec<Photo>,
    /// Whether it is past its deadline.
    pub overdue: bool,
}

/// A request as staff see it.
#[derive(Debug, Clone)]
pub struct StaffView {
    /// The request.
    pub request: Request,
    /// Its whole history, notes included.
    pub events: Vec<RequestEvent>,
    /// Its photos.
    pub photos: Vec<Photo>,
    /// Whether it is past its deadline.
    pub overdue: bool,
    /// The account's number.
    pub account_number: String,
    /// The premises' address.
    pub address: String,
    /// The resident's e-mail.
    pub email: String,
    /// Colleagues to assign to.
    pub staff: Vec<StaffMember>,
    /// Residents of the building who joined it.
    pub joiners: Vec<Joiner>,
}

/// Who asks for a photo.
pub enum Viewer<'a> {
    /// A resident (only their own requests' photos).
    Resident(&'a Resident),
    /// Staff (with the permission to read requests).
    Staff(&'a StaffUser),
}

/// How long an emergency may wait untaken before the administrators hear.
pub const ESCALATE_AFTER: time::Duration = time::Duration::minutes(10);

/// Requests over one database.
#[derive(Clone)]
pub struct Requests {
    /// Photos decoded at once: one per core, so a burst of uploads queues
    /// here instead of starving every other request of CPU and memory.
    decoding: std::sync::Arc<tokio::sync::Semaphore>,
    /// Filings waiting for a decoder (at most [`DECODE_QUEUE`]).
    waiting: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// MiB of decoding memory not taken ([`DECODE_BUDGET_MIB`] in all).
    budget: std::sync::Arc<tokio::sync::Semaphore>,
    db: Db,
    clock: d::OrgClock,
    settings: RequestSettings,
    store: PhotoStore,
    public_url: String,
    calendar: crate::org_settings::LiveCalendar,
}

/// Requests on a page of lists.
pub const PAGE_SIZE: u64 = 20;
/// The queue's page.
pub const QUEUE_PAGE: u64 = 50;

fn pages(total: u64, size: u64) -> u64 {
    total.div_ceil(size).max(1)
}

fn change_error(e: ChangeError) -> Error {
    match e {
        ChangeError::NotAllowed => Error::Conflict(d::Text::new("error-request-state-changed")),
        ChangeError::DeferralDay => Error::Invalid(FieldErrors::single(
            fields::UNTIL,
            d::Text::new("error-request-deferral-day"),
        )),
        ChangeError::ReasonMissing => Error::Invalid(FieldErrors::single(
            fields::BODY,
            d::Text::new("error-request-reason-missing"),
        )),
        ChangeError::Rating => Error::Invalid(FieldErrors::single(
            fields::RATING,
            d::Text::new("error-request-rating"),
        )),
    }
}

/// A comment as sent: up to [`d::requests::MAX_TEXT_CHARS`] characters, not
/// only spaces (what the API's schema states); kept trimmed.
fn check_text(text: &str) -> Result<String, Error> {
    let long = text.chars().count() > d::requests::MAX_TEXT_CHARS;
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Invalid(FieldErrors::single(
            fields::BODY,
            d::Text::new("error-text-empty"),
        )));
    }
    if long {
        return Err(Error::Invalid(FieldErrors::single(
            fields::BODY,
            d::Text::new("error-text-too-long"),
        )));
    }
    Ok(text.to_string())
}

/// The memory photo decoding may hold at once, MiB: the largest photo
/// (24 MP RGBA, about 140 MiB with its scaled copies) alone, or two ordinary
/// 12 MP phone photos side by side.
pub const DECODE_BUDGET_MIB: u32 = 200;

/// Filings with photos that may wait for a decoder (beyond the one per core
/// decoding): a burst larger than this is answered 503 with `Retry-After`.
pub const DECODE_QUEUE: usize = 8;

/// A place in the decoding queue, given back when dropped.
struct WaitingSlot(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl WaitingSlot {
    /// A place, if fewer than [`DECODE_QUEUE`] are taken.
    fn take(count: &std::sync::Arc<std::sync::atomic::AtomicUsize>) -> Option<WaitingSlot> {
        use std::sync::atomic::Ordering;
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < DECODE_QUEUE).then_some(n + 1)
            })
            .ok()
            .map(|_| WaitingSlot(count.clone()))
    }
}

impl Drop for WaitingSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// The resident-facing error of a filing limit.
fn limit_error(e: d::requests::LimitReached) -> Error {
    Error::TooManyRequests(match e {
        d::requests::LimitReached::Daily => d::Text::new("error-requests-daily-limit"),
        d::requests::LimitReached::SameText => d::Text::new("error-requests-same-text"),
        d::requests::LimitReached::TooFast => d::Text::new("error-requests-too-fast"),
    })
}

/// Replies and notes one staff member may write in a minute by default
/// (counted from the history, so it holds across servers).
pub const STAFF_WRITES_PER_MINUTE: u64 = 20;

/// Cuts text to `n` characters and trims it.
fn clip(s: &str, n: usize) -> String {
    s.trim().chars().take(n).collect()
}

impl Requests {
    /// Requests with these settings; `public_url` is for links in e-mails.
    pub fn new(
        db: Db,
        clock: d::OrgClock,
        settings: RequestSettings,
        public_url: &str,
        calendar: crate::org_settings::LiveCalendar,
    ) -> Result<Requests, Error> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Requests {
            decoding: std::sync::Arc::new(tokio::sync::Semaphore::new(cores)),
            waiting: std::sync::Arc::default(),
            budget: std::sync::Arc::new(tokio::sync::Semaphore::new(DECODE_BUDGET_MIB as usize)),
            store: PhotoStore::new(&settings.storage)?,
            db,
            clock,
            settings,
            public_url: public_url.trim_end_matches('/').to_string(),
            calendar,
        })
    }

    /// When work on a request of `desk` counted from `from` is due (the
    /// category's own hours, or the desk's deadline by the calendar).
    async fn due_for_work(
        &self,
        desk: d::requests::Desk,
        category: &str,
        from: OffsetDateTime,
    ) -> Result<OffsetDateTime, Error> {
        let own = self
            .db
            .requests()
            .all_categories()
            .await?
            .into_iter()
            .find(|c| c.setting.category.code == category)
            .and_then(|c| c.setting.category.deadline_hours);
        let calendar = self.calendar.current().await?;
        Ok(self
            .settings
            .deadlines
            .for_work(desk, own, from, self.clock, &calendar))
    }

    /// The organization's clock.
    pub fn clock(&self) -> d::OrgClock {
        self.clock
    }

    /// The form: accounts, categories, the phone from the settings.
    pub async fn form(&self, r: &Resident, account: Option<&str>) -> Result<RequestForm, Error> {
        let scope = crate::account::scope(&self.db, r, account).await?;
        let categories = self.db.requests().categories().await?;
        let phone = self
            .db
            .users()
            .preferences(r.user.id)
            .await?
            .and_then(|p| p.phone)
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        Ok(RequestForm {
            scope,
            categories,
            phone,
        })
    }

    fn start_of_today(&self, now: OffsetDateTime) -> OffsetDateTime {
        self.clock.start_of(self.clock.today(now))
    }

    /// Files a request with its photos; returns its number. Every field is
    /// checked before anything is written; the photos are checked and
    /// re-encoded on the blocking pool.
    pub async fn file(
        &self,
        r: &Resident,
        input: RequestInput,
        client: &Client,
    ) -> Result<d::RequestId, Error> {
        let scope = match crate::account::scope(&self.db, r, input.account.as_deref()).await {
            Ok(s) => Some(s),
            Err(Error::NotFound) => None,
            Err(e) => return Err(e),
        };
        let categories = self.db.requests().categories().await?;
        let uploads: Vec<Upload> = input.photos.into_iter().filter(|u| !u.data.is_empty()).collect();
        let form = d::requests::FilingForm {
            account_known: scope.is_some(),
            category: &input.category,
            text: &input.text,
            phone: &input.phone,
            visit_time: &input.visit_time,
            photos: uploads.len(),
            max_photos: MAX_PHOTOS,
        };
        let filing = d::requests::check_filing(form, &categories).map_err(|problems| {
            let mut errors = FieldErrors::default();
            for p in problems {
                errors.add(p.field(), p);
            }
            Error::Invalid(errors)
        })?;
        let d::requests::Filing {
            category,
            text,
            phone,
            visit_time,
        } = filing;
        let processed = self.photos_within_limits(r, &text, uploads).await?;
        let Some(scope) = scope else {
            return Err(Error::Internal("request form check".into()));
        };
        let account = scope.current();
        let now = OffsetDateTime::now_utc();
        let calendar = self.calendar.current().await?;
        let due = self.settings.deadlines.on_filing(
            category.desk,
            category.emergency,
            category.deadline_hours,
            now,
            self.clock,
            &calendar,
        );
        let tx = self.db.begin().await?;
        tx.users().lock(r.user.id).await?;
        let today = tx
            .requests()
            .texts_since(r.user.id, self.start_of_today(now))
            .await?;
        d::requests::check_limits(&text, &today, now, self.settings.filings_per_minute)
            .map_err(limit_error)?;
        let id = tx
            .requests()
            .insert(&NewRequest {
                user_id: r.user.id,
                account_id: account.account.id,
                account_number: account.account.number.to_string(),
                address: account.premises.full_address(),
                category: category.clone(),
                text_norm: d::requests::normalized(&text),
                text,
                phone,
                visit_time: clip(&visit_time, d::requests::MAX_VISIT_CHARS),
                due_at: due,
                now,
            })
            .await?;
        self.store_photos(&tx, id, processed, now).await?;
        if category.emergency {
            // The dispatchers who work the building hear of it at once; if
            // nobody takes it in time, the administrators do.
            let org = crate::site::sender_name(&self.db).await?;
            let url = format!("{}/staff/requests/{id}", self.public_url);
            for m in tx.staff().alerted(&[d::staff::Role::Dispatcher]).await? {
                if let Some(to) = m.email.as_ref().filter(|_| m.works(&account.premises.address)) {
                    let mail = kabinet_notify::messages::emergency_alert(
                        &org,
                        to,
                        id,
                        &category.name,
                        &account.premises.full_address(),
                        None,
                        &url,
                    );
                    tx.outbox().queue(&mail, None, now).await?;
                }
            }
            let job = crate::jobs::requests::EscalateEmergency { request: id.0 };
            crate::jobs::enqueue(&tx, &job, now + ESCALATE_AFTER, now).await?;
        }
        tx.audit()
            .record(
                &client.entry(
                    d::AuditEvent::RequestFiled,
                    Some(r.user.id),
                    Some(account.account.id),
                    format!("request {id}: {}", category.code),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// What a filing may cost is settled before any photo is decoded: the
    /// filing limits first (checked again under the lock when it is
    /// written), then every photo's header; then the photos are decoded and
    /// re-encoded.
    async fn photos_within_limits(
        &self,
        r: &Resident,
        text: &str,
        uploads: Vec<Upload>,
    ) -> Result<Vec<photos::Processed>, Error> {
        let now = OffsetDateTime::now_utc();
        let today = self
            .db
            .requests()
            .texts_since(r.user.id, self.start_of_today(now))
            .await?;
        d::requests::check_limits(text, &today, now, self.settings.filings_per_minute)
            .map_err(limit_error)?;
        let checked = uploads
            .into_iter()
            .map(|u| photos::inspect(&u.name, &u.data).map(|h| (u, h)))
            .collect::<Result<Vec<_>, d::Text>>()
            .map_err(|m| Error::Invalid(FieldErrors::single(fields::PHOTOS, m)))?;
        if checked.is_empty() {
            return Ok(Vec::new());
        }
        self.decode(checked).await
    }

    /// Stores the processed photos of request `id` (each with its
    /// thumbnail) inside the filing's transaction.
    async fn store_photos(
        &self,
        tx: &kabinet_db::Tx,
        id: d::RequestId,
        processed: Vec<photos::Processed>,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        for (i, p) in processed.into_iter().enumerate() {
            let public_id = crate::auth::secrets::new_public_id();
            let meta = NewPhoto {
                public_id: public_id.clone(),
                position: i32::try_from(i).unwrap_or(0),
                width: i32::try_from(p.width).unwrap_or(0),
                height: i32::try_from(p.height).unwrap_or(0),
                bytes: i64::try_from(p.jpeg.len()).unwrap_or(0),
            };
            self.store.put(tx, &public_id, p.jpeg).await?;
            self.store.put(tx, &format!("{public_id}.thumb"), p.thumb).await?;
            tx.requests().add_photo(id, &meta, now).await?;
        }
        Ok(())
    }

    /// Decodes and re-encodes photos that passed the header check: one
    /// filing per core at a time and within [`DECODE_BUDGET_MIB`] of memory
    /// in all (a filing's photos are decoded one after another, so it costs
    /// what its largest one does), at most [`DECODE_QUEUE`] more waiting; a
    /// filing beyond that is told to come back ([`Error::Busy`]) rather than
    /// hold its photos in memory in a queue without end.
    async fn decode(&self, checked: Vec<(Upload, photos::Header)>) -> Result<Vec<photos::Processed>, Error> {
        let cost = checked
            .iter()
            .map(|(_, h)| h.cost_mib())
            .max()
            .unwrap_or(1)
            .clamp(1, DECODE_BUDGET_MIB);
        let queue = |e: tokio::sync::AcquireError| Error::Internal(format!("photo queue: {e}"));
        let permits = match (
            self.decoding.clone().try_acquire_owned(),
            self.budget.clone().try_acquire_many_owned(cost),
        ) {
            (Ok(core), Ok(memory)) => (core, memory),
            (core, memory) => {
                let waiting = WaitingSlot::take(&self.waiting).ok_or(Error::Busy)?;
                let core = match core {
                    Ok(p) => p,
                    Err(_) => self.decoding.clone().acquire_owned().await.map_err(queue)?,
                };
                let memory = match memory {
                    Ok(p) => p,
                    Err(_) => self
                        .budget
                        .clone()
                        .acquire_many_owned(cost)
                        .await
                        .map_err(queue)?,
                };
                drop(waiting);
                (core, memory)
            }
        };
        let processed = tokio::task::spawn_blocking(move || {
            let _permits = permits;
            checked
                .iter()
                .map(|(u, h)| photos::process(&u.name, &u.data, *h))
                .collect::<Result<Vec<_>, d::Text>>()
        })
        .await
        .map_err(|e| Error::Internal(format!("photo worker: {e}")))?
        .map_err(|m| Error::Invalid(FieldErrors::single(fields::PHOTOS, m)))?;
        Ok(processed)
    }

    /// The resident's requests, newest first.
    pub async fn list(&self, r: &Resident, page: u64) -> Result<RequestPage<Request>, Error> {
        let page = page.max(1);
        let (items, total) = self
            .db
            .requests()
            .list_of_user(r.user.id, PAGE_SIZE, (page - 1).saturating_mul(PAGE_SIZE))
            .await?;
        Ok(RequestPage {
            items,
            total,
            page,
            pages: pages(total, PAGE_SIZE),
        })
    }

    /// The resident's requests not yet closed, declined or cancelled, newest
    /// first (the overview's card).
    pub async fn unfinished(&self, r: &Resident, limit: u64) -> Result<Vec<Request>, Error> {
        Ok(self.db.requests().unfinished_of_user(r.user.id, limit).await?)
    }

    /// One of the resident's requests (another's is [`Error::NotFound`]).
    pub async fn show(&self, r: &Resident, id: d::RequestId) -> Result<RequestView, Error> {
        let request = self
            .db
            .requests()
            .of_user(id, r.user.id)
            .await?
            .ok_or(Error::NotFound)?;
        let events = self.db.requests().events(id, false).await?;
        let photos = self.db.requests().photos(id).await?;
        Ok(RequestView {
            overdue: request.overdue(OffsetDateTime::now_utc()),
            request,
            events,
            photos,
        })
    }

    /// The resident cancels (while new), accepts with a rating, or returns
    /// a done request with a comment.
    pub async fn resident_change(
        &self,
        r: &Resident,
        id: d::RequestId,
        change: Change,
        client: &Client,
    ) -> Result<(), Error> {
        let request = self
            .db
            .requests()
            .of_user(id, r.user.id)
            .await?
            .ok_or(Error::NotFound)?;
        if let Change::Return { comment } = &change
            && comment.chars().count() > d::requests::MAX_TEXT_CHARS
        {
            return Err(Error::Invalid(FieldErrors::single(
                fields::BODY,
                d::Text::new("error-text-too-long"),
            )));
        }
        let now = OffsetDateTime::now_utc();
        let moved = d::requests::apply(request.status, Side::Resident, &change, self.clock.today(now))
            .map_err(change_error)?;
        let (body, rating) = match &change {
            Change::Return { comment } => (comment.trim().to_string(), None),
            Change::Accept { rating } => (String::new(), Some(i16::from(*rating))),
            _ => (String::new(), None),
        };
        let due = if moved.reopened {
            Some(self.due_for_work(request.desk, &request.category, now).await?)
        } else {
            None
        };
        let tx = self.db.begin().await?;
        let changed = tx
            .requests()
            .change_status(
                id,
                &StatusChange {
                    from: request.status,
                    to: moved.to,
                    staff_id: None,
                    body,
                    due_at: due,
                    deferred_until: None,
                    rating,
                    reopened: moved.reopened,
                    assign_to: None,
                    now,
                },
            )
            .await?;
        if changed.is_none() {
            return Err(change_error(ChangeError::NotAllowed));
        }
        tx.audit()
            .record(
                &client.entry(
                    d::AuditEvent::RequestChanged,
                    Some(r.user.id),
                    Some(request.account_id),
                    format!(
                        "request {id}: {} -> {}",
                        request.status.as_str(),
                        moved.to.as_str()
                    ),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The resident writes to staff in an open or done request.
    pub async fn comment(
        &self,
        r: &Resident,
        id: d::RequestId,
        text: &str,
        client: &Client,
    ) -> Result<(), Error> {
        let request = self
            .db
            .requests()
            .of_user(id, r.user.id)
            .await?
            .ok_or(Error::NotFound)?;
        let text = check_text(text)?;
        if request.status.is_final() {
            return Err(Error::Conflict(d::Text::new("error-request-closed")));
        }
        crate::rates::take(&self.db, r.user.account_id, crate::rates::COMMENTS).await?;
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.requests()
            .add_event(id, EventKind::Comment, None, None, None, &text, now)
            .await?;
        tx.audit()
            .record(
                &client.entry(
                    d::AuditEvent::RequestChanged,
                    Some(r.user.id),
                    Some(request.account_id),
                    format!("request {id}: comment"),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A photo or its thumbnail, for its resident or for staff who may read
    /// requests; anyone else gets [`Error::NotFound`].
    pub async fn photo(&self, viewer: Viewer<'_>, public_id: &str, thumb: bool) -> Result<Vec<u8>, Error> {
        if public_id.is_empty()
            || public_id.len() > 32
            || !public_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::NotFound);
        }
        let (photo, owner, desk) = self
            .db
            .requests()
            .photo(public_id)
            .await?
            .ok_or(Error::NotFound)?;
        match viewer {
            Viewer::Resident(r) if r.user.id == owner => {}
            // Staff of another desk are told so, as on the request itself.
            Viewer::Staff(s) => {
                s.require_desk(desk)?;
                if s.buildings().is_some() {
                    let building = self.db.requests().building(photo.request_id).await?;
                    s.require_building(building.as_deref())?;
                }
            }
            _ => return Err(Error::NotFound),
        }
        let key = if thumb {
            format!("{public_id}.thumb")
        } else {
            public_id.to_string()
        };
        self.store.get(&self.db, &key).await?.ok_or(Error::NotFound)
    }

    /// Refuses a request outside the member's desks or buildings.
    async fn require_reach(&self, s: &StaffUser, request: &d::requests::Request) -> Result<(), Error> {
        s.require_desk(request.desk)?;
        if s.buildings().is_some() {
            let building = self.db.requests().building(request.id).await?;
            s.require_building(building.as_deref())?;
        }
        Ok(())
    }

    /// The queue, emergencies first, then by deadline.
    pub async fn queue(
        &self,
        s: &StaffUser,
        filter: &QueueFilter,
        page: u64,
    ) -> Result<RequestPage<QueueItem>, Error> {
        let desks = s.desks();
        if desks.is_empty() {
            return Err(Error::Forbidden);
        }
        let filter = QueueFilter {
            desks,
            buildings: s.buildings().map(<[String]>::to_vec),
            ..filter.clone()
        };
        let page = page.max(1);
        let (items, total) = self
            .db
            .requests()
            .queue(&filter, QUEUE_PAGE, (page - 1).saturating_mul(QUEUE_PAGE))
            .await?;
        Ok(RequestPage {
            items,
            total,
            page,
            pages: pages(total, QUEUE_PAGE),
        })
    }

    /// The categories (the queue's filter), switched-off ones too: their
    /// requests are still in the queue.
    pub async fn categories(&self) -> Result<Vec<Category>, Error> {
        Ok(self
            .db
            .requests()
            .all_categories()
            .await?
            .into_iter()
            .map(|c| c.setting.category)
            .collect())
    }

    /// A request with its whole history, for staff.
    pub async fn staff_view(&self, s: &StaffUser, id: d::RequestId) -> Result<StaffView, Error> {
        let request = self.db.requests().get(id).await?.ok_or(Error::NotFound)?;
        self.require_reach(s, &request).await?;
        let events = self.db.requests().events(id, true).await?;
        let photos = self.db.requests().photos(id).await?;
        let (account_number, address) = self.db.requests().place(id).await?.ok_or(Error::NotFound)?;
        let email = self
            .db
            .users()
            .by_id(request.user_id)
            .await?
            .map(|u| u.email.as_str().to_string())
            .unwrap_or_default();
        let desk = Permission::for_desk(request.desk);
        let mut staff = self.db.staff().active().await?;
        staff.retain(|m| m.role.can(desk));
        let joiners = self.joiners(id).await?;
        Ok(StaffView {
            joiners,
            overdue: request.overdue(OffsetDateTime::now_utc()),
            request,
            events,
            photos,
            account_number,
            address,
            email,
            staff,
        })
    }

    /// Staff move a request: take, complete, defer, decline, close. Taking
    /// an unassigned request assigns it to whoever took it.
    pub async fn staff_change(
        &self,
        s: &StaffUser,
        id: d::RequestId,
        change: Change,
        client: &Client,
    ) -> Result<(), Error> {
        let request = self.db.requests().get(id).await?.ok_or(Error::NotFound)?;
        self.require_reach(s, &request).await?;
        let now = OffsetDateTime::now_utc();
        let today = self.clock.today(now);
        let moved = d::requests::apply(request.status, Side::Staff, &change, today).map_err(change_error)?;
        let (body, deferred_until, due) = match &change {
            Change::Decline { reason } => (clip(reason, 2000), None, None),
            Change::Defer { until } => (String::new(), Some(*until), Some(self.clock.start_of(*until))),
            // An emergency taken has acknowledged its 30 minutes: its clock
            // is now the time to deal with it, from its filing.
            Change::Take if request.emergency && request.status == RequestStatus::New => (
                String::new(),
                None,
                Some(
                    self.due_for_work(request.desk, &request.category, request.created_at)
                        .await?,
                ),
            ),
            _ => (String::new(), None, None),
        };
        // Read before the transaction: a write transaction never waits for
        // a second connection from the pool.
        let what = match moved.to {
            RequestStatus::InWork => Some(RequestNews::Taken),
            RequestStatus::Done => Some(RequestNews::Done),
            RequestStatus::Declined => Some(RequestNews::Declined),
            RequestStatus::Deferred => deferred_until.map(RequestNews::Deferred),
            _ => None,
        };
        // The author hears of it, and the neighbours who joined.
        let mut told = Vec::new();
        if what.is_some() {
            told.push(request.user_id);
            if request.joined > 0 {
                told.extend(
                    self.db
                        .requests()
                        .joiners(id)
                        .await?
                        .into_iter()
                        .map(|j| j.user_id),
                );
            }
        }
        let tx = self.db.begin().await?;
        let changed = tx
            .requests()
            .change_status(
                id,
                &StatusChange {
                    from: request.status,
                    to: moved.to,
                    staff_id: Some(s.member().id),
                    body: body.clone(),
                    due_at: due,
                    deferred_until,
                    rating: None,
                    reopened: false,
                    assign_to: (moved.to == RequestStatus::InWork).then_some(s.member().id),
                    now,
                },
            )
            .await?;
        let Some(line) = changed else {
            return Err(change_error(ChangeError::NotAllowed));
        };
        tell(&tx, &request, line, &told, now).await?;
        tx.audit()
            .record(
                &s.entry(
                    client,
                    d::AuditEvent::RequestChanged,
                    &format!(
                        "request {id}: {} -> {}",
                        request.status.as_str(),
                        moved.to.as_str()
                    ),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Tells the administrators (with an e-mail) of emergency `id` if it is
    /// still new — nobody took it within [`ESCALATE_AFTER`]; audited.
    /// `true` when it was escalated.
    pub async fn escalate(&self, id: d::RequestId, now: OffsetDateTime) -> Result<bool, Error> {
        let Some(request) = self.db.requests().get(id).await? else {
            return Ok(false);
        };
        if request.status != RequestStatus::New || !request.emergency {
            return Ok(false);
        }
        let org = crate::site::sender_name(&self.db).await?;
        let url = format!("{}/staff/requests/{id}", self.public_url);
        let address = self
            .db
            .requests()
            .place(id)
            .await?
            .map(|(_, address)| address)
            .unwrap_or_default();
        let waited = (now - request.created_at).whole_minutes();
        let admins = self.db.staff().alerted(&[d::staff::Role::Administrator]).await?;
        let tx = self.db.begin().await?;
        for m in &admins {
            if let Some(to) = &m.email {
                let mail = kabinet_notify::messages::emergency_alert(
                    &org,
                    to,
                    id,
                    &request.category_name,
                    &address,
                    Some(waited),
                    &url,
                );
                tx.outbox().queue(&mail, None, now).await?;
            }
        }
        tx.audit()
            .record(
                &d::AuditEntry::system(
                    d::AuditEvent::RequestChanged,
                    Some(request.account_id),
                    format!(
                        "request {id}: emergency not taken in {waited} min, escalated to {} administrator(s)",
                        admins.len()
                    ),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Returns deferred requests whose day has come to the queue as new,
    /// with a fresh deadline; the history line names no staff member. A
    /// request someone moved meanwhile is left as it is. Returns how many
    /// came back.
    pub async fn return_deferred(&self, now: OffsetDateTime) -> Result<u64, Error> {
        let mut returned = 0;
        loop {
            let due = self
                .db
                .requests()
                .deferred_due(self.clock.today(now), 100)
                .await?;
            let batch = due.len();
            for request in due {
                let fresh = self.due_for_work(request.desk, &request.category, now).await?;
                let tx = self.db.begin().await?;
                let moved = tx
                    .requests()
                    .change_status(
                        request.id,
                        &StatusChange {
                            from: RequestStatus::Deferred,
                            to: RequestStatus::New,
                            staff_id: None,
                            body: String::new(),
                            due_at: Some(fresh),
                            deferred_until: None,
                            rating: None,
                            reopened: false,
                            assign_to: None,
                            now,
                        },
                    )
                    .await?;
                tx.commit().await?;
                returned += u64::from(moved.is_some());
            }
            if batch < 100 {
                return Ok(returned);
            }
        }
    }

    /// Staff write to the resident (`internal` false: a reply, e-mailed) or
    /// to colleagues (`internal` true: a note, never shown to the resident).
    pub async fn write(
        &self,
        s: &StaffUser,
        id: d::RequestId,
        text: &str,
        internal: bool,
        client: &Client,
    ) -> Result<(), Error> {
        let request = self.db.requests().get(id).await?.ok_or(Error::NotFound)?;
        self.require_reach(s, &request).await?;
        let text = check_text(text)?;
        let text = text.as_str();
        if request.status.is_final() && !internal {
            return Err(Error::Conflict(d::Text::new("error-request-closed-reply")));
        }
        let now = OffsetDateTime::now_utc();
        let kind = if internal {
            EventKind::Note
        } else {
            EventKind::Reply
        };
        let tx = self.db.begin().await?;
        let minute_ago = now - time::Duration::minutes(1);
        if tx.requests().writes_since(s.member().id, minute_ago).await?
            >= self.settings.staff_writes_per_minute
        {
            return Err(Error::TooManyRequests(d::Text::new(
                "error-staff-writes-too-fast",
            )));
        }
        let line = tx
            .requests()
            .add_event(id, kind, Some(s.member().id), None, None, text, now)
            .await?;
        if !internal {
            tell(&tx, &request, line, &[request.user_id], now).await?;
        }
        tx.audit()
            .record(
                &s.entry(
                    client,
                    d::AuditEvent::RequestChanged,
                    &format!("request {id}: {}", kind.as_str()),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Assigns a request to a colleague (or to nobody).
    pub async fn assign(
        &self,
        s: &StaffUser,
        id: d::RequestId,
        to: Option<d::StaffId>,
        client: &Client,
    ) -> Result<(), Error> {
        let request = self.db.requests().get(id).await?.ok_or(Error::NotFound)?;
        self.require_reach(s, &request).await?;
        let name = match to {
            Some(t) => {
                let m = self
                    .db
                    .staff()
                    .get(t)
                    .await?
                    .filter(|m| !m.disabled && m.role.can(Permission::for_desk(request.desk)))
                    .ok_or(Error::Invalid(FieldErrors::single(
                        "assignee",
                        d::Text::new("error-request-assignee"),
                    )))?;
                m.name
            }
            None => String::new(),
        };
        if request.assignee_id == to {
            return Ok(());
        }
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        tx.requests().assign(id, to).await?;
        tx.requests()
            .add_event(
                id,
                EventKind::Assigned,
                Some(s.member().id),
                None,
                None,
                &name,
                now,
            )
            .await?;
        tx.audit()
            .record(
                &s.entry(
                    client,
                    d::AuditEvent::RequestChanged,
                    &format!(
                        "request {id}: assigned to {}",
                        to.map_or("nobody".into(), |t| t.to_string())
                    ),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many requests there are (load checks, the command line).
    pub async fn count(&self) -> Result<u64, Error> {
        Ok(self.db.requests().count().await?)
    }
}

/// Tells `users` (the author; for a status change, the neighbours who
/// joined too) of history line `line` of `request`, through the
/// notifications: an event and its deliveries in the change's transaction.
async fn tell<C: Repos>(
    tx: &C,
    request: &Request,
    line: i64,
    users: &[d::UserId],
    now: OffsetDateTime,
) -> Result<(), Error> {
    if users.is_empty() {
        return Ok(());
    }
    let kind = d::notify::EventKind::RequestUpdate;
    let event = tx
        .notify()
        .single_event(kind, request.account_id.0, line, now)
        .await?;
    tx.notify().user_deliveries(event, kind, users, now).await?;
    Ok(())
}
