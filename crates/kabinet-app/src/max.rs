//! The organization's bot in the MAX messenger (R13). A resident links
//! MAX in Settings with a one-time link that starts the bot with a code
//! (or by writing `/start CODE`); the bot then gets their notifications
//! (a channel of [`crate::notify`]) and answers, in their language:
//! `/balance` (what is due on each linked account), `/readings` (the
//! window and the meters, numbered), a reading written as `N value` —
//! checked and stored by [`crate::readings::Readings::submit`] like the
//! page's, with the same confirmation question for an unusual value and
//! the same audit line — `/requests` (open ones and their status) and
//! `/unlink`. Stopping the bot in MAX unlinks it too.
//!
//! Updates arrive on the webhook (`POST /max/webhook`, with the secret
//! derived from the server key) or by long polling (the `max_updates`
//! job); both end in [`MaxBot::handle`].

use crate::Error;
use crate::auth::{Client, Resident, ServerKey};
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use kabinet_domain::notify::{MAX_LINK_TTL, MAX_QUESTION_TTL};
pub use kabinet_max::SECRET_HEADER;
use kabinet_max::{Button, Update};
use kabinet_notify::max as say;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What the resident opens to link MAX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxLink {
    /// The link that opens the bot's chat and starts it with the code.
    pub url: String,
    /// The code, to write to the bot as `/start CODE` instead.
    pub code: String,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// A reading the bot asked to confirm (an unusual value).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    account: String,
    meter: i64,
    values: Vec<String>,
}

/// What a chat message asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Command {
    Start(Option<String>),
    Help,
    Balance,
    Readings,
    Requests,
    Unlink,
    Yes,
    No,
    Reading { n: String, values: Vec<String> },
    Unknown,
}

impl Command {
    /// Reads a message or a button's payload: a command with or without
    /// `/` (and the bot's name after it), in either language, or a reading
    /// `N value [value…]`.
    fn parse(text: &str) -> Command {
        let text = text.trim();
        let mut words = text.split_whitespace();
        let Some(first) = words.next() else {
            return Command::Unknown;
        };
        let word = first
            .trim_start_matches('/')
            .split('@')
            .next()
            .unwrap_or_default()
            .to_lowercase();
        let rest: Vec<String> = words.map(str::to_string).collect();
        if word == "start" {
            return Command::Start(rest.into_iter().next());
        }
        // The commands' names (`/balance`…), and the words each language's
        // Fluent file gives for them (`max-words-<name>`), in any language.
        let named = [
            ("help", Command::Help),
            ("balance", Command::Balance),
            ("readings", Command::Readings),
            ("requests", Command::Requests),
            ("unlink", Command::Unlink),
            ("yes", Command::Yes),
            ("no", Command::No),
        ];
        for (name, command) in named {
            let said = word == name
                || d::Language::ALL.into_iter().any(|l| {
                    kabinet_notify::messages::tr(Some(l))
                        .t(&format!("max-words-{name}"))
                        .split_whitespace()
                        .any(|w| w.to_lowercase() == word)
                });
            if said {
                return command;
            }
        }
        match word.as_str() {
            n if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && (1..=3).contains(&rest.len()) => {
                Command::Reading {
                    n: n.to_string(),
                    values: rest,
                }
            }
            _ => Command::Unknown,
        }
    }
}

/// The bot's use cases.
#[derive(Clone)]
pub struct MaxBot {
    db: Db,
    key: ServerKey,
    max: Option<kabinet_max::Max>,
    accounts: crate::account::Accounts,
    readings: crate::readings::Readings,
    requests: crate::requests::Requests,
    clock: d::OrgClock,
    public_url: String,
}

impl MaxBot {
    /// The bot `config` describes (`None`: MAX is not offered), answering
    /// with the other use cases, links to `public_url`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: Db,
        key: ServerKey,
        config: Option<kabinet_max::MaxConfig>,
        accounts: crate::account::Accounts,
        readings: crate::readings::Readings,
        requests: crate::requests::Requests,
        clock: d::OrgClock,
        public_url: &str,
    ) -> MaxBot {
        MaxBot {
            db,
            key,
            max: config.map(kabinet_max::Max::new),
            accounts,
            readings,
            requests,
            clock,
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    /// Whether MAX is offered.
    pub fn enabled(&self) -> bool {
        self.max.is_some()
    }

    /// The bot's name in MAX, when MAX is offered.
    pub fn bot_name(&self) -> Option<&str> {
        self.max.as_ref().map(|m| m.config().bot_name.as_str())
    }

    fn client(max_user: i64) -> Client {
        Client {
            ip: String::new(),
            user_agent: format!("MAX messenger, user {max_user}"),
        }
    }

    fn code_hash(&self, code: &str) -> String {
        hex::encode(self.key.sign("max-link", &[code.as_bytes()]))
    }

    /// A new one-time link for `r` to link MAX (the earlier stops working).
    pub async fn link(&self, r: &Resident) -> Result<MaxLink, Error> {
        let Some(max) = &self.max else {
            return Err(Error::NotFound);
        };
        let now = OffsetDateTime::now_utc();
        // 24 characters of the link's payload: letters, digits, - and _.
        let code: String = crate::auth::secrets::new_token().chars().take(24).collect();
        let expires_at = now + MAX_LINK_TTL;
        self.db
            .max()
            .add_code(r.user.id, &self.code_hash(&code), now, expires_at)
            .await?;
        Ok(MaxLink {
            url: max.config().start_link(&code),
            code,
            expires_at,
        })
    }

    /// Unlinks `r`'s MAX account (audited; the chat is told); nothing when
    /// none is linked.
    pub async fn unlink(&self, r: &Resident, client: &Client) -> Result<(), Error> {
        let Some(max_user) = self.unlinked(r.user.id, client, "settings").await? else {
            return Ok(());
        };
        let tr = kabinet_notify::messages::tr(r.user.language);
        self.reply(max_user, &say::unlinked(tr), &[]).await?;
        Ok(())
    }

    async fn unlinked(&self, user: d::UserId, client: &Client, how: &str) -> Result<Option<i64>, Error> {
        let now = OffsetDateTime::now_utc();
        let tx = self.db.begin().await?;
        let was = tx.max().unlink(user).await?;
        let Some(max_user) = was else {
            return Ok(None);
        };
        let account = tx.users().by_id(user).await?.map(|u| u.account_id);
        tx.audit()
            .record(
                &client.entry(
                    d::AuditEvent::MaxUnlinked,
                    Some(user),
                    account,
                    format!("MAX user {max_user}, {how}"),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(Some(max_user))
    }

    /// The secret the webhook's requests carry (derived from the server
    /// key, so every server agrees).
    pub fn webhook_secret(&self) -> String {
        hex::encode(&self.key.sign("max-webhook", &[])[..20])
    }

    /// Whether a webhook request's secret header is the right one.
    pub fn webhook_allowed(&self, secret: Option<&str>) -> bool {
        let expected = self.webhook_secret();
        self.max.is_some()
            && secret
                .is_some_and(|s| bool::from(subtle::ConstantTimeEq::ct_eq(s.as_bytes(), expected.as_bytes())))
    }

    /// Has MAX post the bot's updates to the portal's webhook.
    pub async fn subscribe(&self) -> Result<(), Error> {
        let Some(max) = &self.max else {
            return Ok(());
        };
        max.subscribe(
            &format!("{}/max/webhook", self.public_url),
            &self.webhook_secret(),
        )
        .await
        .map_err(|e| Error::Internal(e.to_string()))
    }

    /// Takes the updates waiting (long polling, up to `wait`), answers
    /// each, and remembers how far it got; returns how many there were.
    pub async fn poll(&self, wait: std::time::Duration) -> Result<u64, Error> {
        let Some(max) = &self.max else {
            return Ok(0);
        };
        let mark = self.db.notify().mark(kabinet_db::max::UPDATES_MARK).await?;
        let got = max
            .updates((mark > 0).then_some(mark), wait)
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        let n = got.updates.len() as u64;
        for update in got.updates {
            if let Err(e) = self.handle(update).await {
                tracing::warn!(error = %e, "a MAX update was not answered");
            }
        }
        if let Some(m) = got.marker.filter(|m| *m != mark) {
            self.db
                .notify()
                .set_mark(kabinet_db::max::UPDATES_MARK, m)
                .await?;
        }
        Ok(n)
    }

    /// Answers an update posted to the webhook (its body as it came); a
    /// body that is not an update is logged and dropped.
    pub async fn handle_posted(&self, body: &[u8]) -> Result<(), Error> {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(v) => self.handle(Update::parse(&v)).await,
            Err(e) => {
                tracing::warn!(error = %e, "the MAX webhook got something that is not an update");
                Ok(())
            }
        }
    }

    /// Answers one update.
    pub async fn handle(&self, update: Update) -> Result<(), Error> {
        let Some(max) = &self.max else {
            return Ok(());
        };
        match update {
            Update::Started {
                user,
                payload,
                locale,
            } => {
                self.command(user, Command::Start(payload), locale.as_deref())
                    .await
            }
            Update::Stopped { user } => {
                if let Some(resident) = self.db.max().user_of(user).await? {
                    self.unlinked(resident, &Self::client(user), "the bot was stopped in MAX")
                        .await?;
                }
                Ok(())
            }
            Update::Message { user, text, locale } => {
                self.command(user, Command::parse(&text), locale.as_deref()).await
            }
            Update::Callback {
                user,
                id,
                payload,
                locale,
            } => {
                if let Err(e) = max.answer(&id, "").await {
                    tracing::warn!(error = %e, "a MAX button press was not answered");
                }
                self.command(user, Command::parse(&payload), locale.as_deref())
                    .await
            }
            Update::Other => Ok(()),
        }
    }

    /// Writes to `max_user`; a failure is logged, not returned (what was
    /// done stays done).
    async fn reply(&self, max_user: i64, text: &str, buttons: &[Button]) -> Result<(), Error> {
        if let Some(max) = &self.max
            && let Err(e) = max.send(max_user, text, buttons).await
        {
            tracing::warn!(error = %e, max_user, "a MAX answer was not sent");
        }
        Ok(())
    }

    async fn command(&self, max_user: i64, command: Command, locale: Option<&str>) -> Result<(), Error> {
        let resident = match self.db.max().user_of(max_user).await? {
            Some(id) => self.db.users().by_id(id).await?.filter(|u| !u.blocked),
            None => None,
        };
        let lang = resident.as_ref().and_then(|u| u.language).or_else(|| {
            locale.map(|l| d::Language::from_tag(l.get(..2).unwrap_or(l)).unwrap_or(d::Language::Ru))
        });
        let tr = kabinet_notify::messages::tr(lang);
        if let Command::Start(Some(code)) = &command {
            return self.link_by_code(max_user, code, tr).await;
        }
        let Some(user) = resident else {
            let org = crate::site::sender_name(&self.db).await?;
            return self.reply(max_user, &say::not_linked(tr, &org), &[]).await;
        };
        let r = match self.resident(user).await? {
            Ok(r) => r,
            Err(_) => {
                let text = say::must_accept(tr, &self.public_url);
                return self.reply(max_user, &text, &[]).await;
            }
        };
        let text = match command {
            Command::Start(_) | Command::Help => say::help(tr),
            Command::Unknown => say::unknown(tr),
            Command::Balance => self.balance(&r, tr).await?,
            Command::Readings => self.meters(&r, tr).await?.0,
            Command::Requests => self.open_requests(&r, tr).await?,
            Command::Unlink => {
                self.unlinked(r.user.id, &Self::client(max_user), "by the bot's command")
                    .await?;
                say::unlinked(tr)
            }
            Command::No => match self.db.max().take_question(max_user).await? {
                Some(_) => say::cancelled(tr),
                None => say::nothing_asked(tr),
            },
            Command::Yes => {
                let now = OffsetDateTime::now_utc();
                let pending = self
                    .db
                    .max()
                    .take_question(max_user)
                    .await?
                    .filter(|q| q.user == r.user.id && q.asked_at + MAX_QUESTION_TTL > now)
                    .and_then(|q| serde_json::from_str::<Pending>(&q.question).ok());
                match pending {
                    Some(p) => return self.submit(max_user, &r, p, true, tr).await,
                    None => say::nothing_asked(tr),
                }
            }
            Command::Reading { n, values } => {
                let (_, listed) = self.meters(&r, tr).await?;
                match n
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| listed.get(i.wrapping_sub(1)))
                {
                    Some((account, meter)) => {
                        let p = Pending {
                            account: account.clone(),
                            meter: meter.0,
                            values,
                        };
                        return self.submit(max_user, &r, p, false, tr).await;
                    }
                    None => say::no_such_meter(tr, &n),
                }
            }
        };
        self.reply(max_user, &text, &[]).await?;
        Ok(())
    }

    /// Links `max_user` to the resident whose code `code` is, if it still
    /// works (audited), and says so.
    async fn link_by_code(&self, max_user: i64, code: &str, tr: kabinet_i18n::Tr) -> Result<(), Error> {
        let now = OffsetDateTime::now_utc();
        let defaults = d::Preferences::kinds_stored(&d::Preferences::max_defaults());
        let tx = self.db.begin().await?;
        let Some(user) = tx.max().take_code(&self.code_hash(code), now).await? else {
            drop(tx);
            return self.reply(max_user, &say::link_refused(tr), &[]).await;
        };
        let before = tx.max().link(user, max_user, &defaults).await?;
        let resident = tx.users().by_id(user).await?.ok_or(Error::NotFound)?;
        let client = Self::client(max_user);
        if let Some(other) = before {
            tx.audit()
                .record(
                    &client.entry(
                        d::AuditEvent::MaxUnlinked,
                        Some(other),
                        None,
                        format!("MAX user {max_user}, linked to another resident"),
                    ),
                    now,
                )
                .await?;
        }
        tx.audit()
            .record(
                &client.entry(
                    d::AuditEvent::MaxLinked,
                    Some(user),
                    Some(resident.account_id),
                    format!("MAX user {max_user}"),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        let org = crate::site::sender_name(&self.db).await?;
        let tr = kabinet_notify::messages::tr(resident.language.or(Some(tr.lang)));
        let text = say::linked(tr, &org, &resident.account_number.to_string());
        self.reply(max_user, &text, &[]).await?;
        Ok(())
    }

    /// The resident acting in the chat, or the step they must take in the
    /// portal first.
    async fn resident(&self, user: d::ResidentUser) -> Result<Result<Resident, crate::auth::Step>, Error> {
        let rules = self.db.documents(d::Document::Rules).current().await?;
        let consent = self.db.documents(d::Document::Consent).current().await?;
        Ok(Resident::in_chat(
            user,
            rules.map(|v| v.version),
            consent.map(|v| v.version),
            OffsetDateTime::now_utc(),
        ))
    }

    async fn balance(&self, r: &Resident, tr: kabinet_i18n::Tr) -> Result<String, Error> {
        let scope = self.accounts.scope(r, None).await?;
        let mut lines = Vec::new();
        for linked in &scope.linked {
            let number = linked.account.number.to_string();
            let o = self.accounts.overview(r, Some(&number)).await?;
            lines.push(say::balance(
                tr,
                &number,
                &o.account.premises.full_address(),
                o.account.balance,
                o.current.as_ref().map(|c| c.invoice.due_date),
            ));
        }
        Ok(lines.join("\n"))
    }

    /// The window and the meters that take readings, numbered across the
    /// resident's accounts (the numbers a reading is written with), and
    /// what each number stands for.
    async fn meters(
        &self,
        r: &Resident,
        tr: kabinet_i18n::Tr,
    ) -> Result<(String, Vec<(String, d::MeterId)>), Error> {
        let scope = self.accounts.scope(r, None).await?;
        let mut windows: Vec<String> = Vec::new();
        let mut lines = Vec::new();
        let mut listed = Vec::new();
        for linked in &scope.linked {
            let number = linked.account.number.to_string();
            let view = self.readings.meters(r, Some(&number)).await?;
            let window = say::window(tr, view.admission);
            if !windows.contains(&window) {
                windows.push(window);
            }
            for m in view.meters.iter().filter(|m| m.closed.is_none()) {
                listed.push((number.clone(), m.meter.id));
                let last: Vec<Option<d::ReadingValue>> = m
                    .zones
                    .iter()
                    .map(|z| z.submitted.or(z.last).map(|s| s.value))
                    .collect();
                lines.push(say::meter(tr, listed.len(), &number, &m.meter, &last));
            }
        }
        let text = if listed.is_empty() {
            format!("{}\n{}", windows.join("\n"), say::no_meters(tr))
        } else {
            format!(
                "{}\n\n{}\n\n{}",
                windows.join("\n"),
                lines.join("\n"),
                say::readings_how(tr)
            )
        };
        Ok((text, listed))
    }

    /// Hands in `p` as the meters page does; an unusual value not yet
    /// `confirmed` is asked about (kept as the chat's question).
    async fn submit(
        &self,
        max_user: i64,
        r: &Resident,
        p: Pending,
        confirmed: bool,
        tr: kabinet_i18n::Tr,
    ) -> Result<(), Error> {
        let input = crate::readings::MeterInput {
            meter: d::MeterId(p.meter),
            values: p.values.clone(),
            confirmed,
        };
        let client = Self::client(max_user);
        let text = match self
            .readings
            .submit(r, Some(&p.account), std::slice::from_ref(&input), &client)
            .await
        {
            Ok(done) => {
                let lines: Vec<(d::Meter, d::ReadingValue)> =
                    done.stored.iter().map(|s| (s.meter.clone(), s.value)).collect();
                say::readings_saved(tr, &done.account.to_string(), &tr.month(done.period), &lines)
            }
            Err(Error::Readings(refused)) => {
                let meters: Vec<d::Meter> = refused.view.meters.iter().map(|m| m.meter.clone()).collect();
                let texts: Vec<String> = refused
                    .issues
                    .iter()
                    .map(|i| kabinet_i18n::readings::issue_text(&tr, i, &meters))
                    .collect();
                let only_cautions = refused
                    .issues
                    .iter()
                    .all(|i| matches!(i, d::readings::Issue::Confirm { .. }));
                if only_cautions && !confirmed {
                    let question = serde_json::to_string(&p).map_err(|e| Error::Internal(e.to_string()))?;
                    self.db
                        .max()
                        .ask(max_user, r.user.id, &question, OffsetDateTime::now_utc())
                        .await?;
                    let (yes, no) = say::yes_no(tr);
                    let buttons = [
                        Button {
                            text: yes,
                            payload: "yes".into(),
                        },
                        Button {
                            text: no,
                            payload: "no".into(),
                        },
                    ];
                    return self
                        .reply(max_user, &say::readings_confirm(tr, &texts), &buttons)
                        .await;
                }
                say::readings_refused(tr, &texts)
            }
            Err(Error::TooManyRequests(why)) => say::refused(tr, &tr.text(&why)),
            Err(Error::Invalid(errors)) => {
                let why: Vec<String> = errors.iter().map(|(_, t)| tr.text(t)).collect();
                say::refused(tr, &why.join(" "))
            }
            Err(Error::NotFound) => say::no_such_meter(tr, &p.meter.to_string()),
            Err(e) => return Err(e),
        };
        self.reply(max_user, &text, &[]).await?;
        Ok(())
    }

    async fn open_requests(&self, r: &Resident, tr: kabinet_i18n::Tr) -> Result<String, Error> {
        let page = self.requests.list(r, 1).await?;
        let lines: Vec<String> = page
            .items
            .iter()
            .filter(|q| q.status.is_open())
            .map(|q| {
                say::request(
                    tr,
                    &q.id.0.to_string(),
                    self.clock.local(q.created_at).date(),
                    &q.category_name,
                    &tr.t(&format!("request-status-{}", q.status.as_str())),
                )
            })
            .collect();
        Ok(if lines.is_empty() {
            say::no_requests(tr)
        } else {
            lines.join("\n")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Command;

    #[test]
    fn commands_are_read_in_either_language_and_readings_by_number() {
        assert_eq!(Command::parse("/balance"), Command::Balance);
        assert_eq!(Command::parse(" Баланс "), Command::Balance);
        assert_eq!(Command::parse("/readings@kabinet_bot"), Command::Readings);
        assert_eq!(Command::parse("/start abc"), Command::Start(Some("abc".into())));
        assert_eq!(Command::parse("да"), Command::Yes);
        assert_eq!(
            Command::parse("2 123,45 67"),
            Command::Reading {
                n: "2".into(),
                values: vec!["123,45".into(), "67".into()]
            }
        );
        assert_eq!(Command::parse("2"), Command::Unknown);
        assert_eq!(Command::parse("2 1 2 3 4"), Command::Unknown);
        assert_eq!(Command::parse(""), Command::Unknown);
        assert_eq!(Command::parse("hello"), Command::Unknown);
    }
}
