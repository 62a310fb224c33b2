//! The notifications' texts in the office: every kind of message × channel
//! × language with whether the organization's own text or the built-in one
//! goes, and a page to word one — with its placeholders and sample values,
//! a preview, saving (checked) and a return to the built-in text.

use super::super::page_with;
use super::by;
use crate::AppState;
use crate::http::context::Ctx;
use crate::http::csrf::CsrfForm;
use crate::http::errors::{PageError, refusal};
use crate::http::guard::StaffPage;
use crate::i18n::Tr;
use crate::pages::staff::StaffLayout;
use crate::paths;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kabinet_app::staff::StaffUser;
use kabinet_domain::Language;
use kabinet_domain::notify::{Channel, EventKind};
use kabinet_domain::notify_texts::{CustomText, TextKey, max_body};
use serde::Deserialize;

/// A cell of the list: one channel and language of a kind.
pub(crate) struct Cell {
    pub href: String,
    pub own: bool,
    pub label: String,
}

/// A kind of message and its cells (`None`: not sent on that channel).
pub(crate) struct KindRow {
    pub label: String,
    pub cells: Vec<Option<Cell>>,
}

/// The list.
#[derive(Template)]
#[template(path = "office/texts.html")]
pub(crate) struct TextsPage {
    pub layout: StaffLayout,
    pub saved: bool,
    pub columns: Vec<String>,
    pub rows: Vec<KindRow>,
}

/// One text's page.
#[derive(Template)]
#[template(path = "office/text.html")]
pub(crate) struct TextPage {
    pub layout: StaffLayout,
    pub title: String,
    pub errors: Vec<String>,
    pub action: String,
    pub reset: String,
    pub email: bool,
    pub own: bool,
    pub subject: String,
    pub body: String,
    pub max: usize,
    pub placeholders: Vec<(&'static str, String)>,
    pub preview: Option<CustomText>,
}

/// `{kind}/{channel}/{lang}` of a text's address.
#[derive(Debug, Deserialize)]
pub(crate) struct KeyPath {
    kind: String,
    channel: String,
    lang: String,
}

impl KeyPath {
    fn key(&self) -> Result<TextKey, PageError> {
        let key = TextKey {
            kind: EventKind::from_stored(&self.kind).ok_or(PageError::NotFound("error-page-not-found"))?,
            channel: Channel::from_stored(&self.channel)
                .ok_or(PageError::NotFound("error-page-not-found"))?,
            language: Language::from_tag(&self.lang)
                .filter(|l| l.code() == self.lang)
                .ok_or(PageError::NotFound("error-page-not-found"))?,
        };
        Ok(key)
    }
}

/// The form: the subject (e-mail), the text, and which button.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TextForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    action: String,
}

fn channel_label(tr: &Tr, c: Channel) -> String {
    match c {
        Channel::Email => tr.t("channel-email"),
        Channel::Sms => tr.t("channel-sms"),
        Channel::Max => "MAX".into(),
    }
}

fn language_label(l: Language) -> &'static str {
    match l {
        Language::Ru => "RU",
        Language::En => "EN",
    }
}

fn kind_label(tr: &Tr, k: EventKind) -> String {
    tr.t(&format!("texts-kind-{}", k.as_str().replace('_', "-")))
}

/// The page's heading: the kind, the channel and the language.
fn title(tr: &Tr, key: TextKey) -> String {
    format!(
        "{} · {} · {}",
        kind_label(tr, key.kind),
        channel_label(tr, key.channel),
        language_label(key.language)
    )
}

/// `GET /staff/texts`.
pub(crate) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Query(q): Query<super::SavedQuery>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let texts = state.app.notify.texts(by(&s, &ctx)).await?;
    let combos: Vec<(Channel, Language)> = Channel::ALL
        .into_iter()
        .flat_map(|c| Language::ALL.into_iter().map(move |l| (c, l)))
        .collect();
    let rows = EventKind::ALL
        .into_iter()
        .map(|kind| KindRow {
            label: kind_label(&tr, kind),
            cells: combos
                .iter()
                .map(|(channel, language)| {
                    texts
                        .iter()
                        .find(|t| {
                            t.key.kind == kind && t.key.channel == *channel && t.key.language == *language
                        })
                        .map(|t| Cell {
                            href: paths::staff_text(
                                t.key.kind.as_str(),
                                t.key.channel.as_str(),
                                t.key.language.code(),
                            ),
                            own: t.own,
                            label: format!("{} — {}", kind_label(&tr, kind), title(&tr, t.key)),
                        })
                })
                .collect(),
        })
        .collect();
    page_with(
        StatusCode::OK,
        &TextsPage {
            layout: StaffLayout::new(&state, &ctx).at(paths::STAFF_TEXTS),
            saved: q.saved(),
            columns: combos
                .iter()
                .map(|(c, l)| format!("{} {}", channel_label(&tr, *c), language_label(*l)))
                .collect(),
            rows,
        },
    )
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    ctx: &Ctx,
    s: &StaffUser,
    key: TextKey,
    status: StatusCode,
    errors: Vec<String>,
    typed: Option<&TextForm>,
    preview: Option<CustomText>,
) -> Result<Response, PageError> {
    let tr = Tr::current();
    let view = state.app.notify.text(by(s, ctx), key).await?;
    let (subject, body) = match (typed, &view.own) {
        (Some(f), _) => (
            f.subject.chars().take(300).collect(),
            f.body.chars().take(12_000).collect(),
        ),
        (None, Some(own)) => (own.subject.clone(), own.body.clone()),
        (None, None) => (String::new(), String::new()),
    };
    let (kind, channel, lang) = (key.kind.as_str(), key.channel.as_str(), key.language.code());
    page_with(
        status,
        &TextPage {
            layout: StaffLayout::new(state, ctx).at(paths::STAFF_TEXTS),
            title: title(&tr, key),
            errors,
            action: paths::staff_text(kind, channel, lang),
            reset: format!("{}/reset", paths::staff_text(kind, channel, lang)),
            email: key.channel == Channel::Email,
            own: view.own.is_some(),
            subject,
            body,
            max: max_body(key.channel),
            placeholders: view.placeholders,
            preview,
        },
    )
}

/// `GET /staff/texts/{kind}/{channel}/{lang}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(p): Path<KeyPath>,
) -> Result<Response, PageError> {
    render(&state, &ctx, &s, p.key()?, StatusCode::OK, Vec::new(), None, None).await
}

/// `POST /staff/texts/{kind}/{channel}/{lang}`: a preview, or saving.
pub(crate) async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(p): Path<KeyPath>,
    CsrfForm(f): CsrfForm<TextForm>,
) -> Result<Response, PageError> {
    let key = p.key()?;
    let text = CustomText {
        subject: f.subject.clone(),
        body: f.body.clone(),
    };
    let notify = &state.app.notify;
    let outcome = if f.action == "preview" {
        notify.preview_text(by(&s, &ctx), key, &text).await.map(Some)
    } else {
        notify.save_text(by(&s, &ctx), key, &text).await.map(|()| None)
    };
    match outcome {
        Ok(Some(preview)) => {
            render(
                &state,
                &ctx,
                &s,
                key,
                StatusCode::OK,
                Vec::new(),
                Some(&f),
                Some(preview),
            )
            .await
        }
        Ok(None) => Ok(super::SavedQuery::back_to(paths::STAFF_TEXTS)),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            render(&state, &ctx, &s, key, status, errors, Some(&f), None).await
        }
    }
}

/// `POST /staff/texts/{kind}/{channel}/{lang}/reset`: the built-in text.
pub(crate) async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    StaffPage(s): StaffPage,
    Path(p): Path<KeyPath>,
    CsrfForm(_): CsrfForm<super::super::settings::Empty>,
) -> Result<Response, PageError> {
    state.app.notify.reset_text(by(&s, &ctx), p.key()?).await?;
    Ok(super::SavedQuery::back_to(paths::STAFF_TEXTS))
}
