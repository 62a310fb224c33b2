//! Read-only pages from the replica. With `database_replica_url` set, the
//! overview, invoices, charges and meters pages read from the streaming
//! replica — unless the browser wrote in the last few seconds (then the
//! primary, so a resident sees what they just did) — and from the primary
//! when the replica does not answer.

/// Runs `$field.$call` (an `Accounts` or `Readings` use case) on the replica
/// when [`kabinet_app::App::replica`] offers it for `$ctx`, falling back to
/// the primary on a database error; on the primary otherwise.
macro_rules! replica_read {
    ($state:expr, $ctx:expr, $field:ident . $($call:tt)+) => {{
        match $state.app.replica($ctx.fresh) {
            Some(replica) => match replica.$field.$($call)+.await {
                Err(kabinet_app::Error::Db(e)) => {
                    tracing::warn!(error = %e, "the replica did not answer; read from the primary");
                    $state.app.$field.$($call)+.await
                }
                other => other,
            },
            None => $state.app.$field.$($call)+.await,
        }
    }};
}

pub(crate) use replica_read;
