//! Requests (обращения) to the dispatch service or the organization: where a
//! request stands, who may move it where, its deadline, the order of the
//! dispatcher's queue, and the limits that keep a few residents from
//! flooding it.
//!
//! Lifecycle: `new` → `in_work` → `done` → `closed`, with `deferred` (until a
//! day at most 365 days ahead) and `declined` (with a reason) from the open
//! states. The resident may cancel a request while it is new; on `done` they
//! accept it (a rating 1–5 closes it) or return it with a comment, which
//! reopens it (`in_work`) and is counted.

use time::{Date, Duration, OffsetDateTime};

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Filed, nobody has taken it yet.
    New,
    /// Someone works on it.
    InWork,
    /// Staff say it is done; the resident may accept or return it.
    Done,
    /// Finished.
    Closed,
    /// Put off until a day.
    Deferred,
    /// Refused, with a reason.
    Declined,
    /// Withdrawn by the resident while it was new.
    Canceled,
}

impl RequestStatus {
    /// Every status.
    pub const ALL: [RequestStatus; 7] = [
        RequestStatus::New,
        RequestStatus::InWork,
        RequestStatus::Done,
        RequestStatus::Closed,
        RequestStatus::Deferred,
        RequestStatus::Declined,
        RequestStatus::Canceled,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RequestStatus::New => "new",
            RequestStatus::InWork => "in_work",
            RequestStatus::Done => "done",
            RequestStatus::Closed => "closed",
            RequestStatus::Deferred => "deferred",
            RequestStatus::Declined => "declined",
            RequestStatus::Canceled => "canceled",
        }
    }

    /// Reads a stored name.
    pub fn from_stored(s: &str) -> Option<RequestStatus> {
        RequestStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether staff still owe the resident something: open requests count
    /// towards the queue and can be overdue.
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            RequestStatus::New | RequestStatus::InWork | RequestStatus::Deferred
        )
    }

    /// Whether nothing can happen to it any more.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            RequestStatus::Closed | RequestStatus::Declined | RequestStatus::Canceled
        )
    }
}

/// Who asks for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The resident who filed the request.
    Resident,
    /// Staff with the permission to manage requests.
    Staff,
}

/// A change asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Staff take the request into work (also from `deferred`).
    Take,
    /// Staff say the work is done.
    Complete,
    /// Staff put it off until a day.
    Defer {
        /// The day it comes back.
        until: Date,
    },
    /// Staff refuse it.
    Decline {
        /// Why, for the resident.
        reason: String,
    },
    /// The resident withdraws a new request.
    Cancel,
    /// The resident accepts the work.
    Accept {
        /// 1–5.
        rating: u8,
    },
    /// The resident says the work is not done.
    Return {
        /// What is still wrong.
        comment: String,
    },
    /// Staff close a done request the resident did not answer.
    Close,
}

/// Why a change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// Not from this status, or not by this side.
    #[error("this change is not possible now")]
    NotAllowed,
    /// A deferral must end after today and at most a year ahead.
    #[error("the deferral day must be after today and within 365 days")]
    DeferralDay,
    /// A reason or a comment is required.
    #[error("a reason is required")]
    ReasonMissing,
    /// Ratings are 1 to 5.
    #[error("the rating must be 1 to 5")]
    Rating,
}

/// The longest deferral.
pub const MAX_DEFERRAL_DAYS: i64 = 365;

/// What a change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    /// The new status.
    pub to: RequestStatus,
    /// Whether it reopened a done request (counted).
    pub reopened: bool,
}

/// Checks `change` by `side` on a request in `from`, on the organization's
/// day `today`, and says where it goes.
pub fn apply(from: RequestStatus, side: Side, change: &Change, today: Date) -> Result<Moved, ChangeError> {
    use RequestStatus as S;
    let to = match (side, change, from) {
        (Side::Staff, Change::Take, S::New | S::Deferred) => S::InWork,
        (Side::Staff, Change::Complete, S::InWork) => S::Done,
        (Side::Staff, Change::Defer { until }, S::New | S::InWork | S::Deferred) => {
            if *until <= today || *until > today + Duration::days(MAX_DEFERRAL_DAYS) {
                return Err(ChangeError::DeferralDay);
            }
            S::Deferred
        }
        (Side::Staff, Change::Decline { reason }, S::New | S::InWork | S::Deferred) => {
            if reason.trim().is_empty() {
                return Err(ChangeError::ReasonMissing);
            }
            S::Declined
        }
        (Side::Staff, Change::Close, S::Done) => S::Closed,
        (Side::Resident, Change::Cancel, S::New) => S::Canceled,
        (Side::Resident, Change::Accept { rating }, S::Done) => {
            if !(1..=5).contains(rating) {
                return Err(ChangeError::Rating);
            }
            S::Closed
        }
        (Side::Resident, Change::Return { comment }, S::Done) => {
            if comment.trim().is_empty() {
                return Err(ChangeError::ReasonMissing);
            }
            return Ok(Moved {
                to: S::InWork,
                reopened: true,
            });
        }
        _ => return Err(ChangeError::NotAllowed),
    };
    Ok(Moved { to, reopened: false })
}

/// Who a category's requests go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Desk {
    /// The emergency dispatch service (аварийно-диспетчерская служба).
    Dispatch,
    /// The organization's office.
    Office,
}

/// How long staff have (ПП 416 п. 13 and the organization's settings): an
/// emergency is to be taken within [`Deadlines::emergency_ack`] (30
/// minutes), then dealt with within its category's hours or the dispatch
/// service's [`Deadlines::dispatch`] (24 hours) from filing; a request to
/// the office is answered within [`Deadlines::office_days`] working days (10)
/// by the production calendar, by the end of the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// For the dispatch service.
    pub dispatch: Duration,
    /// Working days for the office.
    pub office_days: u32,
    /// For an emergency to be taken.
    pub emergency_ack: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            dispatch: Duration::hours(24),
            office_days: 10,
            emergency_ack: Duration::minutes(30),
        }
    }
}

/// A desk's deadline, as the office page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskDeadline {
    /// So many hours.
    Hours(i64),
    /// So many working days.
    WorkingDays(u32),
}

impl Deadlines {
    /// The deadline of `desk`'s requests whose category sets none.
    pub fn of(self, desk: Desk) -> DeskDeadline {
        match desk {
            Desk::Dispatch => DeskDeadline::Hours(self.dispatch.whole_hours()),
            Desk::Office => DeskDeadline::WorkingDays(self.office_days),
        }
    }

    /// When work on a request of `desk` (with its category's own hours, if
    /// any) counted from `from` is due.
    pub fn for_work(
        self,
        desk: Desk,
        own_hours: Option<i64>,
        from: OffsetDateTime,
        clock: crate::OrgClock,
        calendar: &crate::workdays::WorkCalendar,
    ) -> OffsetDateTime {
        match (own_hours, desk) {
            (Some(h), _) => from + Duration::hours(h),
            (None, Desk::Dispatch) => from + self.dispatch,
            (None, Desk::Office) => {
                let last = calendar.add_working_days(clock.today(from), self.office_days);
                clock.start_of(last.next_day().unwrap_or(last))
            }
        }
    }

    /// When a request filed at `filed` is due: an emergency to be taken
    /// within [`Deadlines::emergency_ack`], anything else as
    /// [`Deadlines::for_work`].
    pub fn on_filing(
        self,
        desk: Desk,
        emergency: bool,
        own_hours: Option<i64>,
        filed: OffsetDateTime,
        clock: crate::OrgClock,
        calendar: &crate::workdays::WorkCalendar,
    ) -> OffsetDateTime {
        if emergency {
            filed + self.emergency_ack
        } else {
            self.for_work(desk, own_hours, filed, clock, calendar)
        }
    }
}

/// Whether an open request is past its deadline at `now` (a deferred one
/// counts from the day it comes back, which the caller passes as `due`).
pub fn overdue(status: RequestStatus, due: OffsetDateTime, now: OffsetDateTime) -> bool {
    status.is_open() && status != RequestStatus::Deferred && now > due
}

/// The dispatcher's queue order: emergencies first; among them and among
/// the rest, those nobody has taken yet first; then the earliest deadline,
/// then the oldest request. (The database sorts the same way.)
pub fn queue_key(
    emergency: bool,
    status: RequestStatus,
    due: OffsetDateTime,
    id: crate::RequestId,
) -> (bool, bool, OffsetDateTime, crate::RequestId) {
    (!emergency, status != RequestStatus::New, due, id)
}

/// The most requests a resident may file in a day.
pub const DAILY_LIMIT: usize = 10;
/// The most requests with the same text a resident may file in a day.
pub const SAME_TEXT_LIMIT: usize = 2;
/// The longest text.
pub const MAX_TEXT_CHARS: usize = 2_000;

/// A text reduced for comparing duplicates, so that the same request
/// written differently compares equal: Unicode NFKC; format characters
/// (zero-width spaces and joiners, direction marks) removed; lower case;
/// every character replaced by its UTS #39 confusable skeleton, so that a
/// Latin `o` and a Cyrillic `о` (or `e` and `е`, `p` and `р`) are one
/// letter; accents dropped (`ё` is `е`); runs of whitespace and punctuation
/// one space. Case is folded to upper case before the skeleton (Cyrillic
/// capitals are the ones drawn like Latin letters: `Н` is `H`, while `н` is
/// a small capital) and to lower case after it. Only ever compared with
/// another normalized text.
pub fn normalized(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    let folded: String = text
        .nfkc()
        .filter(|c| c.general_category() != GeneralCategory::Format)
        .flat_map(char::to_uppercase)
        .collect();
    let mut out = String::with_capacity(folded.len());
    let mut gap = false;
    let mut one = [0u8; 4];
    // Letters and digits are told from punctuation before the skeleton (it
    // draws a dash as a katakana mark, which counts as a letter).
    for c in folded.chars() {
        if !c.is_alphanumeric() {
            gap = true;
            continue;
        }
        if gap && !out.is_empty() {
            out.push(' ');
        }
        gap = false;
        for s in unicode_security::skeleton(c.encode_utf8(&mut one)) {
            if !matches!(
                s.general_category(),
                GeneralCategory::NonspacingMark | GeneralCategory::EnclosingMark | GeneralCategory::Format
            ) {
                out.extend(s.to_lowercase());
            }
        }
    }
    out
}

/// Why a new request is not taken now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitReached {
    /// [`DAILY_LIMIT`] requests today already.
    #[error("too many requests today")]
    Daily,
    /// [`SAME_TEXT_LIMIT`] requests with this text today already.
    #[error("the same request was sent today already")]
    SameText,
    /// [`PER_MINUTE_LIMIT`] requests in the last minute already.
    #[error("too many requests in a minute")]
    TooFast,
}

/// The most requests a resident may file within a minute, by default.
pub const PER_MINUTE_LIMIT: usize = 3;

/// A request the resident filed earlier today, as the limits see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    /// Its text, [`normalized`].
    pub norm: String,
    /// When it was filed.
    pub at: OffsetDateTime,
}

/// Checks a new request's text against what the resident filed today
/// (`today`), at `now`: the daily limit, the pace (a minute) and the
/// same-text rule; `per_minute` requests a minute at most.
pub fn check_limits(
    text: &str,
    today: &[Filed],
    now: OffsetDateTime,
    per_minute: usize,
) -> Result<(), LimitReached> {
    if today.len() >= DAILY_LIMIT {
        return Err(LimitReached::Daily);
    }
    let minute_ago = now - time::Duration::minutes(1);
    if today.iter().filter(|f| f.at > minute_ago).count() >= per_minute {
        return Err(LimitReached::TooFast);
    }
    let mine = normalized(text);
    if today.iter().filter(|f| f.norm == mine).count() >= SAME_TEXT_LIMIT {
        return Err(LimitReached::SameText);
    }
    Ok(())
}

/// A category residents choose from (the organization's list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Stable code (`leak`, `charges`).
    pub code: String,
    /// What residents read.
    pub name: String,
    /// Who handles it.
    pub desk: Desk,
    /// Flagged and queued first.
    pub emergency: bool,
    /// Its own deadline, if it differs from the desk's.
    pub deadline_hours: Option<i64>,
    /// About the building's common property (a lift, the building's water or
    /// heating): neighbours in the same building may join an open request
    /// instead of filing their own ([`joinable`]).
    pub common_property: bool,
}

/// The longest category code (letters `a`–`z`, digits and `_`).
pub const MAX_CATEGORY_CODE: usize = 32;
/// The longest category name, in characters.
pub const MAX_CATEGORY_NAME: usize = 128;
/// The longest deadline of a category's own, in hours (a year).
pub const MAX_DEADLINE_HOURS: i64 = 24 * 365;
/// The last place in the list a category may take.
pub const MAX_CATEGORY_POSITION: i32 = 999;

/// A category as the office keeps it: the category, its place in the list
/// residents choose from, and whether they still may choose it (a category
/// is switched off, never deleted: filed requests keep its code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategorySetting {
    /// The category.
    pub category: Category,
    /// Its place, smaller first.
    pub position: i32,
    /// Residents may choose it.
    pub active: bool,
}

/// Whether `code` may be a category's code: 1–[`MAX_CATEGORY_CODE`]
/// characters `a`–`z`, `0`–`9`, `_`, starting with a letter.
pub fn category_code_valid(code: &str) -> bool {
    code.len() <= MAX_CATEGORY_CODE
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Every problem with a category as the office entered it: the code's form,
/// a name of one line, an own deadline within a year, a place in the list,
/// and an emergency only at the dispatch desk (emergencies are what the
/// dispatch service is for). Empty: it may be stored.
pub fn check_category(c: &CategorySetting) -> Vec<crate::organization::DetailProblem> {
    use crate::organization::DetailProblem;
    let problem = |field, text| DetailProblem { field, text };
    let mut out = Vec::new();
    let cat = &c.category;
    if !category_code_valid(&cat.code) {
        out.push(problem(
            "code",
            crate::Text::new("error-category-code").with("max", MAX_CATEGORY_CODE as i64),
        ));
    }
    let name = cat.name.trim();
    if name.is_empty() {
        out.push(problem("name", crate::Text::new("error-field-required")));
    } else if name.chars().count() > MAX_CATEGORY_NAME || name.chars().any(char::is_control) {
        out.push(problem(
            "name",
            crate::Text::new("error-category-name").with("max", MAX_CATEGORY_NAME as i64),
        ));
    }
    if cat
        .deadline_hours
        .is_some_and(|h| !(1..=MAX_DEADLINE_HOURS).contains(&h))
    {
        out.push(problem(
            "deadline",
            crate::Text::new("error-category-deadline").with("max", MAX_DEADLINE_HOURS),
        ));
    }
    if !(0..=MAX_CATEGORY_POSITION).contains(&c.position) {
        out.push(problem(
            "position",
            crate::Text::new("error-category-position").with("max", i64::from(MAX_CATEGORY_POSITION)),
        ));
    }
    if cat.emergency && cat.desk != Desk::Dispatch {
        out.push(problem(
            "emergency",
            crate::Text::new("error-category-emergency-desk"),
        ));
    }
    out
}

/// Whether residents of the building may still join a request: it is about
/// common property and not yet done, declined, closed or cancelled.
pub fn joinable(status: RequestStatus, common_property: bool) -> bool {
    common_property && status.is_open()
}

/// How many joinable requests of their buildings a resident is shown at
/// most, newest first.
pub const JOINABLE_SHOWN: u64 = 10;

/// The default list: emergencies for the dispatch service, questions for the
/// office, and "other" (code, name, desk).
pub const DEFAULT_CATEGORIES: &[(&str, &str, Desk)] = &[
    ("no_water", "Нет воды", Desk::Dispatch),
    ("no_heating", "Нет отопления", Desk::Dispatch),
    ("no_power", "Нет электричества", Desk::Dispatch),
    ("leak", "Протечка, затопление", Desk::Dispatch),
    ("gas", "Запах газа", Desk::Dispatch),
    ("sewer", "Засор канализации", Desk::Dispatch),
    ("lift", "Не работает лифт", Desk::Dispatch),
    ("charges", "Вопрос по начислениям", Desk::Office),
    ("receipts", "Квитанции", Desk::Office),
    ("documents", "Справки и документы", Desk::Office),
    ("complaint", "Жалоба", Desk::Office),
    ("other", "Другое", Desk::Office),
];

impl Desk {
    /// Both desks.
    pub const ALL: [Desk; 2] = [Desk::Dispatch, Desk::Office];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Desk::Dispatch => "dispatch",
            Desk::Office => "office",
        }
    }

    /// Reads a stored name.
    pub fn from_stored(s: &str) -> Option<Desk> {
        match s {
            "dispatch" => Some(Desk::Dispatch),
            "office" => Some(Desk::Office),
            _ => None,
        }
    }
}

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Its number (what the resident quotes by phone).
    pub id: crate::RequestId,
    /// Who filed it.
    pub user_id: crate::UserId,
    /// About which account (and so which premises).
    pub account_id: crate::AccountId,
    /// The category's code.
    pub category: String,
    /// The category's name when filed.
    pub category_name: String,
    /// Who handles it.
    pub desk: Desk,
    /// An emergency.
    pub emergency: bool,
    /// What the resident wrote.
    pub text: String,
    /// Where to call back.
    pub phone: String,
    /// When a visit suits the resident, in their words.
    pub visit_time: String,
    /// Where it stands.
    pub status: RequestStatus,
    /// When it is due.
    pub due_at: OffsetDateTime,
    /// Put off until this day.
    pub deferred_until: Option<Date>,
    /// The staff member working on it.
    pub assignee_id: Option<crate::StaffId>,
    /// The assignee's name.
    pub assignee_name: Option<String>,
    /// The resident's rating on acceptance.
    pub rating: Option<i16>,
    /// How many times the resident returned it.
    pub reopened: i32,
    /// Why it was declined.
    pub reason: Option<String>,
    /// When it was filed.
    pub created_at: OffsetDateTime,
    /// The last change.
    pub updated_at: OffsetDateTime,
    /// How many photos it has.
    pub photos: i32,
    /// How many neighbours joined it.
    pub joined: i32,
}

impl Request {
    /// Whether it is past its deadline at `now`.
    pub fn overdue(&self, now: OffsetDateTime) -> bool {
        overdue(self.status, self.due_at, now)
    }
}

/// What a history line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The request was filed.
    Filed,
    /// Its status changed.
    Status,
    /// Staff wrote to the resident.
    Reply,
    /// Staff wrote a note for colleagues only.
    Note,
    /// It was assigned.
    Assigned,
    /// The resident wrote to staff.
    Comment,
}

impl EventKind {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::Filed => "filed",
            EventKind::Status => "status",
            EventKind::Reply => "reply",
            EventKind::Note => "note",
            EventKind::Assigned => "assigned",
            EventKind::Comment => "comment",
        }
    }

    /// Reads a stored name.
    pub fn from_stored(s: &str) -> Option<EventKind> {
        [
            EventKind::Filed,
            EventKind::Status,
            EventKind::Reply,
            EventKind::Note,
            EventKind::Assigned,
            EventKind::Comment,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Whether the resident may see lines of this kind (notes and
    /// assignments are staff-only).
    pub const fn visible_to_resident(self) -> bool {
        !matches!(self, EventKind::Note | EventKind::Assigned)
    }
}

/// One line of a request's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestEvent {
    /// Row id.
    pub id: crate::RequestEventId,
    /// When.
    pub at: OffsetDateTime,
    /// What.
    pub kind: EventKind,
    /// The staff member, if staff did it (else the resident or the system).
    pub staff_id: Option<crate::StaffId>,
    /// Their name.
    pub staff_name: Option<String>,
    /// The status before, for a status change.
    pub from_status: Option<RequestStatus>,
    /// The status after.
    pub to_status: Option<RequestStatus>,
    /// The text (reply, note, reason, comment).
    pub body: String,
}

/// A stored photo of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    /// The id in its URL (random, not guessable).
    pub public_id: String,
    /// Whose request.
    pub request_id: crate::RequestId,
    /// Width in pixels.
    pub width: i32,
    /// Height in pixels.
    pub height: i32,
    /// Size of the stored JPEG.
    pub bytes: i64,
}

/// A neighbour's request about common property as the other residents of
/// its building see it: what, where in the building's terms, where it
/// stands — never its text, phone, photos or flat, which are its author's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedRequest {
    /// Its number.
    pub id: crate::RequestId,
    /// The category's name.
    pub category_name: String,
    /// The building's address (without a flat).
    pub building: String,
    /// Where it stands.
    pub status: RequestStatus,
    /// An emergency.
    pub emergency: bool,
    /// Filed.
    pub created_at: OffsetDateTime,
    /// The deadline.
    pub due_at: OffsetDateTime,
    /// How many residents joined it.
    pub joined: i32,
    /// When the viewer joined it; `None`: they have not.
    pub joined_at: Option<OffsetDateTime>,
}

/// The longest "convenient time to visit", in characters.
pub const MAX_VISIT_CHARS: usize = 200;

/// What a resident typed to file a request, before any check.
#[derive(Debug, Clone, Copy)]
pub struct FilingForm<'a> {
    /// Whether the account chosen is one of the resident's.
    pub account_known: bool,
    /// The category code chosen.
    pub category: &'a str,
    /// The text.
    pub text: &'a str,
    /// The phone as typed.
    pub phone: &'a str,
    /// When a visit suits, as typed.
    pub visit_time: &'a str,
    /// How many photos came.
    pub photos: usize,
    /// How many photos a request may have.
    pub max_photos: usize,
}

/// A filing form that passed: the category, the text trimmed, the phone
/// normalized and the visit time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    /// The category.
    pub category: Category,
    /// The text, trimmed.
    pub text: String,
    /// The phone, normalized.
    pub phone: String,
    /// When a visit suits.
    pub visit_time: String,
}

/// What is wrong with a filing form, by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilingProblem {
    /// The account is not one of the resident's.
    Account,
    /// No such category.
    Category,
    /// No text.
    TextEmpty,
    /// The text is longer than [`MAX_TEXT_CHARS`].
    TextTooLong,
    /// The phone does not parse.
    Phone(crate::PhoneError),
    /// The visit time is longer than [`MAX_VISIT_CHARS`].
    VisitTooLong,
    /// More photos than a request may have.
    TooManyPhotos,
}

impl FilingProblem {
    /// The form field it belongs to.
    pub fn field(self) -> &'static str {
        match self {
            FilingProblem::Account => "account",
            FilingProblem::Category => "category",
            FilingProblem::TextEmpty | FilingProblem::TextTooLong => "text",
            FilingProblem::Phone(_) => "phone",
            FilingProblem::VisitTooLong => "visit_time",
            FilingProblem::TooManyPhotos => "photos",
        }
    }
}

impl crate::Describe for FilingProblem {
    fn text(&self) -> crate::Text {
        use crate::Text;
        match self {
            FilingProblem::Account => Text::new("error-request-account"),
            FilingProblem::Category => Text::new("error-request-category"),
            FilingProblem::TextEmpty => Text::new("error-request-text-empty"),
            FilingProblem::TextTooLong => Text::new("error-request-text-too-long"),
            FilingProblem::Phone(e) => e.text(),
            FilingProblem::VisitTooLong => Text::new("error-request-visit-too-long"),
            FilingProblem::TooManyPhotos => Text::new("error-request-photos-too-many"),
        }
    }
}

/// Checks a filing form against the `categories` in use: every problem, or
/// what is filed.
pub fn check_filing(form: FilingForm<'_>, categories: &[Category]) -> Result<Filing, Vec<FilingProblem>> {
    let mut problems = Vec::new();
    if !form.account_known {
        problems.push(FilingProblem::Account);
    }
    let category = categories
        .iter()
        .find(|c| c.code == form.category.trim())
        .cloned();
    if category.is_none() {
        problems.push(FilingProblem::Category);
    }
    let text = form.text.trim();
    if text.is_empty() {
        problems.push(FilingProblem::TextEmpty);
    } else if text.chars().count() > MAX_TEXT_CHARS {
        problems.push(FilingProblem::TextTooLong);
    }
    let phone = crate::Phone::parse(form.phone.trim()).map_err(|e| problems.push(FilingProblem::Phone(e)));
    if form.visit_time.chars().count() > MAX_VISIT_CHARS {
        problems.push(FilingProblem::VisitTooLong);
    }
    if form.photos > form.max_photos {
        problems.push(FilingProblem::TooManyPhotos);
    }
    match (category, phone) {
        (Some(category), Ok(phone)) if problems.is_empty() => Ok(Filing {
            category,
            text: text.to_string(),
            phone: phone.as_str().to_string(),
            visit_time: form.visit_time.to_string(),
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RequestId;
    use RequestStatus as S;
    use time::macros::{date, datetime};

    #[test]
    fn a_filing_form_reports_every_problem_or_passes_whole() {
        let categories: Vec<Category> = DEFAULT_CATEGORIES
            .iter()
            .map(|(code, name, desk)| Category {
                code: (*code).into(),
                name: (*name).into(),
                desk: *desk,
                emergency: *desk == Desk::Dispatch,
                deadline_hours: None,
                common_property: false,
            })
            .collect();
        let long = "я".repeat(MAX_TEXT_CHARS + 1);
        let form = FilingForm {
            account_known: false,
            category: "no-such",
            text: &long,
            phone: "12",
            visit_time: "",
            photos: 6,
            max_photos: 5,
        };
        let problems = check_filing(form, &categories).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field()).collect();
        assert_eq!(fields, ["account", "category", "text", "phone", "photos"]);
        let good = FilingForm {
            account_known: true,
            category: " leak ",
            text: "  Течёт кран  ",
            phone: "8 912 345-67-89",
            visit_time: "после 18",
            photos: 5,
            max_photos: 5,
        };
        let f = check_filing(good, &categories).unwrap();
        assert_eq!(
            (f.category.code.as_str(), f.text.as_str(), f.phone.as_str()),
            ("leak", "Течёт кран", "+79123456789")
        );
        let empty = FilingForm { text: "   ", ..good };
        assert_eq!(
            check_filing(empty, &categories).unwrap_err(),
            vec![FilingProblem::TextEmpty]
        );
        let visit = "x".repeat(MAX_VISIT_CHARS + 1);
        let late = FilingForm {
            visit_time: &visit,
            ..good
        };
        assert_eq!(
            check_filing(late, &categories).unwrap_err(),
            vec![FilingProblem::VisitTooLong]
        );
    }

    const TODAY: Date = date!(2026 - 11 - 26);

    fn all_changes() -> Vec<Change> {
        vec![
            Change::Take,
            Change::Complete,
            Change::Defer {
                until: date!(2026 - 12 - 01),
            },
            Change::Decline {
                reason: "не наша зона".into(),
            },
            Change::Cancel,
            Change::Accept { rating: 5 },
            Change::Return {
                comment: "течёт снова".into(),
            },
            Change::Close,
        ]
    }

    #[test]
    fn settled_requests_do_not_move() {
        for from in [S::Closed, S::Declined, S::Canceled] {
            for side in [Side::Resident, Side::Staff] {
                for c in all_changes() {
                    assert_eq!(
                        apply(from, side, &c, TODAY),
                        Err(ChangeError::NotAllowed),
                        "{from:?} {side:?} {c:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn each_side_does_only_its_own_changes() {
        let staff_only = [Change::Take, Change::Complete, Change::Close];
        for c in staff_only {
            for from in S::ALL {
                assert!(
                    apply(from, Side::Resident, &c, TODAY).is_err(),
                    "a resident did {c:?} from {from:?}"
                );
            }
        }
        for c in [
            Change::Cancel,
            Change::Accept { rating: 4 },
            Change::Return {
                comment: "нет".into(),
            },
        ] {
            for from in S::ALL {
                assert!(
                    apply(from, Side::Staff, &c, TODAY).is_err(),
                    "staff did {c:?} from {from:?}"
                );
            }
        }
    }

    #[test]
    fn the_lifecycle() {
        let m = |from, side, c: Change| apply(from, side, &c, TODAY);
        assert_eq!(m(S::New, Side::Staff, Change::Take).unwrap().to, S::InWork);
        assert_eq!(m(S::InWork, Side::Staff, Change::Complete).unwrap().to, S::Done);
        assert_eq!(
            m(S::Done, Side::Resident, Change::Accept { rating: 5 })
                .unwrap()
                .to,
            S::Closed
        );
        let back = m(
            S::Done,
            Side::Resident,
            Change::Return {
                comment: "всё ещё течёт".into(),
            },
        )
        .unwrap();
        assert_eq!(
            back,
            Moved {
                to: S::InWork,
                reopened: true
            }
        );
        assert_eq!(m(S::New, Side::Resident, Change::Cancel).unwrap().to, S::Canceled);
        assert_eq!(
            m(S::InWork, Side::Resident, Change::Cancel),
            Err(ChangeError::NotAllowed)
        );
        assert_eq!(m(S::Deferred, Side::Staff, Change::Take).unwrap().to, S::InWork);
        assert_eq!(m(S::Done, Side::Staff, Change::Close).unwrap().to, S::Closed);
        assert_eq!(
            m(S::Done, Side::Resident, Change::Accept { rating: 0 }),
            Err(ChangeError::Rating)
        );
        assert_eq!(
            m(S::Done, Side::Resident, Change::Accept { rating: 6 }),
            Err(ChangeError::Rating)
        );
        assert_eq!(
            m(S::Done, Side::Resident, Change::Return { comment: "  ".into() }),
            Err(ChangeError::ReasonMissing)
        );
        assert_eq!(
            m(S::New, Side::Staff, Change::Decline { reason: "".into() }),
            Err(ChangeError::ReasonMissing)
        );
    }

    #[test]
    fn deferral_days_are_bounded() {
        let defer = |until| apply(S::InWork, Side::Staff, &Change::Defer { until }, TODAY);
        assert_eq!(defer(TODAY), Err(ChangeError::DeferralDay));
        assert_eq!(defer(date!(2026 - 11 - 27)).unwrap().to, S::Deferred);
        assert_eq!(defer(date!(2027 - 11 - 26)).unwrap().to, S::Deferred);
        assert_eq!(defer(date!(2027 - 11 - 27)), Err(ChangeError::DeferralDay));
    }

    #[test]
    fn look_alikes_and_invisible_characters_do_not_make_a_new_text() {
        let plain = normalized("Нет горячей воды в квартире");
        // A zero-width space inside a word, a soft hyphen, a joiner.
        assert_eq!(normalized("Нет горя\u{200B}чей воды в кварти\u{00AD}ре"), plain);
        assert_eq!(normalized("Нет\u{2060} горячей воды в квартире"), plain);
        // Latin o, e, p, a, c, x, y in place of the Cyrillic letters.
        assert_eq!(normalized("Heт горячeй вoды в квaртирe"), plain);
        assert_eq!(normalized("НЕТ ГOРЯЧЕЙ ВOДЫ В КВАРТИРЕ"), plain);
        // Full-width and compatibility forms, ё for е, other spacing.
        assert_eq!(normalized("Нет  горячей\u{00A0}воды — в квартире!"), plain);
        assert_eq!(normalized("Нет горячёй воды в квартире"), plain);
        assert_eq!(normalized("ｎｏ ｗａｔｅｒ"), normalized("no water"));
        // A different text stays different.
        assert_ne!(normalized("Нет холодной воды в квартире"), plain);
    }

    #[test]
    fn deadlines_and_the_queue() {
        let d = Deadlines::default();
        let cal = crate::workdays::WorkCalendar::built_in();
        let msk = crate::OrgClock::MOSCOW;
        // Thursday 2026-11-26, 06:00 in Moscow.
        let filed = datetime!(2026-11-26 03:00 UTC);
        let due = |desk, emergency, own| d.on_filing(desk, emergency, own, filed, msk, &cal);
        assert_eq!(due(Desk::Dispatch, false, None), datetime!(2026-11-27 03:00 UTC));
        assert_eq!(
            due(Desk::Dispatch, true, None),
            datetime!(2026-11-26 03:30 UTC),
            "taken within 30 minutes"
        );
        assert_eq!(
            due(Desk::Dispatch, true, Some(4)),
            datetime!(2026-11-26 03:30 UTC)
        );
        assert_eq!(
            d.for_work(Desk::Dispatch, Some(4), filed, msk, &cal),
            datetime!(2026-11-26 07:00 UTC)
        );
        // Ten working days: to the end of Thursday 12-10 in Moscow.
        assert_eq!(due(Desk::Office, false, None), datetime!(2026-12-10 21:00 UTC));
        assert_eq!(
            due(Desk::Office, false, Some(48)),
            datetime!(2026-11-28 03:00 UTC)
        );
        assert_eq!(d.of(Desk::Office), DeskDeadline::WorkingDays(10));
        let due = d.on_filing(Desk::Dispatch, false, None, filed, msk, &cal);
        assert!(!overdue(S::InWork, due, due));
        assert!(overdue(S::InWork, due, due + Duration::seconds(1)));
        assert!(!overdue(S::Done, due, due + Duration::days(9)));
        let mut q = [
            queue_key(false, S::New, datetime!(2026-11-20 10:00 UTC), RequestId(1)),
            queue_key(true, S::New, datetime!(2026-11-27 10:00 UTC), RequestId(3)),
            queue_key(true, S::New, datetime!(2026-11-26 10:00 UTC), RequestId(2)),
            queue_key(true, S::InWork, datetime!(2026-11-25 10:00 UTC), RequestId(4)),
        ];
        q.sort();
        assert_eq!(
            q.map(|k| k.3.0),
            [2, 3, 4, 1],
            "emergencies first, the untaken first, then by deadline"
        );
    }

    #[test]
    fn limits_count_the_day_and_the_same_text() {
        let now = datetime!(2026-11-26 12:00 UTC);
        let filed = |t: &str, minutes_ago: i64| Filed {
            norm: normalized(t),
            at: now - Duration::minutes(minutes_ago),
        };
        assert_eq!(
            normalized("  Течёт   КРАН!!! на кухне. "),
            normalized("течет кран на кухне")
        );
        let today = vec![
            filed("Течёт кран на кухне", 30),
            filed("течёт кран, на кухне", 20),
        ];
        assert_eq!(
            check_limits("ТЕЧЁТ КРАН НА КУХНЕ", &today, now, PER_MINUTE_LIMIT),
            Err(LimitReached::SameText)
        );
        assert_eq!(
            check_limits("Нет горячей воды", &today, now, PER_MINUTE_LIMIT),
            Ok(())
        );
        let full: Vec<Filed> = (0..DAILY_LIMIT)
            .map(|i| filed(&format!("текст {i}"), 60))
            .collect();
        assert_eq!(
            check_limits("другое", &full, now, PER_MINUTE_LIMIT),
            Err(LimitReached::Daily)
        );
        let quick: Vec<Filed> = (0..PER_MINUTE_LIMIT)
            .map(|i| filed(&format!("текст {i}"), 0))
            .collect();
        assert_eq!(
            check_limits("другое", &quick, now, PER_MINUTE_LIMIT),
            Err(LimitReached::TooFast)
        );
        assert_eq!(
            check_limits("другое", &quick, now + Duration::seconds(61), PER_MINUTE_LIMIT),
            Ok(())
        );
        for s in S::ALL {
            assert_eq!(S::from_stored(s.as_str()), Some(s));
            assert!(!(s.is_open() && s.is_final()));
        }
    }

    #[test]
    fn only_open_requests_about_common_property_may_be_joined() {
        for s in S::ALL {
            assert!(!joinable(s, false), "{s:?} about one flat");
            let open = matches!(s, S::New | S::InWork | S::Deferred);
            assert_eq!(joinable(s, true), open, "{s:?}");
        }
    }

    #[test]
    fn a_category_is_checked_before_it_is_stored() {
        let good = CategorySetting {
            category: Category {
                code: "roof_2".into(),
                name: "Протекает крыша".into(),
                desk: Desk::Dispatch,
                emergency: true,
                deadline_hours: Some(4),
                common_property: true,
            },
            position: 3,
            active: true,
        };
        assert!(check_category(&good).is_empty());
        let fields = |c: &CategorySetting| check_category(c).iter().map(|p| p.field).collect::<Vec<_>>();
        for code in ["", "2roof", "Roof", "крыша", "roof-2", &"a".repeat(33)] {
            let mut c = good.clone();
            c.category.code = code.into();
            assert_eq!(fields(&c), ["code"], "{code:?}");
        }
        let mut c = good.clone();
        c.category.name = "  ".into();
        c.category.deadline_hours = Some(0);
        c.position = -1;
        c.category.desk = Desk::Office;
        assert_eq!(fields(&c), ["name", "deadline", "position", "emergency"]);
        c.category.name = "Две\nстроки".into();
        c.category.deadline_hours = Some(MAX_DEADLINE_HOURS + 1);
        c.category.emergency = false;
        c.position = 0;
        assert_eq!(fields(&c), ["name", "deadline"]);
    }
}
