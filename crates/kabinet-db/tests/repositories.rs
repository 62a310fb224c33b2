//! Repository queries and bulk writes, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, missing_docs)]

use kabinet_db::Repos;
use kabinet_db::bulk::Batch;
use kabinet_demo::{DemoOptions, generate};
use kabinet_domain::*;
use kabinet_testkit::{TestDb, db_tests};
use std::collections::HashMap;
use time::macros::date;

const TODAY: time::Date = date!(2026 - 11 - 24);

fn options(accounts: u32, months: u32) -> DemoOptions {
    let mut o = DemoOptions::new(TODAY);
    o.accounts = accounts;
    o.months = months;
    o.batch_accounts = 7;
    o
}

async fn demo(t: &TestDb, accounts: u32, months: u32) {
    generate(&t.db, &options(accounts, months), |_, _| {})
        .await
        .unwrap();
}

struct Sink(usize);

impl kabinet_db::export::ExportSink<kabinet_db::export::ExportedReading> for Sink {
    fn row(&mut self, _: kabinet_db::export::ExportedReading) -> Result<(), String> {
        self.0 += 1;
        Ok(())
    }
    fn finish(&mut self) -> Result<(), String> {
        Ok(())
    }
}

fn portal(meter: MeterId, zone: u8, value: i64, period: Period) -> kabinet_db::meters::PortalReading {
    kabinet_db::meters::PortalReading {
        meter,
        zone,
        value,
        // A period's readings are handed in on its own days.
        taken_on: period.day(20),
        period,
        submitted_at: time::macros::datetime!(2026-12-20 09:00 UTC),
        user: UserId(1),
        ip: "192.0.2.1".into(),
    }
}

db_tests! {
    async fn portal_readings_replace_until_exported_and_never_half(t: &TestDb) {
        demo(t, 2, 2).await;
        let db = &t.db;
        let meters = db.meters().of_account(AccountId(1)).await.unwrap();
        let (a, b) = (meters[0].id, meters[1].id);
        let dec = Period::new(2026, 12).unwrap();
        let value = |m: MeterId| async move {
            db.meters().recorded(&[m]).await.unwrap().into_iter().filter(|r| r.period == Some(dec)).map(|r| r.reading.value).collect::<Vec<_>>()
        };
        assert!(db.meters().store(&[portal(a, 1, 100, dec), portal(b, 1, 200, dec)]).await.unwrap());
        assert!(db.meters().store(&[portal(a, 1, 101, dec)]).await.unwrap(), "replaced");
        assert_eq!((value(a).await, value(b).await), (vec![101], vec![200]));
        // Export marks both; then a submission that touches an exported row
        // reports it, and the caller's rollback keeps everything as it was.
        let run = db.exchange().start_run("export", "readings", "t.csv", "test").await.unwrap();
        let mut sink = Sink(0);
        db.exports().export_readings(run, kabinet_db::export::ExportFilter::default(), &mut sink).await.unwrap();
        assert_eq!(sink.0, 2);
        let tx = db.begin().await.unwrap();
        let next = Period::new(2027, 1).unwrap();
        let stored = tx.meters().store(&[portal(a, 1, 102, next), portal(b, 1, 202, dec)]).await.unwrap();
        assert!(!stored, "b's December row was exported");
        drop(tx);
        assert_eq!((value(a).await, value(b).await), (vec![101], vec![200]));
        assert!(db.meters().recorded(&[a]).await.unwrap().iter().all(|r| r.period != Some(next)), "rolled back");
        let (found, readings) = db.meters().with_readings(AccountId(1), &[a, b]).await.unwrap();
        assert_eq!(found.iter().map(|m| m.id).collect::<Vec<_>>(), vec![a, b]);
        assert!(readings.iter().any(|r| r.reading.meter_id == b && r.exported && r.period == Some(dec)));
        // Another account's meter is not found through this account.
        let theirs = db.meters().of_account(AccountId(2)).await.unwrap()[0].id;
        assert!(db.meters().with_readings(AccountId(1), &[theirs]).await.unwrap().0.is_empty());
    }

    async fn demo_invoices_add_up(t: &TestDb) {
        demo(t, 25, 4).await;
        let db = &t.db;
        let periods: Vec<Period> = db.organization().billing_periods().await.unwrap().iter().map(|p| p.period).collect();
        assert_eq!(periods.len(), 4);
        assert_eq!(*periods.last().unwrap(), Period::new(2026, 10).unwrap());
        let mut debtors = 0;
        for id in 1..=25 {
            let account = AccountId(id);
            let invoices = db.billing().invoices(account, 1000).await.unwrap();
            assert_eq!(invoices.len(), 4, "one invoice a period");
            let lines = db.billing().charges(account, periods[0], periods[3]).await.unwrap();
            assert!(lines.len() >= 4 * 8, "8–11 services a month, got {}", lines.len());
            let payments = db.payments().newest(account, 1000).await.unwrap();
            let mut prev_total: Option<Kopecks> = None;
            for inv in invoices.iter().rev() {
                assert!(inv.is_consistent(), "{inv:?}");
                let charged: Kopecks = lines.iter().filter(|l| l.charge.period == inv.period).map(|l| l.charge.total).sum();
                assert_eq!(inv.charged, charged, "invoice = sum of its charges");
                let paid: Kopecks = payments
                    .iter()
                    .filter(|p| Period::containing(p.paid_at.date()) == inv.period)
                    .map(|p| p.amount)
                    .sum();
                assert_eq!(inv.paid, paid, "invoice counts the period's payments");
                if let Some(prev) = prev_total {
                    assert_eq!(inv.opening_balance, prev, "opening = previous total");
                }
                prev_total = Some(inv.total_due);
            }
            for l in &lines {
                let c = &l.charge;
                assert_eq!(c.total, c.charged + c.recalculation - c.benefits);
                assert_eq!(c.account_id, account);
            }
            if invoices[0].total_due.get() > 0 {
                debtors += 1;
            }
        }
        assert!(debtors > 0, "some accounts owe money");
    }

    async fn readings_are_monotone_and_scoped(t: &TestDb) {
        demo(t, 12, 6).await;
        let db = &t.db;
        let mut meters_total = 0;
        for id in 1..=12 {
            let meters = db.meters().of_account(AccountId(id)).await.unwrap();
            assert!((1..=4).contains(&meters.len()), "1–4 meters, got {}", meters.len());
            meters_total += meters.len();
            for m in &meters {
                let readings = db.meters().readings(AccountId(id), m.id).await.unwrap();
                let mut by_zone: HashMap<u8, Vec<&Reading>> = HashMap::new();
                for r in &readings {
                    assert!(m.capacity.reading(r.value).is_some(), "reading fits the capacity");
                    by_zone.entry(r.zone).or_default().push(r);
                }
                assert_eq!(by_zone.len(), usize::from(m.tariffs));
                for zone in by_zone.values() {
                    // newest first: values never grow going back
                    for w in zone.windows(2) {
                        assert!(w[0].taken_on > w[1].taken_on);
                        assert!(w[0].value >= w[1].value, "monotone: {:?}", w);
                    }
                }
                // Another account's id does not reveal this meter's readings.
                let other = AccountId(if id == 1 { 2 } else { 1 });
                assert!(db.meters().readings(other, m.id).await.unwrap().is_empty());
            }
        }
        assert!(meters_total >= 12);
    }

    async fn the_one_statement_overview_matches_the_two_statement_one(t: &TestDb) {
        demo(t, 40, 3).await;
        let db = &t.db;
        let clock = OrgClock::default();
        let newest = Period::new(2026, 10).unwrap();
        let mut checked = 0;
        let mut paid_since = 0;
        for id in 1..=40 {
            let base = db.overview().of_account(AccountId(id), 12, clock).await.unwrap().unwrap();
            // The newest period (one statement), an older one as a server
            // read before an import, and a newer one as for an account whose
            // invoices stopped: the same overview each time.
            for latest in [newest, newest.prev(), newest.next()] {
                let before = db.statements();
                let o = db
                    .overview()
                    .with_account(base.account.clone(), base.premises.clone(), 12, clock, Some(latest))
                    .await
                    .unwrap();
                let statements = db.statements() - before;
                assert_eq!(o, base, "account {id}, latest {latest}");
                if latest == newest || latest == newest.prev() {
                    assert_eq!(statements, 1, "account {id}, latest {latest}: one statement");
                } else {
                    assert_eq!(statements, 2, "account {id}: the payments read again");
                }
            }
            checked += 1;
            paid_since += usize::from(base.paid_since_invoice != Kopecks::ZERO);
        }
        assert_eq!(checked, 40);
        // The demo pays some accounts after their newest invoice: those
        // payments are what the one statement must not lose.
        assert!(paid_since > 0, "no account paid since its invoice");
    }

    async fn overview_balance_and_lookup(t: &TestDb) {
        demo(t, 40, 3).await;
        let db = &t.db;
        let number = AccountNumber::parse(" 7100000017 ").unwrap();
        let account = db.accounts().by_number(&number).await.unwrap().expect("account by number");
        assert_eq!(account.id, AccountId(17));
        assert!(db.accounts().by_number(&AccountNumber::parse("NOPE").unwrap()).await.unwrap().is_none());
        let before = db.statements();
        let o = db.overview().of_account(account.id, 2, OrgClock::default()).await.unwrap().unwrap();
        assert_eq!(db.statements() - before, 3, "the overview is three queries");
        let inv = o.current_invoice().cloned().unwrap();
        let all = db.billing().invoices(account.id, 100).await.unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(o.recent_invoices, all[..2].to_vec(), "the newest, newest first");
        assert_eq!(o.last_payment, db.payments().newest(account.id, 1).await.unwrap().pop());
        assert_eq!(inv.period, Period::new(2026, 10).unwrap());
        let since = db.payments().paid_since(account.id, date!(2026 - 11 - 01), OrgClock::default()).await.unwrap();
        assert_eq!(o.paid_since_invoice, since);
        assert_eq!(o.balance, inv.total_due - since);
        assert!(o.premises.full_address().contains("кв. 17"));
        assert!(db.overview().of_account(AccountId(999), 12, OrgClock::default()).await.unwrap().is_none());
        // Someone paid in November already, so their balance differs from the invoice.
        let mut any_paid = false;
        for id in 1..=40 {
            let o = db.overview().of_account(AccountId(id), 12, OrgClock::default()).await.unwrap().unwrap();
            assert_eq!(o.last_payment, db.payments().newest(AccountId(id), 1).await.unwrap().pop());
            if o.paid_since_invoice.get() > 0 {
                any_paid = true;
                assert_eq!(o.last_payment.unwrap().paid_at.date().month(), time::Month::November);
            }
        }
        assert!(any_paid);
    }

    async fn charges_range_is_filtered_and_ordered(t: &TestDb) {
        demo(t, 5, 6).await;
        let db = &t.db;
        let from = Period::new(2026, 8).unwrap();
        let to = Period::new(2026, 9).unwrap();
        let lines = db.billing().charges(AccountId(3), from, to).await.unwrap();
        assert!(!lines.is_empty());
        assert!(lines.iter().all(|l| l.charge.account_id == AccountId(3)));
        assert!(lines.iter().all(|l| l.charge.period >= from && l.charge.period <= to));
        let keys: Vec<_> = lines.iter().map(|l| (l.charge.period, l.sort_order)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(lines.iter().any(|l| l.service_name == "Холодное водоснабжение"));
        // Heating only in the heating season.
        assert!(!lines.iter().any(|l| l.service_code == "OTOP"));
        let oct = Period::new(2026, 10).unwrap();
        assert!(db.billing().charges(AccountId(3), oct, oct).await.unwrap().iter().any(|l| l.service_code == "OTOP"));
        let payments = db.payments().newest(AccountId(3), 2).await.unwrap();
        assert!(payments.len() <= 2);
        if payments.len() == 2 {
            assert!(payments[0].paid_at >= payments[1].paid_at);
        }
    }

    async fn rerun_adds_nothing_and_resume_matches_one_run(t: &TestDb) {
        demo(t, 10, 2).await;
        let before = t.db.bulk().table_counts().await.unwrap();
        let report = generate(&t.db, &options(10, 2), |_, _| {}).await.unwrap();
        assert_eq!(report.created_accounts, 0);
        assert_eq!(t.db.bulk().table_counts().await.unwrap(), before, "re-running duplicates nothing");
        // An interrupted run with concurrent writers can leave a later batch
        // written and an earlier one missing: accounts 15..=16 exist, 11..=14 not.
        let plan = kabinet_demo::Plan::new(2026, 2, TODAY, 5, 15);
        t.db.bulk().insert_batch(&plan.batch(15..=16)).await.unwrap();
        // Continuing to 18 accounts fills the gap and gives the same rows as one run.
        let report = generate(&t.db, &options(18, 2), |_, _| {}).await.unwrap();
        assert_eq!((report.existing_accounts, report.created_accounts), (12, 6));
        let other = TestDb::sqlite().await;
        generate(&other.db, &options(18, 2), |_, _| {}).await.unwrap();
        assert_eq!(t.db.bulk().table_counts().await.unwrap(), other.db.bulk().table_counts().await.unwrap());
        for id in [1, 10, 11, 14, 16, 18] {
            let a = t.db.billing().invoices(AccountId(id), 100).await.unwrap();
            let b = other.db.billing().invoices(AccountId(id), 100).await.unwrap();
            assert_eq!(a, b, "deterministic data for account {id}");
        }
    }

    async fn demo_refuses_a_real_organization(t: &TestDb) {
        t.db.bulk().insert_organization(&kabinet_demo::catalog::organization(), false).await.unwrap();
        let err = generate(&t.db, &options(3, 1), |_, _| {}).await.unwrap_err();
        assert!(matches!(err, kabinet_demo::DemoError::NotDemoDatabase), "{err}");
        assert_eq!(t.db.accounts().count().await.unwrap(), 0);
    }

    async fn a_failing_batch_writes_nothing(t: &TestDb) {
        demo(t, 3, 1).await;
        let before = t.db.bulk().table_counts().await.unwrap();
        let plan = kabinet_demo::Plan::new(2026, 1, TODAY, 5, 15);
        let mut batch: Batch = plan.batch(4..=5);
        // The same external payment id twice breaks the unique key at the very end.
        let mut dup = batch.payments.first().cloned().expect("a payment");
        dup.account_id = AccountId(5);
        batch.payments.push(dup);
        assert!(t.db.bulk().insert_batch(&batch).await.is_err());
        assert_eq!(t.db.bulk().table_counts().await.unwrap(), before, "nothing half-written");
        // The same batch without the duplicate goes in.
        batch.payments.pop();
        t.db.bulk().insert_batch(&batch).await.unwrap();
        assert_eq!(t.db.accounts().count().await.unwrap(), 5);
    }

    async fn payments_fall_on_the_organizations_local_day(t: &TestDb) {
        demo(t, 2, 1).await;
        let db = &t.db;
        let account = AccountId(2);
        let moscow = OrgClock::at_offset(time::UtcOffset::from_hms(3, 0, 0).unwrap());
        let vladivostok = OrgClock::at_offset(time::UtcOffset::from_hms(10, 0, 0).unwrap());
        let dec1 = date!(2026 - 12 - 01);
        let before = |c: OrgClock| async move { db.payments().paid_since(account, dec1, c).await.unwrap() };
        let (m0, v0, u0) = (before(moscow).await, before(vladivostok).await, before(OrgClock::at_offset(time::UtcOffset::UTC)).await);
        // 00:30 on the 1st in Moscow is 21:30 on the 30th in UTC; 00:30 in
        // Vladivostok is 14:30 on the 30th.
        let pay = |id: &str, at: time::OffsetDateTime, k: i64| Payment {
            account_id: account,
            source: "bank".into(),
            external_id: id.into(),
            amount: Kopecks(k),
            paid_at: at,
            period: None,
            confirmed: true,
        };
        let mut batch = Batch::default();
        batch.payments.push(pay("msk-0030", time::macros::datetime!(2026-11-30 21:30 UTC), 100));
        batch.payments.push(pay("vvo-0030", time::macros::datetime!(2026-11-30 14:30 UTC), 1_000));
        db.bulk().insert_batch(&batch).await.unwrap();
        assert_eq!(before(moscow).await, m0 + Kopecks(100), "Moscow: 00:30 on the 1st is December");
        assert_eq!(before(vladivostok).await, v0 + Kopecks(1_100), "Vladivostok: both are December");
        assert_eq!(before(OrgClock::at_offset(time::UtcOffset::UTC)).await, u0, "in UTC both are still November");
        let dec = db.payments().between(account, dec1, date!(2026 - 12 - 31), moscow).await.unwrap();
        assert!(dec.iter().any(|p| p.external_id == "msk-0030"));
        assert!(!dec.iter().any(|p| p.external_id == "vvo-0030"));
    }

    async fn explicit_ids_size_and_readiness(t: &TestDb) {
        demo(t, 3, 1).await;
        t.db.bulk().insert_payees(&[Payee {
            id: PayeeId(77),
            code: "NEW".into(),
            name: "x".into(),
            inn: "1".into(),
            kpp: "".into(),
            bank_name: "b".into(),
            bic: "1".into(),
            correspondent_account: "1".into(),
            settlement_account: "1".into(),
        }])
        .await
        .unwrap();
        assert!(t.db.organization().payees().await.unwrap().iter().any(|p| p.id == PayeeId(77)));
        assert!(t.db.bulk().size_bytes().await.unwrap() > 0);
        t.db.ping().await.unwrap();
        assert_eq!(t.db.pending_migrations().await.unwrap(), 0);
    }
}
