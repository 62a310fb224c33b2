//! The outbox worker against a real database: delivery into files, failures
//! retried later with the error kept, and giving up after the last attempt.
#![allow(clippy::unwrap_used, missing_docs)]

use kabinet_db::Repos;
use kabinet_domain::{Email, EmailAddress, OutboxStatus};
use kabinet_notify::{MailConfig, Mailer, SmtpTls, worker};
use kabinet_testkit::db_tests;
use time::OffsetDateTime;

fn mail(to: &str) -> Email {
    Email {
        to: EmailAddress::parse(to).unwrap(),
        subject: "Проверка".into(),
        text: "Текст письма".into(),
        html: "<p>Текст письма</p>".into(),
    }
}

db_tests! {
    async fn messages_are_delivered_once_into_files(t: &TestDb) {
        let dir = std::env::temp_dir().join(format!("kabinet_mail_{}", fastrand_suffix()));
        let mailer = Mailer::new(&MailConfig::Files { dir: dir.clone(), from: "noreply@example.ru".into() }).unwrap();
        t.db.outbox().queue(&mail("a@example.ru"), OffsetDateTime::now_utc()).await.unwrap();
        t.db.outbox().queue(&mail("b@example.ru"), OffsetDateTime::now_utc()).await.unwrap();
        let pass = worker::deliver_due(&t.db, &mailer).await.unwrap();
        assert_eq!((pass.sent, pass.failed), (2, 0));
        // Nothing is sent twice.
        assert_eq!(worker::deliver_due(&t.db, &mailer).await.unwrap().sent, 0);
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 2);
        let sent = t.db.outbox().messages(Some(OutboxStatus::Sent), 10).await.unwrap();
        assert_eq!(sent.len(), 2);
        assert!(sent.iter().all(|m| m.attempts == 1));
        let _ = std::fs::remove_dir_all(dir);
    }

    async fn a_failing_server_is_retried_then_given_up(t: &TestDb) {
        // A port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mailer = Mailer::new(&MailConfig::Smtp {
            host: "127.0.0.1".into(), port, tls: SmtpTls::None, username: None, password: None,
            from: "noreply@example.ru".into(),
        }).unwrap();
        t.db.outbox().queue(&mail("a@example.ru"), OffsetDateTime::now_utc()).await.unwrap();
        let pass = worker::deliver_due(&t.db, &mailer).await.unwrap();
        assert_eq!((pass.sent, pass.failed), (0, 1));
        let m = t.db.outbox().messages(None, 10).await.unwrap().pop().unwrap();
        assert_eq!(m.status, OutboxStatus::Pending);
        assert_eq!(m.attempts, 1);
        assert!(!m.last_error.is_empty(), "the error is kept");
        assert!(m.next_attempt_at > OffsetDateTime::now_utc(), "retried later, not now");
        // Not due yet: the next pass leaves it alone.
        assert_eq!(worker::deliver_due(&t.db, &mailer).await.unwrap().failed, 0);
        // The last allowed attempt gives up.
        for _ in 1..worker::MAX_ATTEMPTS {
            t.db.outbox().attempt_failed(m.id, "still down", Some(OffsetDateTime::now_utc() - time::Duration::seconds(1))).await.unwrap();
        }
        let m = t.db.outbox().messages(None, 10).await.unwrap().pop().unwrap();
        assert_eq!(m.attempts, worker::MAX_ATTEMPTS);
        t.db.outbox().attempt_failed(m.id, "still down", None).await.unwrap();
        let failed = t.db.outbox().messages(Some(OutboxStatus::Failed), 10).await.unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].last_error, "still down");
    }
}

fn fastrand_suffix() -> String {
    format!(
        "{}_{}",
        std::process::id(),
        OffsetDateTime::now_utc().unix_timestamp_nanos()
    )
}
