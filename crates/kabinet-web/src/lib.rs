//! Kabinet's HTTP layer: the pages for browsers ([`pages`]), the JSON API for
//! the mobile app ([`api`]) and what both share ([`http`]: request context,
//! CSRF, route guards, the page and API errors, security headers). Handlers
//! only translate: they extract typed input, call one use case of
//! `kabinet-app`, and render the result or let the error travel with `?`.

mod api;
mod http;
mod i18n;
mod pages;
pub mod paths;
mod readings_text;

/// A message in `lang`, for the command line and other places outside a
/// request.
pub fn render_text(text: &kabinet_domain::Text, lang: kabinet_domain::Language) -> String {
    i18n::Tr { lang }.text(text)
}

use axum::Router;
use axum::routing::MethodRouter;
use kabinet_app::App;
use kabinet_app::auth::{IpLimiter, ServerKey};
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

/// The largest body of a request with photos (5 × 10 MiB and the fields);
/// only the routes that take photos accept more than [`MAX_BODY_BYTES`].
pub const MAX_UPLOAD_BYTES: usize = 51 * 1024 * 1024;

/// The largest body of a billing package upload (the package and the form).
pub const MAX_PACKAGE_BODY_BYTES: usize = kabinet_domain::imports::MAX_PACKAGE_BYTES as usize + 1024 * 1024;

/// How long a billing package upload may take (200 MB over a slow office
/// line); every other request has [`WebSettings::request_timeout`].
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The largest body a machine-to-machine route takes (a gateway's
/// notification is a few hundred bytes).
pub const MAX_MACHINE_BODY_BYTES: usize = 64 * 1024;

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
    /// Registration, sign-in and reset requests a minute per client address.
    pub auth_requests_per_minute: u32,
    /// Requests a minute one address may make to the machine-to-machine
    /// routes (a gateway sends a notification per payment event: the default
    /// is far above a real shop's rate and far below a flood).
    pub machine_requests_per_minute: u32,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            cookie_secure: false,
            trusted_proxies: Vec::new(),
            request_timeout: Duration::from_secs(30),
            auth_requests_per_minute: 30,
            machine_requests_per_minute: 1200,
        }
    }
}

/// Everything the server is built from, besides the database and the key.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The use cases' settings.
    pub app: kabinet_app::Settings,
    /// The HTTP side's.
    pub web: WebSettings,
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The use cases (shared: the state is cloned for every request).
    pub app: Arc<App>,
    /// Requests per client address on registration, sign-in and reset
    /// (counted in the database: the limit holds across servers).
    pub limiter: Arc<IpLimiter>,
    /// Requests per source address on the machine-to-machine routes.
    pub machine_limiter: Arc<IpLimiter>,
    /// Cookie and proxy settings.
    pub web: Arc<WebSettings>,
    /// The Content-Security-Policy header (it names the payment gateway).
    pub(crate) csp: axum::http::HeaderValue,
}

impl AppState {
    /// The state the server runs with — the one way it is assembled, for the
    /// binary and the tests alike.
    pub fn build(db: Db, settings: &Settings, key: ServerKey) -> Result<AppState, kabinet_app::Error> {
        let app = App::build(db, &settings.app, key)?;
        // The counters count from the first state built in the process.
        http::metrics::handle();
        let db = app.db().clone();
        Ok(AppState {
            csp: http::security::content_security_policy(app.payments.page_origins()),
            app: Arc::new(app),
            limiter: Arc::new(IpLimiter::new(
                db.clone(),
                "auth",
                settings.web.auth_requests_per_minute,
            )),
            machine_limiter: Arc::new(IpLimiter::new(
                db,
                "machine",
                settings.web.machine_requests_per_minute,
            )),
            web: Arc::new(settings.web.clone()),
        })
    }
}

/// A router of `routes`.
pub(crate) fn group(routes: Vec<(&'static str, MethodRouter<AppState>)>) -> Router<AppState> {
    routes
        .into_iter()
        .fold(Router::new(), |r, (path, route)| r.route(path, route))
}

/// The path patterns of the resident pages and API operations: every one of
/// them is behind the resident guard (listed for the test that checks it).
pub fn resident_route_patterns() -> Vec<String> {
    pages::resident_routes()
        .into_iter()
        .map(|(p, _)| p.to_string())
        .chain(api::resident_paths())
        .collect()
}

/// The path patterns of the staff console: every one is behind the staff
/// guard (listed for the test that checks it).
pub fn staff_route_patterns() -> Vec<String> {
    pages::staff_routes()
        .into_iter()
        .map(|(p, _, _)| p.to_string())
        .collect()
}

/// The whole application: every route group with its middleware.
pub fn router(state: AppState) -> Router {
    let timeout = state.web.request_timeout;
    // The guard wraps each resident route's methods (a method the route does
    // not have stays a plain 405).
    let resident = group(
        pages::resident_routes()
            .into_iter()
            .map(|(path, route)| {
                (
                    path,
                    route.route_layer(axum::middleware::from_fn(http::guard::require_resident)),
                )
            })
            .collect(),
    );
    // The package upload is the one long request: it gets its own body
    // limit and time limit, everything else the usual ones.
    let (long, staff): (Vec<_>, Vec<_>) = pages::staff_routes()
        .into_iter()
        .map(|(path, need, route)| {
            (
                path,
                route
                    .route_layer(axum::middleware::from_fn(move |req, next| {
                        http::guard::permit(need, req, next)
                    }))
                    .route_layer(axum::middleware::from_fn(http::guard::require_staff)),
            )
        })
        .partition(|(path, _)| *path == paths::STAFF_IMPORT_UPLOAD);
    let long = group(long)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::context::layer,
        ))
        .with_state(state.clone())
        .layer(RequestBodyLimitLayer::new(MAX_PACKAGE_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            UPLOAD_TIMEOUT,
        ));
    Router::new()
        .merge(group(pages::public_routes()))
        .merge(group(staff))
        .merge(group(pages::step_routes()))
        .merge(resident)
        .merge(api::routes(&state))
        .fallback(http::errors::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::context::layer,
        ))
        .merge(group(pages::machine_routes()))
        .with_state(state.clone())
        .layer(RequestBodyLimitLayer::new(MAX_UPLOAD_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .merge(long)
        .layer(CatchPanicLayer::custom(http::errors::panic_response))
        .layer(axum::middleware::from_fn(http::metrics::track))
        // Outermost but for tracing: every response above, errors from the
        // layers included, leaves with the security headers and in one shape.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::security::finish,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(http::request_id::span))
        .layer(axum::middleware::from_fn_with_state(
            state,
            http::request_id::layer,
        ))
}

/// The router of the metrics listener of its own (`metrics_listen`):
/// `/metrics` without a token, nothing else.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(paths::METRICS, axum::routing::get(pages::health::open_metrics))
        .layer(TraceLayer::new_for_http().make_span_with(http::request_id::span))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::request_id::layer,
        ))
        .with_state(state)
}

/// Serves [`metrics_router`] on `listener` until `shutdown` resolves.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, metrics_router(state), shutdown).await
}

/// Serves `router` with each connection's address, until `shutdown`.
async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves the application on `listener` until `shutdown` resolves; the
/// client's address is taken from the connection.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, router(state), shutdown).await
}
