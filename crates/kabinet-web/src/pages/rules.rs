//! The documents residents accept, each on its own pages: the Rules of
//! service (`/rules`, R11, R15) and the personal-data consent (`/consent`,
//! B8) — the text in force, earlier versions, and accepting a new version.
//! One set of handlers serves both, told apart by a [`Kind`].

use super::{Layout, Link, page, see_other};
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::PageError;
use crate::http::guard::next_page;
use crate::paths;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use kabinet_app::Error;
use kabinet_domain::{Document, RulesVersion};
use serde::Deserialize;

/// What tells one document's pages from the other's: its paths and the
/// ids of the texts that differ.
pub(crate) struct Sheet {
    /// Which document.
    pub doc: Document,
    /// Its heading when nothing is published, and its link in the footer.
    pub name: &'static str,
    /// "Not published yet".
    pub none: &'static str,
    /// "A new version is in force: accept it".
    pub changed: &'static str,
    /// The accept button.
    pub accept: &'static str,
    /// Where the accept form goes.
    pub accept_path: &'static str,
    /// An unknown version.
    pub unknown: &'static str,
    /// A version's page.
    pub version_path: fn(i32) -> String,
    /// The office's page of the document: its heading and path.
    pub office: &'static str,
    /// See [`Sheet::office`].
    pub office_path: &'static str,
    /// The office's note on publishing a new version.
    pub new_intro: &'static str,
    /// The caption of the office's list of versions.
    pub versions: &'static str,
}

/// A document of the resident pages.
pub(crate) trait Kind: Send + Sync + 'static {
    /// Its texts and paths.
    const SHEET: &'static Sheet;
}

/// The Rules of service.
pub(crate) struct OfRules;

impl Kind for OfRules {
    const SHEET: &'static Sheet = &Sheet {
        doc: Document::Rules,
        name: "rules-link",
        none: "rules-none",
        changed: "rules-changed",
        accept: "rules-accept",
        accept_path: paths::RULES_ACCEPT,
        unknown: "error-rules-version-unknown",
        version_path: paths::rules_version,
        office: "office-rules",
        office_path: paths::STAFF_RULES,
        new_intro: "rules-new-intro",
        versions: "rules-versions",
    };
}

/// The personal-data consent.
pub(crate) struct OfConsent;

impl Kind for OfConsent {
    const SHEET: &'static Sheet = &Sheet {
        doc: Document::Consent,
        name: "consent-link",
        none: "consent-none",
        changed: "consent-changed",
        accept: "consent-accept",
        accept_path: paths::CONSENT_ACCEPT,
        unknown: "error-consent-version-unknown",
        version_path: paths::consent_version,
        office: "office-consent",
        office_path: paths::STAFF_CONSENT,
        new_intro: "consent-new-intro",
        versions: "consent-versions",
    };
}

/// A version of a document, with the other versions and, when the resident
/// must accept it, the accept button.
#[derive(Template)]
#[template(path = "rules/rules.html")]
pub(crate) struct RulesPage {
    pub layout: Layout,
    pub sheet: &'static Sheet,
    pub rules: Option<RulesVersion>,
    pub edition: String,
    pub paragraphs: Vec<String>,
    pub accept: bool,
    pub others: Vec<Link>,
}

async fn render<K: Kind>(
    state: &AppState,
    ctx: &Ctx,
    rules: Option<RulesVersion>,
    accept: bool,
) -> Result<Response, PageError> {
    let sheet = K::SHEET;
    let tr = crate::i18n::Tr::current();
    let others = state
        .app
        .document(sheet.doc)
        .all()
        .await?
        .into_iter()
        .filter(|r| rules.as_ref().is_none_or(|c| c.version != r.version))
        .map(|r| Link {
            text: tr.a2(
                "rules-version-link",
                ("v", &r.version.to_string()),
                ("title", &r.title),
            ),
            href: (sheet.version_path)(r.version),
        })
        .collect();
    let paragraphs = rules.as_ref().map(|r| paragraphs(&r.body)).unwrap_or_default();
    let edition = rules
        .as_ref()
        .map(|r| {
            tr.a2(
                "rules-edition-since",
                ("v", &r.version.to_string()),
                ("date", &tr.date(state.app.accounts.clock().today(r.published_at))),
            )
        })
        .unwrap_or_default();
    page(&RulesPage {
        layout: Layout::new(state, ctx),
        sheet,
        rules,
        edition,
        paragraphs,
        accept,
        others,
    })
}

/// `GET /rules`, `GET /consent`: the version in force and links to earlier ones.
pub(crate) async fn current<K: Kind>(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let rules = state.app.document(K::SHEET.doc).current().await?;
    render::<K>(&state, &ctx, rules, false).await
}

/// `GET /rules/{version}`, `GET /consent/{version}`: an earlier version.
pub(crate) async fn version<K: Kind>(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(version): Path<String>,
) -> Result<Response, PageError> {
    let unknown = PageError::NotFound(K::SHEET.unknown);
    let Ok(v) = version.parse::<i32>() else {
        return Err(unknown);
    };
    let rules = match state.app.document(K::SHEET.doc).version(v).await {
        Err(Error::NotFound) => return Err(unknown),
        other => other?,
    };
    render::<K>(&state, &ctx, Some(rules), false).await
}

/// `GET /rules/accept`, `GET /consent/accept`: the new version with an accept
/// button; a resident with nothing of this document to accept goes on to
/// their next step.
pub(crate) async fn accept_page<K: Kind>(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, PageError> {
    let document = state.app.document(K::SHEET.doc);
    match &ctx.principal {
        None => return Ok(see_other(paths::LOGIN)),
        Some(p) if p.must_set_password() || p.pending(K::SHEET.doc).is_none() => {
            return Ok(see_other(next_page(p)));
        }
        Some(_) => {}
    }
    let rules = document.current().await?;
    render::<K>(&state, &ctx, rules, true).await
}

/// The accept form: the version the resident saw.
#[derive(Deserialize)]
pub(crate) struct AcceptForm {
    #[serde(default)]
    version: String,
}

/// `POST /rules/accept`, `POST /consent/accept`: on to the next step (the
/// other document, or the cabinet); a version that is no longer the one in
/// force sends back to the cabinet, which asks for the new one.
pub(crate) async fn accept<K: Kind>(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<AcceptForm>,
) -> Result<Response, PageError> {
    let Some(mut p) = ctx.principal.clone().filter(|p| !p.must_set_password()) else {
        return Ok(see_other(paths::LOGIN));
    };
    let version: i32 = form
        .version
        .parse()
        .map_err(|_| PageError::BadRequest("error-form-malformed"))?;
    match state
        .app
        .document(K::SHEET.doc)
        .accept(&p, version, &ctx.client)
        .await
    {
        Ok(()) => {
            p.accepted(K::SHEET.doc);
            Ok(see_other(next_page(&p)))
        }
        Err(Error::StaleRules | Error::StaleConsent) => Ok(see_other(paths::CABINET)),
        Err(e) => Err(e.into()),
    }
}

/// The paragraphs of a document's text: blank lines separate them, single
/// line breaks join (the office's preview shows them the same way).
pub(crate) fn paragraphs(body: &str) -> Vec<String> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| p.trim().replace('\n', " "))
        .filter(|p| !p.is_empty())
        .collect()
}
