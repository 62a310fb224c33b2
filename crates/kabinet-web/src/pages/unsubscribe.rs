//! The one-click unsubscribe link of a notification e-mail (RFC 8058):
//! `GET` shows what it turns off and a button, `POST` turns it off — from
//! the button, or straight from the mail provider's "unsubscribe", which
//! sends no cookie. The link itself is the credential (signed, for one
//! resident, working once), so no sign-in or CSRF token is asked for.

use super::{Layout, MessagePage, page};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::errors::PageError;
use crate::i18n::Tr;
use crate::paths;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use kabinet_app::notify::Unsubscribe;

/// The confirmation page.
#[derive(Template)]
#[template(path = "notify/unsubscribe.html")]
pub(crate) struct UnsubscribePage {
    pub layout: Layout,
    /// The kind's name in the reader's language.
    pub kind: String,
    pub action: String,
}

fn kind_name(tr: &Tr, k: kabinet_domain::NotificationKind) -> String {
    tr.t(&format!("notify-{}", k.code()))
}

fn outcome(state: &AppState, ctx: &Ctx, u: Unsubscribe) -> Result<Response, PageError> {
    let tr = Tr::current();
    let (title, text) = match u {
        Unsubscribe::Done(k) => (
            "unsubscribe-done-title",
            tr.a("unsubscribe-done", "name", &kind_name(&tr, k)),
        ),
        Unsubscribe::Used(k) | Unsubscribe::Offered(k) => (
            "unsubscribe-used-title",
            tr.a("unsubscribe-used", "name", &kind_name(&tr, k)),
        ),
    };
    page(&MessagePage {
        layout: Layout::new(state, ctx),
        title: tr.t(title),
        paragraphs: vec![text, tr.t("unsubscribe-again")],
        link: Some(super::Link {
            text: tr.t("unsubscribe-settings"),
            href: paths::SETTINGS.to_string(),
        }),
    })
}

/// `GET /unsubscribe/{token}`.
pub(crate) async fn offer(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match state.app.notify.check_unsubscribe(&token).await? {
        Unsubscribe::Offered(k) => {
            let tr = Tr::current();
            page(&UnsubscribePage {
                layout: Layout::new(&state, &ctx),
                kind: kind_name(&tr, k),
                action: paths::unsubscribe(&token),
            })
        }
        other => outcome(&state, &ctx, other),
    }
}

/// `POST /unsubscribe/{token}`.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let done = state.app.notify.unsubscribe(&token, &ctx.client).await?;
    outcome(&state, &ctx, done)
}
