//! What the messaging providers post back (machine routes, no session or
//! CSRF): the MAX bot's updates, checked by the subscription's secret, and
//! the SMS providers' delivery reports, which are taken only as a hint to
//! ask the provider (with our credentials) what became of those messages.

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;

/// `POST /max/webhook`: an update of the bot, posted by MAX with the
/// subscription's secret in `X-Max-Bot-Api-Secret` (401 without it). A
/// failure answers 500 so that MAX posts it again.
pub(crate) async fn max_webhook(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let secret = headers
        .get(kabinet_app::max::SECRET_HEADER)
        .and_then(|v| v.to_str().ok());
    if !state.app.max.webhook_allowed(secret) {
        return StatusCode::UNAUTHORIZED;
    }
    match state.app.max.handle_posted(&body).await {
        Ok(()) => StatusCode::OK,
        Err(e) => {
            tracing::error!(error = %e, "a MAX update failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// `POST /sms/status`: a delivery report of SMS.ru (`data[N]` fields of
/// `sms_status`, id, status and time lines) or SMSC.ru (`id`, `phone`,
/// `status`). Nothing in it is believed: the messages it names that are
/// still on their way are asked about at the provider. Always answers
/// `100`, which SMS.ru expects.
pub(crate) async fn sms_status(
    State(state): State<AppState>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> (StatusCode, &'static str) {
    let mut refs: Vec<String> = Vec::new();
    for (name, value) in &fields {
        if name == "id" {
            refs.push(value.trim().to_string());
        } else if name.starts_with("data[") {
            let mut lines = value.lines();
            if lines.next().map(str::trim) == Some("sms_status")
                && let Some(id) = lines.next()
            {
                refs.push(id.trim().to_string());
            }
        }
    }
    if let Err(e) = state.app.notify.sms_reported(&refs).await {
        tracing::warn!(error = %e, "an SMS delivery report was not followed");
    }
    (StatusCode::OK, "100")
}
