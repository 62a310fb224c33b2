//! The Prometheus side of `/metrics`: the process's recorder, the layer
//! that times every request by route template, method and status, and the
//! text a scrape gets (the counters kept in memory and the figures read
//! from the database at that moment, see [`kabinet_app::ops`]).

use crate::AppState;
use axum::extract::{MatchedPath, Request};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kabinet_app::ops::RECEIPT_RENDER_SECONDS;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Requests answered, by route template, method and status, with their time.
const REQUEST_SECONDS: &str = "kabinet_http_request_duration_seconds";

/// The buckets of request times (seconds): around the 100 ms a page should take.
const REQUEST_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The buckets of receipt render times (seconds).
const RENDER_BUCKETS: [f64; 8] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first use (one per process: the
/// counters of every state built in it add up).
pub(crate) fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), &REQUEST_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(RECEIPT_RENDER_SECONDS.into()), &RENDER_BUCKETS)
                })
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            // Histogram samples wait in memory until drained: drain them now
            // and then even if nobody scrapes.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let upkeep = handle.clone();
                rt.spawn(async move {
                    let mut every = tokio::time::interval(Duration::from_secs(5));
                    loop {
                        every.tick().await;
                        upkeep.run_upkeep();
                    }
                });
            }
            Some(handle)
        })
        .as_ref()
}

/// A method as a label: the standard ones by name, anything else `other`
/// (a client cannot make up labels).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Times a request (a route layer: the matched template is known here).
pub(crate) async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = method_label(req.method());
    let started = Instant::now();
    let res = next.run(req).await;
    metrics::histogram!(
        REQUEST_SECONDS,
        "route" => route,
        "method" => method,
        "status" => res.status().as_u16().to_string(),
    )
    .record(started.elapsed().as_secs_f64());
    res
}

/// The scrape: the database's figures set as gauges, then every metric in
/// the Prometheus text format.
pub(crate) async fn scrape(state: &AppState) -> Result<Response, kabinet_app::Error> {
    let Some(handle) = handle() else {
        return Err(kabinet_app::Error::Internal("no metrics recorder".into()));
    };
    let f = state.app.ops.figures().await?;
    let n = |v: u64| v as f64;
    metrics::gauge!("kabinet_jobs", "state" => "waiting").set(n(f.jobs_waiting));
    metrics::gauge!("kabinet_jobs", "state" => "running").set(n(f.jobs_running));
    metrics::gauge!("kabinet_jobs", "state" => "dead").set(n(f.jobs_dead));
    metrics::gauge!("kabinet_jobs_oldest_due_seconds").set(f.oldest_due.as_secs_f64());
    for (channel, state, count) in f.deliveries {
        metrics::gauge!("kabinet_deliveries", "channel" => channel, "state" => state).set(n(count));
    }
    for (status, count) in f.open_card_payments {
        metrics::gauge!("kabinet_card_payments_open", "status" => status).set(n(count));
    }
    metrics::gauge!("kabinet_db_pool_connections", "state" => "open").set(f64::from(f.pool_size));
    metrics::gauge!("kabinet_db_pool_connections", "state" => "idle").set(f64::from(f.pool_idle));
    metrics::gauge!("kabinet_db_pool_connections", "state" => "in_use")
        .set(f64::from(f.pool_size.saturating_sub(f.pool_idle)));
    metrics::gauge!("kabinet_db_pool_connections", "state" => "max").set(f64::from(f.pool_max));
    metrics::gauge!("kabinet_db_pool_acquire_seconds").set(f.pool_wait.as_secs_f64());
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
        .into_response())
}
