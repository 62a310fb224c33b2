//! The start page: who runs the portal and how to reach them.

use crate::escape::html;
use crate::{AppError, AppState};
use axum::extract::State;
use axum::response::Html;

/// `GET /`: the Organization's name and contacts.
pub(crate) async fn page(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    let org = state.db.organization().await?;
    let body = match org {
        Some(o) => format!(
            "<h1>Личный кабинет абонента</h1>\
             <p>{name}</p>\
             <dl><dt>Адрес</dt><dd>{address}</dd>\
             <dt>Телефон</dt><dd>{phone}</dd>\
             <dt>Аварийно-диспетчерская служба</dt><dd>{dispatch}</dd>\
             <dt>Электронная почта</dt><dd>{email}</dd></dl>",
            name = html(&o.name),
            address = html(&o.address),
            phone = html(&o.phone),
            dispatch = html(&o.dispatch_phone),
            email = html(&o.email),
        ),
        None => "<h1>Личный кабинет абонента</h1><p>Данные организации ещё не загружены.</p>".to_string(),
    };
    Ok(Html(format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Личный кабинет абонента</title></head><body><main>{body}</main></body></html>"
    )))
}
