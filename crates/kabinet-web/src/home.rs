//! The start page: who runs the portal and how to reach them.

use crate::context::Ctx;
use crate::views::{HomePage, Layout, page};
use crate::{AppError, AppState};
use axum::extract::State;
use axum::response::Response;

/// `GET /`: the Organization's name and contacts, and the way in.
pub(crate) async fn page_handler(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let org = state.db.organization().await?;
    Ok(page(&HomePage {
        layout: Layout::new(&state, &ctx),
        org,
    }))
}
