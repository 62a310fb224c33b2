//! Requests over the API (R9): the categories, filing a request with photos
//! (`multipart/form-data`), the resident's list, one request with its
//! conversation (never the internal notes), writing to staff, cancelling,
//! and accepting or returning a done request; photos by their id; and
//! neighbours' requests about the building's common property to join.

use super::{ApiJson, ApiResident, Problem};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::ApiError;
use crate::http::upload::ApiMultipart;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kabinet_app::Error;
use kabinet_app::requests::Viewer;
use kabinet_domain::requests::{Change, Request, RequestEvent};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A category to choose from.
#[derive(Serialize, ToSchema)]
pub(crate) struct CategoryItem {
    /// Its code (the `category` field of a new request).
    code: String,
    /// Its name.
    name: String,
    /// `dispatch` (the emergency dispatch service) or `office`.
    desk: String,
    /// An emergency: queued first, due within a day.
    emergency: bool,
}

/// The categories, in the organization's order.
#[utoipa::path(get, path = "/api/v1/requests/categories", tag = "requests", security(("bearer" = [])),
    responses((status = 200, description = "The categories", body = Vec<CategoryItem>),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem)))]
pub(crate) async fn categories(
    State(state): State<AppState>,
    ApiResident(_): ApiResident,
) -> Result<Json<Vec<CategoryItem>>, ApiError> {
    let list = state.app.requests.categories().await?;
    Ok(Json(
        list.into_iter()
            .map(|c| CategoryItem {
                code: c.code,
                name: c.name,
                desk: c.desk.as_str().into(),
                emergency: c.emergency,
            })
            .collect(),
    ))
}

/// A request.
#[derive(Serialize, ToSchema)]
pub(crate) struct RequestItem {
    /// Its number.
    number: i64,
    /// The category's code.
    category: String,
    /// The category's name.
    category_name: String,
    /// An emergency.
    emergency: bool,
    /// `new`, `in_work`, `done`, `closed`, `deferred`, `declined` or `canceled`.
    status: String,
    /// What the resident wrote.
    text: String,
    /// The phone to call back.
    phone: String,
    /// When a visit suits.
    visit_time: String,
    /// When it is due, RFC 3339.
    due_at: String,
    /// Past its deadline and still open.
    overdue: bool,
    /// Put off until this day (`YYYY-MM-DD`).
    deferred_until: Option<String>,
    /// Why it was declined.
    reason: Option<String>,
    /// The resident's rating.
    rating: Option<i16>,
    /// How many photos it has.
    photos: i32,
    /// When it was filed, RFC 3339.
    created_at: String,
    /// The last change, RFC 3339.
    updated_at: String,
}

fn item(r: &Request) -> RequestItem {
    RequestItem {
        number: r.id.0,
        category: r.category.clone(),
        category_name: r.category_name.clone(),
        emergency: r.emergency,
        status: r.status.as_str().into(),
        text: r.text.clone(),
        phone: r.phone.clone(),
        visit_time: r.visit_time.clone(),
        due_at: super::rfc3339(r.due_at),
        overdue: r.overdue(time::OffsetDateTime::now_utc()),
        deferred_until: r.deferred_until.map(|d| d.to_string()),
        reason: r.reason.clone(),
        rating: r.rating,
        photos: r.photos,
        created_at: super::rfc3339(r.created_at),
        updated_at: super::rfc3339(r.updated_at),
    }
}

/// A new request (`multipart/form-data`); other fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct CreateForm {
    /// The account number (default: the sign-in account).
    account: Option<String>,
    /// A category's code.
    category: String,
    /// What happened, up to 2 000 characters.
    text: String,
    /// A Russian phone number to call back.
    phone: String,
    /// When a visit suits, up to 200 characters.
    visit_time: Option<String>,
    /// Up to 5 photos (JPEG, PNG or WebP, 10 MB each), one part each.
    #[schema(value_type = Option<Vec<String>>, format = Binary)]
    photos: Option<Vec<Vec<u8>>>,
}

/// Files a request.
#[utoipa::path(post, path = "/api/v1/requests", operation_id = "create_request", tag = "requests", security(("bearer" = [])),
    request_body(content = CreateForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "Filed", body = RequestItem),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 413, description = "Over 5 photos of 10 MB", body = Problem),
        (status = 422, description = "A field or a photo is not taken; `errors` says why", body = Problem),
        (status = 429, description = "10 requests today already, the same text twice, or too many in a minute", body = Problem),
        (status = 503, description = "Too many photos being processed: try again after `Retry-After` seconds", body = Problem)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
    ApiMultipart(parts): ApiMultipart,
) -> Result<Response, ApiError> {
    const KNOWN: [&str; 6] = ["account", "category", "text", "phone", "visit_time", "photos"];
    if let Some((name, _)) = parts.fields.iter().find(|(k, _)| !KNOWN.contains(&k.as_str())) {
        let name: String = name.chars().take(40).collect();
        return Err(ApiError::App(Error::Invalid(kabinet_app::FieldErrors::single(
            "form",
            kabinet_domain::Text::new("error-form-unknown-field").with("name", name),
        ))));
    }
    let input = parts.request_input();
    let id = state.app.requests.file(&r, input, &ctx.client).await?;
    let v = state.app.requests.show(&r, id).await?;
    Ok((StatusCode::CREATED, Json(item(&v.request))).into_response())
}

/// A page of requests.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Page from 1 (20 requests each; below 1 is the first too).
    page: Option<i32>,
}

/// The resident's requests.
#[derive(Serialize, ToSchema)]
pub(crate) struct RequestListResponse {
    /// Newest first.
    requests: Vec<RequestItem>,
    /// How many there are in all.
    total: u64,
}

/// The resident's requests, newest first.
#[utoipa::path(get, path = "/api/v1/requests", operation_id = "list_requests", tag = "requests", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "A page of requests", body = RequestListResponse),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
    Query(q): Query<ListQuery>,
) -> Result<Json<RequestListResponse>, ApiError> {
    let page = state
        .app
        .requests
        .list(&r, u64::try_from(q.page.unwrap_or(1)).unwrap_or(1))
        .await?;
    Ok(Json(RequestListResponse {
        requests: page.items.iter().map(item).collect(),
        total: page.total,
    }))
}

/// A line of the conversation and history.
#[derive(Serialize, ToSchema)]
pub(crate) struct EventItem {
    /// When, RFC 3339.
    at: String,
    /// `filed`, `status`, `reply` (from staff) or `comment` (from the resident).
    kind: String,
    /// The status after a status change.
    status: Option<String>,
    /// The text: a reply, a comment, a reason.
    text: String,
}

/// A photo.
#[derive(Serialize, ToSchema)]
pub(crate) struct PhotoItem {
    /// The photo (JPEG).
    url: String,
    /// Its thumbnail (JPEG).
    thumbnail_url: String,
    /// Width.
    width: i32,
    /// Height.
    height: i32,
}

/// A request with its history and photos.
#[derive(Serialize, ToSchema)]
pub(crate) struct RequestDetail {
    /// The request.
    request: RequestItem,
    /// Oldest first.
    history: Vec<EventItem>,
    /// Its photos.
    photos: Vec<PhotoItem>,
}

fn event(e: &RequestEvent) -> EventItem {
    EventItem {
        at: super::rfc3339(e.at),
        kind: e.kind.as_str().into(),
        status: e.to_status.map(|s| s.as_str().to_string()),
        text: e.body.clone(),
    }
}

async fn detail(
    state: &AppState,
    r: &kabinet_app::auth::Resident,
    id: kabinet_domain::RequestId,
) -> Result<RequestDetail, ApiError> {
    let v = state.app.requests.show(r, id).await?;
    Ok(RequestDetail {
        request: item(&v.request),
        history: v.events.iter().map(event).collect(),
        photos: v
            .photos
            .iter()
            .map(|p| PhotoItem {
                url: format!("{}/requests/photos/{}", crate::paths::API, p.public_id),
                thumbnail_url: format!("{}/requests/photos/{}?size=thumb", crate::paths::API, p.public_id),
                width: p.width,
                height: p.height,
            })
            .collect(),
    })
}

fn number(id: &str) -> Result<kabinet_domain::RequestId, ApiError> {
    id.parse()
        .map(kabinet_domain::RequestId)
        .map_err(|_| ApiError::App(Error::NotFound))
}

/// One of the resident's requests.
#[utoipa::path(get, path = "/api/v1/requests/{number}", operation_id = "get_request", tag = "requests", security(("bearer" = [])),
    params(("number" = String, Path, description = "The request's number")),
    responses((status = 200, description = "The request", body = RequestDetail),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's requests", body = Problem)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
    Path(id): Path<String>,
) -> Result<Json<RequestDetail>, ApiError> {
    Ok(Json(detail(&state, &r, number(&id)?).await?))
}

/// Text to staff, or a comment on returning a request.
#[derive(Deserialize, ToSchema)]
pub(crate) struct TextBody {
    /// Up to 2 000 characters, not only spaces.
    #[schema(max_length = 2000, pattern = "\\S|[\\x1c-\\x1f]")]
    text: String,
}

/// A rating on acceptance.
#[derive(Deserialize, ToSchema)]
pub(crate) struct RatingBody {
    /// 1 to 5.
    #[serde(deserialize_with = "super::lenient_int")]
    #[schema(minimum = 1, maximum = 5)]
    rating: u8,
}

/// A resident's action on a request with a JSON body: `$item`, the
/// handler, documented as `POST $path` (operation `$id`) taking `$body`.
macro_rules! action {
    ($path:literal, $id:literal, $body:ty, $item:item) => {
        #[utoipa::path(post, path = $path, operation_id = $id, tag = "requests", security(("bearer" = [])),
            params(("number" = String, Path, description = "The request's number")), request_body = $body,
            responses((status = 200, description = "Done: the request as it is now", body = RequestDetail),
                (status = 401, description = "No valid bearer token", body = Problem),
                (status = 403, description = "A password to set or Rules to accept first", body = Problem),
                (status = 404, description = "Not one of the resident's requests", body = Problem),
                (status = 409, description = "Not possible in the request's state", body = Problem),
                (status = 422, description = "A field is not taken", body = Problem),
                (status = 429, description = "Too many comments in a minute", body = Problem)))]
        $item
    };
}

/// Cancels a new request.
#[utoipa::path(post, path = "/api/v1/requests/{number}/cancel", tag = "requests", security(("bearer" = [])),
    params(("number" = String, Path, description = "The request's number")),
    responses((status = 200, description = "Canceled", body = RequestDetail),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not one of the resident's requests", body = Problem),
        (status = 409, description = "Not new any more", body = Problem)))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
    Path(id): Path<String>,
) -> Result<Json<RequestDetail>, ApiError> {
    change(&state, &ctx, &r, &id, Change::Cancel).await
}

/// Moves the resident's request `id` by `change`; the request as it is now.
async fn change(
    state: &AppState,
    ctx: &Ctx,
    r: &kabinet_app::auth::Resident,
    id: &str,
    change: Change,
) -> Result<Json<RequestDetail>, ApiError> {
    let id = number(id)?;
    state
        .app
        .requests
        .resident_change(r, id, change, &ctx.client)
        .await?;
    Ok(Json(detail(state, r, id).await?))
}

action!(
    "/api/v1/requests/{number}/comments",
    "comment_request",
    TextBody,
    /// Writes to staff (while the request is not closed).
    pub(crate) async fn comment(
        State(state): State<AppState>,
        ctx: Ctx,
        ApiResident(r): ApiResident,
        Path(id): Path<String>,
        ApiJson(b): ApiJson<TextBody>,
    ) -> Result<Json<RequestDetail>, ApiError> {
        let id = number(&id)?;
        state.app.requests.comment(&r, id, &b.text, &ctx.client).await?;
        Ok(Json(detail(&state, &r, id).await?))
    }
);

action!(
    "/api/v1/requests/{number}/return",
    "return_request",
    TextBody,
    /// Returns a done request with what is still wrong; it reopens.
    pub(crate) async fn give_back(
        State(state): State<AppState>,
        ctx: Ctx,
        ApiResident(r): ApiResident,
        Path(id): Path<String>,
        ApiJson(b): ApiJson<TextBody>,
    ) -> Result<Json<RequestDetail>, ApiError> {
        change(&state, &ctx, &r, &id, Change::Return { comment: b.text }).await
    }
);

action!(
    "/api/v1/requests/{number}/accept",
    "accept_request",
    RatingBody,
    /// Accepts a done request with a rating; it closes.
    pub(crate) async fn accept(
        State(state): State<AppState>,
        ctx: Ctx,
        ApiResident(r): ApiResident,
        Path(id): Path<String>,
        ApiJson(b): ApiJson<RatingBody>,
    ) -> Result<Json<RequestDetail>, ApiError> {
        change(&state, &ctx, &r, &id, Change::Accept { rating: b.rating }).await
    }
);

/// `?size=thumb`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PhotoQuery {
    /// `thumb` for the thumbnail.
    size: Option<String>,
}

/// A photo of one of the resident's requests (JPEG).
#[utoipa::path(get, path = "/api/v1/requests/photos/{id}", tag = "requests", security(("bearer" = [])),
    params(("id" = String, Path, description = "The photo's id"), PhotoQuery),
    responses((status = 200, description = "The photo", content_type = "image/jpeg", body = Vec<u8>),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "Not a photo of the resident's requests", body = Problem)))]
pub(crate) async fn photo(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
    Path(id): Path<String>,
    Query(q): Query<PhotoQuery>,
) -> Result<Response, ApiError> {
    let thumb = q.size.as_deref() == Some("thumb");
    let bytes = state.app.requests.photo(Viewer::Resident(&r), &id, thumb).await?;
    Ok(crate::http::files::jpeg(bytes))
}

/// A neighbour's request about the building's common property, as the
/// building's other residents see it: never its text, phone, photos or flat.
#[derive(Serialize, ToSchema)]
pub(crate) struct SharedItem {
    /// Its number.
    number: i64,
    /// The category's name.
    category_name: String,
    /// The building's address.
    building: String,
    /// `new`, `in_work`, `done`, `closed`, `deferred`, `declined` or `canceled`.
    status: String,
    /// An emergency.
    emergency: bool,
    /// When it was filed, RFC 3339.
    created_at: String,
    /// When it is due, RFC 3339.
    due_at: String,
    /// How many residents joined it.
    joined: i32,
    /// When the resident joined it, RFC 3339; absent: they have not.
    joined_at: Option<String>,
}

fn shared_item(s: &kabinet_domain::requests::SharedRequest) -> SharedItem {
    SharedItem {
        number: s.id.0,
        category_name: s.category_name.clone(),
        building: s.building.clone(),
        status: s.status.as_str().into(),
        emergency: s.emergency,
        created_at: super::rfc3339(s.created_at),
        due_at: super::rfc3339(s.due_at),
        joined: s.joined,
        joined_at: s.joined_at.map(super::rfc3339),
    }
}

/// Open requests about the common property of the resident's buildings that
/// neighbours filed (at most 10, newest first): join one instead of filing
/// the same.
#[utoipa::path(get, path = "/api/v1/requests/shared", tag = "requests", security(("bearer" = [])),
    responses((status = 200, description = "Neighbours' open requests", body = Vec<SharedItem>),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem)))]
pub(crate) async fn shared(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
) -> Result<Json<Vec<SharedItem>>, ApiError> {
    let list = state.app.requests.shared(&r).await?;
    Ok(Json(list.iter().map(shared_item).collect()))
}

/// Neighbours' requests the resident joined (at most 50, newest join
/// first), whatever their status now.
#[utoipa::path(get, path = "/api/v1/requests/joined", tag = "requests", security(("bearer" = [])),
    responses((status = 200, description = "Requests joined", body = Vec<SharedItem>),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem)))]
pub(crate) async fn joined(
    State(state): State<AppState>,
    ApiResident(r): ApiResident,
) -> Result<Json<Vec<SharedItem>>, ApiError> {
    let list = state.app.requests.joined(&r).await?;
    Ok(Json(list.iter().map(shared_item).collect()))
}

/// Joins a neighbour's open request about the common property of one of
/// the resident's buildings; joining again changes nothing.
#[utoipa::path(put, path = "/api/v1/requests/{number}/join", tag = "requests", security(("bearer" = [])),
    params(("number" = String, Path, description = "The request's number")),
    responses((status = 204, description = "Joined"),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "No open request about common property of the resident's buildings filed by someone else", body = Problem)))]
pub(crate) async fn join(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.requests.join(&r, number(&id)?, &ctx.client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leaves a request the resident joined.
#[utoipa::path(delete, path = "/api/v1/requests/{number}/join", tag = "requests", security(("bearer" = [])),
    params(("number" = String, Path, description = "The request's number")),
    responses((status = 204, description = "Left"),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "A password to set or Rules to accept first", body = Problem),
        (status = 404, description = "The resident had not joined it", body = Problem)))]
pub(crate) async fn leave(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiResident(r): ApiResident,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.requests.leave(&r, number(&id)?, &ctx.client).await?;
    Ok(StatusCode::NO_CONTENT)
}
