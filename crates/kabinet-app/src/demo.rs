//! The demo resident and dispatcher: on a demo database, one resident ready
//! to sign in — own password set, Rules accepted, several accounts linked —
//! and a dispatcher with requests to work on, so a newcomer sees the portal
//! and the console in one step.

use crate::Error;
use crate::auth::Hasher;
use crate::auth::registration::Accepted;
use crate::site::{DEMO_EMAIL, DEMO_PASSWORD, DemoLogin};
use kabinet_db::users::NewUser;
use kabinet_db::{Db, Repos};
use kabinet_domain as d;
use time::OffsetDateTime;

/// How many accounts the demo resident has.
pub const DEMO_ACCOUNTS: u64 = 3;

/// Creates the demo resident on a demo database (nothing when it exists or
/// the database is not a demo); returns its sign-in.
pub async fn ensure_demo_resident(db: &Db) -> Result<Option<DemoLogin>, Error> {
    if !db.organization().is_demo().await? {
        return Ok(None);
    }
    let email = d::EmailAddress::parse(DEMO_EMAIL).map_err(|e| Error::Internal(e.to_string()))?;
    let login = |u: &d::ResidentUser| DemoLogin {
        account: u.account_number.to_string(),
        password: DEMO_PASSWORD.to_string(),
    };
    if let Some(u) = db.users().by_email(&email).await? {
        return Ok(Some(login(&u)));
    }
    let accounts = db.accounts().first_open(DEMO_ACCOUNTS).await?;
    let Some(first) = accounts.first() else {
        return Ok(None);
    };
    if db.users().of_account(first).await?.is_some() {
        return Ok(None);
    }
    let hash = Hasher::new().hash(DEMO_PASSWORD).await?;
    let now = OffsetDateTime::now_utc();
    let tx = db.begin().await?;
    let Some(user) = add_resident(&tx, first.id, email, &hash, now).await? else {
        return Ok(None);
    };
    for a in &accounts[1..] {
        tx.links().add(user, a.id, d::LinkedBy::Details, now).await?;
    }
    tx.audit()
        .record(
            &d::AuditEntry::system(d::AuditEvent::Registration, Some(first.id), "demo resident"),
            now,
        )
        .await?;
    tx.commit().await?;
    let u = db.users().by_id(user).await?.ok_or(Error::NotFound)?;
    Ok(Some(login(&u)))
}

/// Adds a resident of `account` who signs in with the password `hash` is
/// of, the Rules in force and the consent accepted; `None` when the account
/// has a resident already.
async fn add_resident(
    tx: &kabinet_db::Tx,
    account: d::AccountId,
    email: d::EmailAddress,
    hash: &str,
    now: OffsetDateTime,
) -> Result<Option<d::UserId>, Error> {
    let accepted = Accepted::in_force(tx).await?;
    let new = NewUser {
        account_id: account,
        email,
        password_hash: hash.to_string(),
        password_expires_at: now,
        rules_version: accepted.rules,
        consent_version: accepted.consent,
        now,
    };
    let Some(user) = tx.users().insert(&new).await? else {
        return Ok(None);
    };
    tx.users().set_password(user, hash, now).await?;
    accepted.record(tx, user, "demo", "", now).await?;
    Ok(Some(user))
}

/// A demo account for load tests: its number and latest invoice total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleAccount {
    /// The account number.
    pub number: d::AccountNumber,
    /// The latest invoice's total due (zero without invoices).
    pub total_due: d::Kopecks,
}

/// `count` accounts of a demo database spread evenly over it (every k-th
/// id), for load tests. Without `residents`: accounts nobody signed up with
/// yet (to register). With it: each gets a resident who signs in with
/// [`DEMO_PASSWORD`] (`bench<id>@example.ru`, made now or by an earlier
/// call); accounts of other residents are passed over. Fewer come back when
/// the demo has fewer such accounts.
pub async fn sample_accounts(db: &Db, count: u64, residents: bool) -> Result<Vec<SampleAccount>, Error> {
    if !db.organization().is_demo().await? {
        return Err(Error::NotFound);
    }
    let total = db.accounts().count().await?;
    let step = (total / count.max(1)).max(1);
    let hash = if residents {
        Hasher::new().hash(DEMO_PASSWORD).await?
    } else {
        String::new()
    };
    let mut sample = Vec::new();
    let mut id = step;
    while sample.len() < usize::try_from(count).unwrap_or(usize::MAX) && id <= total {
        let account = db
            .accounts()
            .by_id(d::AccountId(i64::try_from(id).unwrap_or(i64::MAX)))
            .await?;
        id += step;
        let Some(account) = account else { continue };
        let bench = format!("bench{}@example.ru", account.id);
        match (db.users().of_account(&account).await?, residents) {
            (None, false) => {}
            (Some(_), false) => continue,
            // One made by an earlier run: the demo password works.
            (Some(u), true) if u.email.as_str() == bench => {}
            // Someone else's (the demo's own residents): not ours to use.
            (Some(_), true) => continue,
            (None, true) => {
                let now = OffsetDateTime::now_utc();
                let email = d::EmailAddress::parse(&bench).map_err(|e| Error::Internal(e.to_string()))?;
                let tx = db.begin().await?;
                add_resident(&tx, account.id, email, &hash, now).await?;
                tx.commit().await?;
            }
        }
        let total_due = db
            .billing()
            .latest_invoice(account.id)
            .await?
            .map_or(d::Kopecks::ZERO, |i| i.total_due);
        sample.push(SampleAccount {
            number: account.number,
            total_due,
        });
    }
    Ok(sample)
}

/// The demo dispatcher's login.
pub const DEMO_DISPATCHER: &str = "dispatcher";
/// The demo dispatcher's password.
pub const DEMO_DISPATCHER_PASSWORD: &str = "demo-dispatch-2026";

/// The demo's administrator (the whole office).
pub const DEMO_ADMINISTRATOR: &str = "admin";
/// The demo's accountant (billing import and export, payments).
pub const DEMO_ACCOUNTANT: &str = "accountant";
/// The demo's operator (the office's requests, residents' support).
pub const DEMO_OPERATOR: &str = "support";

/// Adds (once) a demo staff member ready to sign in: the demo password of
/// its own, the second factor enrolled with a secret the demo prints.
async fn demo_member(
    db: &Db,
    secrets: &crate::staff::SecretBox,
    (login, name, role): (&str, &str, d::staff::Role),
) -> Result<DemoDispatcher, Error> {
    let m = match db.staff().by_login(login).await? {
        Some(m) => m,
        None => {
            let now = OffsetDateTime::now_utc();
            let hash = Hasher::new().hash(DEMO_DISPATCHER_PASSWORD).await?;
            let tx = db.begin().await?;
            let m = tx
                .staff()
                .insert(&kabinet_db::staff::NewStaff {
                    login: login.into(),
                    name: name.into(),
                    role,
                    password_hash: hash.clone(),
                    password_expires_at: now,
                    now,
                })
                .await?;
            tx.staff().set_password(m.id, &hash, false, None).await?;
            let secret = match totp_rs::Secret::Raw(crate::auth::secrets::random_bytes::<20>().to_vec())
                .to_encoded()
            {
                totp_rs::Secret::Encoded(s) => s,
                totp_rs::Secret::Raw(_) => return Err(Error::Internal("TOTP secret".into())),
            };
            tx.staff()
                .enrol(m.id, &secrets.seal(&format!("staff:{}", m.id), &secret)?, 1)
                .await?;
            tx.audit()
                .record(
                    &d::AuditEntry::system(d::AuditEvent::StaffChanged, None, format!("demo staff {login}")),
                    now,
                )
                .await?;
            tx.commit().await?;
            db.staff().get(m.id).await?.ok_or(Error::NotFound)?
        }
    };
    Ok(DemoDispatcher {
        login: m.login.clone(),
        password: DEMO_DISPATCHER_PASSWORD.into(),
        totp_secret: m
            .totp_secret
            .as_deref()
            .map(|s| secrets.open(&format!("staff:{}", m.id), s))
            .transpose()?
            .unwrap_or_default(),
    })
}

/// On a demo database: the office's administrator, accountant and operator, ready to
/// sign in like the dispatcher (the same demo password, each with a TOTP
/// secret of their own). Nothing when the database is not a demo.
pub async fn ensure_demo_office(
    db: &Db,
    secrets: &crate::staff::SecretBox,
) -> Result<Vec<DemoDispatcher>, Error> {
    if !db.organization().is_demo().await? {
        return Ok(Vec::new());
    }
    Ok(vec![
        demo_member(
            db,
            secrets,
            (
                DEMO_ADMINISTRATOR,
                "Анна Администраторова",
                d::staff::Role::Administrator,
            ),
        )
        .await?,
        demo_member(
            db,
            secrets,
            (DEMO_ACCOUNTANT, "Борис Бухгалтеров", d::staff::Role::Accountant),
        )
        .await?,
        demo_member(
            db,
            secrets,
            (DEMO_OPERATOR, "Светлана Поддержкина", d::staff::Role::Operator),
        )
        .await?,
    ])
}

/// The demo dispatcher's sign-in: login, password and TOTP secret.
#[derive(Debug, Clone)]
pub struct DemoDispatcher {
    /// Login.
    pub login: String,
    /// Password.
    pub password: String,
    /// The TOTP secret (base32) to add to an authenticator app.
    pub totp_secret: String,
}

/// On a demo database: a dispatcher ready to sign in (own password, second
/// factor enrolled with a secret printed for the newcomer), a colleague to
/// assign to, and requests in every state — emergencies, overdue ones,
/// replies and internal notes: 300 from the demo resident and sixty more
/// residents on a demo of 100 accounts or more, a dozen from the demo
/// resident on a smaller one. Nothing when the database is not a demo or the
/// requests are there already.
pub async fn ensure_demo_requests(
    db: &Db,
    deadlines: d::requests::Deadlines,
    secrets: &crate::staff::SecretBox,
) -> Result<Option<DemoDispatcher>, Error> {
    use d::requests::{EventKind, RequestStatus as S};
    use kabinet_db::requests::{NewRequest, StatusChange};
    if !db.organization().is_demo().await? {
        return Ok(None);
    }
    let hasher = Hasher::new();
    let now = OffsetDateTime::now_utc();
    let fresh = db.staff().by_login(DEMO_DISPATCHER).await?.is_none();
    let login = demo_member(
        db,
        secrets,
        (DEMO_DISPATCHER, "Ольга Диспетчерова", d::staff::Role::Dispatcher),
    )
    .await?;
    if fresh {
        let other_hash = hasher.hash(&crate::auth::secrets::generated_password()).await?;
        let tx = db.begin().await?;
        tx.staff()
            .insert(&kabinet_db::staff::NewStaff {
                login: "operator".into(),
                name: "Иван Операторов".into(),
                role: d::staff::Role::Operator,
                password_hash: other_hash,
                password_expires_at: now + crate::staff::GENERATED_PASSWORD_VALID,
                now,
            })
            .await?;
        tx.commit().await?;
    }
    let dispatcher = db
        .staff()
        .by_login(DEMO_DISPATCHER)
        .await?
        .ok_or(Error::NotFound)?;
    if db.requests().count().await? > 0 {
        return Ok(Some(login));
    }
    let operator = db.staff().by_login("operator").await?.map(|m| m.id);
    // Residents: the demo one and sixty more (accounts after the demo's).
    let mut users = Vec::new();
    if let Some(u) = db
        .users()
        .by_email(&d::EmailAddress::parse(DEMO_EMAIL).map_err(|e| Error::Internal(e.to_string()))?)
        .await?
    {
        users.push(u.id);
    }
    // Sixty more residents on the accounts after the demo resident's, when
    // the demo is big enough to leave accounts free for registering; they
    // sign in with the demo password too.
    let extra = if db.accounts().count().await? >= 100 {
        60
    } else {
        0
    };
    let accounts = db.accounts().first_open(DEMO_ACCOUNTS + extra).await?;
    let hash = hasher.hash(DEMO_PASSWORD).await?;
    // They have accepted the Rules and the consent in force, as the demo
    // resident has.
    for (i, a) in accounts
        .iter()
        .skip(usize::try_from(DEMO_ACCOUNTS).unwrap_or(3))
        .enumerate()
    {
        let email = d::EmailAddress::parse(&format!("resident{}@example.invalid", i + 1))
            .map_err(|e| Error::Internal(e.to_string()))?;
        let tx = db.begin().await?;
        // Their own password, not a one-time one that expired at once.
        if let Some(u) = add_resident(&tx, a.id, email, &hash, now).await? {
            users.push(u);
        }
        tx.commit().await?;
    }
    let categories = db.requests().categories().await?;
    // Texts per category code, so a demo leak is about a leak.
    let texts = |code: &str| -> &'static [&'static str] {
        match code {
            "no_water" => &[
                "Нет горячей воды с утра во всём стояке.",
                "Нет холодной воды в квартире с ночи.",
            ],
            "no_heating" => &[
                "Батареи в квартире еле тёплые, дома +17.",
                "В подъезде холодные батареи со вчерашнего дня.",
            ],
            "no_power" => &[
                "В подъезде не горит свет на третьем этаже.",
                "В квартире пропало электричество, у соседей есть.",
            ],
            "leak" => &[
                "Течёт с потолка в ванной, соседи сверху не открывают.",
                "Капает из трубы отопления в подвале.",
            ],
            "gas" => &["Пахнет газом на лестничной клетке у мусоропровода."],
            "sewer" => &[
                "Засор в канализации на кухне, вода не уходит.",
                "Из канализации в подвале подтекает вода.",
            ],
            "lift" => &[
                "Лифт застревает между этажами, сегодня дважды.",
                "Лифт не работает второй день.",
            ],
            "charges" => &[
                "Прошу пересчитать начисление за отопление за прошлый месяц.",
                "В квитанции начислено за двоих, живу один.",
            ],
            "receipts" => &[
                "Не пришла квитанция за октябрь.",
                "Прошу присылать квитанции только на почту.",
            ],
            "documents" => &[
                "Нужна справка об отсутствии задолженности для банка.",
                "Нужна выписка из лицевого счёта.",
            ],
            "complaint" => &[
                "Во дворе не вывозят мусор уже неделю.",
                "Подъезд не убирают второй месяц.",
            ],
            _ => &[
                "Прошу перезвонить по вопросу замены счётчика.",
                "Как подать показания, если счётчик заменили?",
            ],
        }
    };
    let mut rng = fastrand::Rng::with_seed(2026);
    let tx = db.begin().await?;
    let count = if extra > 0 { 300usize } else { 12 };
    for n in 0..count {
        let Some(&user) = users.get(n % users.len().max(1)) else {
            break;
        };
        let Some(linked) = tx.links().of_user(user).await?.into_iter().next() else {
            continue;
        };
        let Some(cat) = categories.get(rng.usize(..categories.len().max(1))).cloned() else {
            break;
        };
        // Untaken requests are mostly recent (a few are overdue); the rest
        // spread over a month.
        let residents = users.len().max(1);
        let shape = if n % residents == 0 {
            [0, 2, 4, 5, 8][(n / residents) % 5]
        } else {
            n % 10
        };
        let untaken = shape < 2;
        let span = if untaken && n % 3 != 0 {
            60 * 48
        } else {
            60 * 24 * 30
        };
        let filed = now - time::Duration::minutes(rng.i64(10..span));
        let choices = texts(&cat.code);
        let text = choices[rng.usize(..choices.len())].to_string();
        let id = tx
            .requests()
            .insert(&NewRequest {
                user_id: user,
                account_id: linked.account.id,
                account_number: linked.account.number.to_string(),
                address: linked.premises.full_address(),
                text_norm: d::requests::normalized(&text),
                text,
                phone: "+79120000000".into(),
                visit_time: if rng.bool() {
                    "будни после 18:00".into()
                } else {
                    String::new()
                },
                due_at: deadlines.on_filing(
                    cat.desk,
                    cat.emergency,
                    cat.deadline_hours,
                    filed,
                    d::OrgClock::MOSCOW,
                    &d::workdays::WorkCalendar::built_in(),
                ),
                category: cat,
                now: filed,
            })
            .await?;
        // The path a request took: new, then maybe further.
        let path: &[S] = match shape {
            0 | 1 => &[],
            2 | 3 => &[S::InWork],
            4 => &[S::InWork, S::Done],
            5 | 6 => &[S::InWork, S::Done, S::Closed],
            7 => &[S::Deferred],
            8 => &[S::Declined],
            _ => &[S::Canceled],
        };
        let mut from = S::New;
        let mut at = filed;
        for to in path {
            at += time::Duration::minutes(rng.i64(5..600)).min(now - at);
            let staff = (*to != S::Canceled).then_some(if n % 3 == 0 {
                operator.unwrap_or(dispatcher.id)
            } else {
                dispatcher.id
            });
            let until = (*to == S::Deferred).then(|| (now + time::Duration::days(rng.i64(3..30))).date());
            tx.requests()
                .change_status(
                    id,
                    &StatusChange {
                        from,
                        to: *to,
                        staff_id: staff,
                        body: if *to == S::Declined { "Вопрос не относится к нашей организации — обратитесь в ресурсоснабжающую компанию.".into() } else { String::new() },
                        due_at: until.map(|u| u.with_time(time::Time::MIDNIGHT).assume_utc()),
                        deferred_until: until,
                        rating: (*to == S::Closed).then_some(5),
                        reopened: false,
                        assign_to: (*to == S::InWork).then_some(staff).flatten(),
                        now: at,
                    },
                )
                .await?;
            if *to == S::InWork {
                tx.requests()
                    .add_event(
                        id,
                        EventKind::Reply,
                        staff,
                        None,
                        None,
                        "Заявка принята, мастер придёт сегодня до 18:00.",
                        at,
                    )
                    .await?;
                tx.requests()
                    .add_event(
                        id,
                        EventKind::Note,
                        staff,
                        None,
                        None,
                        "Ключи от подвала у старшего по дому, кв. 12.",
                        at,
                    )
                    .await?;
            }
            from = *to;
        }
    }
    tx.commit().await?;
    Ok(Some(login))
}
