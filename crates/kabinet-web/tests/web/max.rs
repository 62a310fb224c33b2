//! The MAX bot on both databases, against the local fake of the MAX Bot
//! API: a resident links MAX with the one-time link from Settings (used
//! once), the bot answers the balance, the meters and the requests, takes
//! a reading written in the chat — asking first when the value is unusual,
//! as the page does, and auditing it — sends the resident's notifications
//! through the API's refusals, and is unlinked from Settings, by its
//! command, or when the resident stops it. The webhook takes updates only
//! with the subscription's secret.

use crate::common::{Browser, TestApp, between, token};
use crate::office::{demo_package_at, import_through_office};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use kabinet_db::Repos;
use kabinet_domain::notify::Channel;
use kabinet_domain::staff::Role;
use kabinet_domain::{AccountNumber, NotificationKind, OutboxStatus, Preferences};
use kabinet_max::fake::FakeMax;
use kabinet_testkit::db_tests;
use std::time::{Duration as StdDuration, Instant};
use time::{Duration, OffsetDateTime};

const TOKEN: &str = "max-bot-token";
const BOT: &str = "uk_sever_bot";
const ME: i64 = 7001;

fn max(url: &str) -> impl FnOnce(&mut kabinet_web::Settings) + use<> {
    let url = url.to_string();
    move |s| {
        s.app.notify.quiet_hours = None;
        s.app.notify.max_per_second = 1000;
        s.app.notify.max = Some(kabinet_max::MaxConfig {
            base_url: url,
            token: TOKEN.into(),
            bot_name: BOT.into(),
        });
    }
}

/// Takes the updates waiting and answers them; the bot's newest words to
/// `user` after that.
async fn answer(app: &TestApp, fake: &FakeMax, user: i64) -> kabinet_max::fake::FakeMessage {
    let before = fake.messages_to(user).len();
    app.state.app.max.poll(StdDuration::ZERO).await.unwrap();
    let now = fake.messages_to(user);
    assert!(now.len() > before, "the bot said nothing");
    now.last().cloned().unwrap()
}

async fn say(app: &TestApp, fake: &FakeMax, user: i64, text: &str) -> kabinet_max::fake::FakeMessage {
    fake.say(user, text);
    answer(app, fake, user).await
}

/// A new link from Settings: its code.
async fn link_code(b: &mut Browser) -> String {
    let r = b.submit("/settings", "/settings/max/link", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let url = format!("https://max.ru/{BOT}?start=");
    assert!(r.body.contains(&url), "{}", r.body);
    between(&r.body, &url, "\"").to_string()
}

/// The number in the chat and the last value (whole units) of the first
/// one-zone meter of the `/readings` list.
fn first_single(list: &str) -> (String, i64) {
    for line in list.lines() {
        let Some((n, rest)) = line.split_once(". ") else {
            continue;
        };
        if !n.chars().all(|c| c.is_ascii_digit()) || rest.contains(" / ") {
            continue;
        }
        let last = between(rest, "последнее: ", " ");
        let whole: String = last
            .split(',')
            .next()
            .unwrap()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        if let Ok(v) = whole.parse() {
            return (n.to_string(), v);
        }
    }
    panic!("no one-zone meter with a value in {list}");
}

db_tests! {
    async fn a_resident_links_max_and_the_bot_answers_takes_readings_and_notifies(t: &TestDb) {
        let fake = FakeMax::start(TOKEN, BOT).await.unwrap();
        let app = TestApp::builder(&t.db).configure(max(fake.url())).build().await;
        let (mut acc, _, _) = app.staff("books", Role::Accountant).await;
        let today = OffsetDateTime::now_utc().date();
        import_through_office(&app, &mut acc, &demo_package_at(2, today - Duration::days(31), 1)).await;
        let ids: Vec<i64> = app.db().accounts().first_open(2).await.unwrap().into_iter().map(|a| a.id.0).collect();
        let (mut b, number) = app.resident(ids[0]).await;
        let me = app.db().users().by_account_number(&AccountNumber::parse(&number).unwrap()).await.unwrap().unwrap();

        // Before linking the bot only says how to.
        let page = b.get("/settings").await;
        assert!(page.body.contains("Привязать MAX") && page.body.contains(&format!("@{BOT}")), "{}", page.body);
        assert!(!page.body.contains("name=\"max_new_invoice\" value=\"on\" aria-labelledby=\"nk-new_invoice ch-max\" checked"));
        let hello = say(&app, &fake, ME, "/balance").await;
        assert!(hello.text.contains("Привязать MAX"), "{}", hello.text);

        // The link starts the bot with its code: linked, once.
        let code = link_code(&mut b).await;
        fake.start_bot(ME, Some(&code), "ru");
        let linked = answer(&app, &fake, ME).await;
        assert!(linked.text.contains("MAX привязан") && linked.text.contains(&number), "{}", linked.text);
        let prefs = app.db().users().preferences(me.id).await.unwrap().unwrap();
        assert!(prefs.max_linked);
        assert_eq!(prefs.max_notifications, Preferences::max_defaults());
        fake.start_bot(ME + 1, Some(&code), "ru");
        let again = answer(&app, &fake, ME + 1).await;
        assert!(again.text.contains("устарела"), "{}", again.text);
        assert_eq!(app.db().max().user_of(ME + 1).await.unwrap(), None);
        let audit = app.db().audit().of_user(me.id, 50).await.unwrap();
        assert!(audit.iter().any(|a| a.event == "max_linked" && a.details.contains(&ME.to_string())), "{audit:?}");
        let page = b.get("/settings").await;
        assert!(page.body.contains("Отвязать MAX"), "{}", page.body);

        // Balance, requests, something not understood.
        let balance = say(&app, &fake, ME, "/balance").await;
        assert!(balance.text.contains(&number) && balance.text.contains('₽'), "{}", balance.text);
        let requests = say(&app, &fake, ME, "заявки").await;
        assert!(requests.text.contains("Открытых заявок нет"), "{}", requests.text);
        let unknown = say(&app, &fake, ME, "как дела?").await;
        assert!(unknown.text.contains("/readings"), "{}", unknown.text);

        // A reading written in the chat goes in as from the page.
        let list = say(&app, &fake, ME, "/readings").await;
        assert!(list.text.contains("Показания") || list.text.contains("показаний"), "{}", list.text);
        let (n, last) = first_single(&list.text);
        let taken = say(&app, &fake, ME, &format!("{n} {}", last + 1)).await;
        assert!(taken.text.contains("Показания приняты"), "{}", taken.text);
        let given = app.db().meters().given_by(me.id, 10).await.unwrap();
        assert_eq!(given.len(), 1, "{given:?}");
        let audit = app.db().audit().of_user(me.id, 50).await.unwrap();
        assert!(audit.iter().any(|a| a.event == "readings_submitted" && a.user_agent.contains("MAX")), "{audit:?}");
        let meters = b.get("/meters").await;
        assert!(meters.body.contains(&format!("{}", last + 1)), "the Meters page shows it");

        // An unusual value is asked about, with buttons; "no" keeps it out,
        // "yes" sends it.
        let ask = say(&app, &fake, ME, &format!("{n} {}", last + 5000)).await;
        assert!(ask.text.contains("Всё равно передать?"), "{}", ask.text);
        assert_eq!(ask.buttons.iter().map(|b| b.payload.as_str()).collect::<Vec<_>>(), ["yes", "no"]);
        fake.press(ME, "no");
        let no = answer(&app, &fake, ME).await;
        assert!(no.text.contains("не переданы"), "{}", no.text);
        assert_eq!(say(&app, &fake, ME, "да").await.text, "Сейчас нечего подтверждать. Чтобы передать показание, напишите номер счётчика и значение.");
        say(&app, &fake, ME, &format!("{n} {}", last + 5000)).await;
        fake.press(ME, "yes");
        let yes = answer(&app, &fake, ME).await;
        assert!(yes.text.contains("Показания приняты"), "{}", yes.text);
        assert_eq!(fake.answers().len(), 2, "each press answered");
        let lower = say(&app, &fake, ME, &format!("{n} 0")).await;
        assert!(lower.text.contains("не приняты"), "{}", lower.text);
        let none = say(&app, &fake, ME, "99 5").await;
        assert!(none.text.contains("нет в списке"), "{}", none.text);

        // Notifications come to the chat, through a refusal and a retry.
        import_through_office(&app, &mut acc, &demo_package_at(2, today, 2)).await;
        let notify = &app.state.app.notify;
        notify.produce(OffsetDateTime::now_utc()).await.unwrap();
        let waiting = notify.waiting(Channel::Max).await.unwrap();
        assert!(waiting >= 1, "the new invoice at least");
        let chat_before = fake.messages_to(ME).len();
        fake.fail_next(&[503]);
        let now = OffsetDateTime::now_utc();
        let sent = notify.send_max_as_of(Instant::now() + StdDuration::from_secs(30), now).await.unwrap();
        assert_eq!(sent, waiting - 1, "one refused, kept for later");
        let later = now + Duration::hours(1);
        assert_eq!(notify.send_max_as_of(Instant::now() + StdDuration::from_secs(5), later).await.unwrap(), 1);
        assert_eq!(notify.waiting(Channel::Max).await.unwrap(), 0);
        let new: Vec<_> = fake.messages_to(ME)[chat_before..].to_vec();
        assert_eq!(new.len() as u64, waiting, "each once");
        assert_eq!(new.iter().filter(|m| m.text.contains("счёт за")).count(), 1, "{new:?}");
        let rows = app.db().outbox().texts_of_user(me.id, Channel::Max, 50).await.unwrap();
        assert!(rows.iter().all(|m| m.status == OutboxStatus::Sent), "{rows:?}");
        // Not to the other resident, who never linked MAX.
        assert_eq!(rows.len() as u64, waiting);

        // Support sees the MAX messages on the card.
        let (mut op, _, _) = app.staff("help", Role::Operator).await;
        let card = op.get(&format!("/staff/residents/{}", me.id.0)).await;
        assert!(card.body.contains("MAX") && card.body.contains("счёт за"), "{}", card.body);

        // Turning a kind off in the MAX column is honoured.
        let r = b.submit("/settings", "/settings", &[("notify_new_invoice", "on"), ("max_shown", "1"), ("max_payment_received", "on")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let prefs = app.db().users().preferences(me.id).await.unwrap().unwrap();
        assert_eq!(prefs.max_notifications.into_iter().collect::<Vec<_>>(), [NotificationKind::PaymentReceived]);

        // Unlinked by the bot's command; linked again; unlinked by stopping
        // the bot; linked again; unlinked from Settings.
        let bye = say(&app, &fake, ME, "/unlink").await;
        assert!(bye.text.contains("отвязан"), "{}", bye.text);
        assert!(!app.db().users().preferences(me.id).await.unwrap().unwrap().max_linked);
        fake.start_bot(ME, Some(&link_code(&mut b).await), "ru");
        answer(&app, &fake, ME).await;
        fake.stop_bot(ME);
        app.state.app.max.poll(StdDuration::ZERO).await.unwrap();
        assert!(!app.db().users().preferences(me.id).await.unwrap().unwrap().max_linked);
        fake.start_bot(ME, Some(&link_code(&mut b).await), "ru");
        answer(&app, &fake, ME).await;
        let r = b.submit("/settings", "/settings/max/unlink", &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(fake.messages_to(ME).last().unwrap().text.contains("отвязан"));
        assert!(!app.db().users().preferences(me.id).await.unwrap().unwrap().max_linked);
        let audit = app.db().audit().of_user(me.id, 100).await.unwrap();
        assert_eq!(audit.iter().filter(|a| a.event == "max_unlinked").count(), 3, "{audit:?}");
    }

    async fn the_webhook_takes_updates_only_with_the_secret_and_the_api_links(t: &TestDb) {
        let fake = FakeMax::start(TOKEN, BOT).await.unwrap();
        let app = TestApp::builder(&t.db).demo(2, 1).configure(max(fake.url())).build().await;
        let (mut b, number) = app.resident(1).await;
        let bearer = token(&mut b, &number).await;
        let r = b.json("POST", "/api/v1/settings/max/link", Some(&bearer), serde_json::json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let link: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let code = link["code"].as_str().unwrap().to_string();
        assert_eq!(link["url"], format!("https://max.ru/{BOT}?start={code}"));

        let update = serde_json::json!({"update_type": "bot_started", "timestamp": 1, "chat_id": 5,
            "user": {"user_id": ME, "name": "Иван"}, "payload": code, "user_locale": "ru"});
        let post = |secret: Option<&str>| {
            let mut r = Request::builder().method("POST").uri("/max/webhook").header("content-type", "application/json");
            if let Some(s) = secret {
                r = r.header(kabinet_max::SECRET_HEADER, s);
            }
            r.body(Body::from(update.to_string())).unwrap()
        };
        let mut machine = Browser::new(&app);
        assert_eq!(machine.send(post(None)).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(machine.send(post(Some("wrong"))).await.status, StatusCode::UNAUTHORIZED);
        assert!(fake.messages_to(ME).is_empty());
        let secret = app.state.app.max.webhook_secret();
        assert_eq!(machine.send(post(Some(&secret))).await.status, StatusCode::OK);
        assert!(fake.messages_to(ME)[0].text.contains("MAX привязан"));

        let r = b.json("GET", "/api/v1/settings", Some(&bearer), serde_json::json!(null)).await;
        let s: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(s["max_linked"], true, "{}", r.body);
        assert!(s["max_notifications"].as_array().unwrap().iter().any(|k| k == "new_invoice"));
        // A PUT without MAX's choices keeps them.
        let mut body = s.clone();
        body.as_object_mut().unwrap().remove("max_notifications");
        let r = b.json("PUT", "/api/v1/settings", Some(&bearer), body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let kept: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(kept["max_notifications"], s["max_notifications"]);

        let r = b.json("DELETE", "/api/v1/settings/max", Some(&bearer), serde_json::json!(null)).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let r = b.json("GET", "/api/v1/settings", Some(&bearer), serde_json::json!(null)).await;
        assert!(r.body.contains("\"max_linked\":false"), "{}", r.body);

        // Subscribing tells MAX the webhook and its secret.
        app.state.app.max.subscribe().await.unwrap();
        let (url, sent_secret) = fake.subscription().unwrap();
        assert!(url.ends_with("/max/webhook"), "{url}");
        assert_eq!(sent_secret, secret);
    }

    async fn without_max_nothing_of_it_shows(t: &TestDb) {
        let app = TestApp::builder(&t.db).demo(1, 1).build().await;
        let (mut b, number) = app.resident(1).await;
        let page = b.get("/settings").await;
        assert!(!page.body.contains("max-h") && !page.body.contains("ch-max"), "{}", page.body);
        let bearer = token(&mut b, &number).await;
        let r = b.json("POST", "/api/v1/settings/max/link", Some(&bearer), serde_json::json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        let mut machine = Browser::new(&app);
        let r = machine
            .send(Request::builder().method("POST").uri("/max/webhook").header(kabinet_max::SECRET_HEADER, app.state.app.max.webhook_secret()).body(Body::from("{}")).unwrap())
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
}
