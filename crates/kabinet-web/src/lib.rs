//! Kabinet's HTTP layer: the axum router with the resident pages, the JSON API
//! for the mobile app and the health endpoints. Handlers parse input into
//! domain types, call the sign-in rules (`kabinet-auth`) or the database's
//! repositories and render; they build no SQL.

mod api;
mod auth_pages;
mod cabinet;
mod context;
mod csrf;
mod error;
mod health;
mod home;
mod receipts;
mod rules_pages;
mod security;
mod views;

pub use api::ApiDoc;
pub use error::AppError;
pub use receipts::Receipts;

use axum::Router;
use axum::routing::{get, post};
use kabinet_auth::{Auth, IpLimiter};
use kabinet_db::Db;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// The largest request body accepted (forms and API requests are far smaller).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// How the web layer talks to browsers.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Mark cookies `Secure` and send HSTS (set when the portal is served over
    /// TLS, directly or by a proxy).
    pub cookie_secure: bool,
    /// Proxies whose `X-Forwarded-For` is believed for the client's address.
    pub trusted_proxies: Vec<IpAddr>,
    /// A request still unanswered after this long gets a 503.
    pub request_timeout: Duration,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            cookie_secure: false,
            trusted_proxies: Vec::new(),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The sign-in rules.
    pub auth: Arc<Auth>,
    /// Requests per client address on registration, sign-in and reset.
    pub limiter: Arc<IpLimiter>,
    /// The receipt renderer.
    pub receipts: Receipts,
    /// Cookie and proxy settings.
    pub web: Arc<WebSettings>,
}

/// The whole application: every route with its middleware.
pub fn router(state: AppState) -> Router {
    let timeout = state.web.request_timeout;
    Router::new()
        .route("/", get(home::page_handler))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/assets/style.css", get(views::stylesheet))
        .route("/login", get(auth_pages::login_page).post(auth_pages::login))
        .route("/logout", post(auth_pages::logout))
        .route(
            "/register",
            get(auth_pages::register_page).post(auth_pages::register),
        )
        .route("/register/sent", get(auth_pages::register_sent))
        .route(
            "/password/new",
            get(auth_pages::first_password_page).post(auth_pages::first_password),
        )
        .route(
            "/password/change",
            get(auth_pages::change_password_page).post(auth_pages::change_password),
        )
        .route(
            "/password/reset",
            get(auth_pages::reset_request_page).post(auth_pages::reset_request),
        )
        .route("/password/reset/sent", get(auth_pages::reset_sent))
        .route(
            "/password/reset/{token}",
            get(auth_pages::reset_form_page).post(auth_pages::reset_complete),
        )
        .route("/rules", get(rules_pages::current))
        .route(
            "/rules/accept",
            get(rules_pages::accept_page).post(rules_pages::accept),
        )
        .route("/rules/{version}", get(rules_pages::version))
        .route("/cabinet", get(cabinet::overview))
        .route("/accounts/{number}/receipts/{file}", get(cabinet::receipt))
        .nest("/api/v1", api::routes())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            context::layer,
        ))
        .with_state(state.clone())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(CatchPanicLayer::custom(error::panic_response))
        // Outermost but for tracing: every response above, errors from the
        // layers included, leaves with the security headers and in one shape.
        .layer(axum::middleware::from_fn_with_state(state, security::finish))
        .layer(TraceLayer::new_for_http())
}

/// Serves the application on `listener` until `shutdown` resolves; the
/// client's address is taken from the connection.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
