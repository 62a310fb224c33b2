//! Liveness and readiness endpoints for load balancers and orchestrators,
//! and the Prometheus metrics for the operator.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::time::Duration;

/// `GET /healthz`: the process is up and serving.
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers within two seconds.
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match tokio::time::timeout(Duration::from_secs(2), state.app.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable" })),
            )
        }
        Err(_) => {
            tracing::warn!("readiness check timed out");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable" })),
            )
        }
    }
}

/// `GET /metrics` on the main listener: served only when a token is
/// configured, and only to a request bearing it (`Authorization: Bearer`).
pub(crate) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !state.app.ops.served() {
        return crate::http::errors::PageError::NotFound("error-page-not-found").into_response();
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !state.app.ops.allows(bearer) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")]).into_response();
    }
    open_metrics(State(state)).await
}

/// `GET /metrics` on the metrics listener of its own (`metrics_listen`),
/// which the operator keeps to their network.
pub(crate) async fn open_metrics(State(state): State<AppState>) -> Response {
    match crate::http::metrics::scrape(&state).await {
        Ok(res) => res,
        Err(e) => crate::http::errors::PageError::from(e).into_response(),
    }
}
