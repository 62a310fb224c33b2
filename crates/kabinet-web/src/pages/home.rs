//! The start page: who runs the portal and how to reach them.

use super::{Layout, page};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::PageError;
use askama::Template;
use axum::extract::State;
use axum::response::Response;

/// The start page.
#[derive(Template)]
#[template(path = "home/home.html")]
pub(crate) struct HomePage {
    pub layout: Layout,
    pub org: Option<kabinet_domain::Organization>,
}

/// `GET /`: the Organization's name and contacts, and the way in.
pub(crate) async fn show(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let org = state.app.organization().await?;
    page(&HomePage {
        layout: Layout::new(&state, &ctx),
        org,
    })
}
