//! The stylesheet and the one small script, served from the binary.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// `GET /assets/style.css`.
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/style.css"),
    )
        .into_response()
}

/// `GET /assets/refresh.js`.
pub(crate) async fn refresh_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/refresh.js"),
    )
        .into_response()
}
