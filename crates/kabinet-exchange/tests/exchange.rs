//! Import and export against real databases (SQLite and PostgreSQL).
#![allow(clippy::unwrap_used, missing_docs)]

use kabinet_db::Db;
use kabinet_db::Repos;
use kabinet_db::bulk::Batch;
use kabinet_db::export::{ExportFilter, ExportSink, ExportedReading};
use kabinet_demo::{DemoOptions, generate};
use kabinet_domain::*;
use kabinet_exchange::ImportKind;
use kabinet_exchange::export::{ExportKind, export};
use kabinet_exchange::import::{ImportOptions, import_dir, import_file};
use kabinet_exchange::package::write_demo_package;
use kabinet_exchange::source::{ReadOptions, TextEncoding};
use kabinet_testkit::{TestDb, db_tests};
use std::path::{Path, PathBuf};
use time::macros::{date, datetime};

const TODAY: time::Date = date!(2026 - 11 - 24);

fn demo_options(accounts: u32, months: u32) -> DemoOptions {
    let mut o = DemoOptions::new(TODAY);
    o.accounts = accounts;
    o.months = months;
    o.batch_accounts = 9;
    o
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("kabinet_x_{}_{:x}", std::process::id(), fastrand_u64()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::Instant::now())
}

fn package(accounts: u32, months: u32) -> PathBuf {
    let dir = tempdir();
    write_demo_package(
        &demo_options(accounts, months),
        &dir,
        TextEncoding::Utf8,
        &mut |_, _| {},
    )
    .unwrap();
    dir
}

async fn import_all(db: &Db, dir: &Path) {
    let reports = import_dir(db, dir, &ImportOptions::default(), &mut |_, _, _| {})
        .await
        .unwrap();
    assert_eq!(reports.len(), 8);
    for r in &reports {
        assert!(r.committed, "{:?}: {:?}", r.kind, r.problems);
    }
}

async fn import_text(
    db: &Db,
    kind: ImportKind,
    name: &str,
    bytes: &[u8],
) -> kabinet_exchange::import::ImportReport {
    let dir = tempdir();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let r = import_file(db, kind, &path, &ImportOptions::default(), &mut |_, _| {})
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(dir);
    r
}

/// Everything an account has, keyed by natural keys, for comparing databases.
async fn snapshot(db: &Db, number: &str) -> String {
    let acc = db
        .accounts()
        .by_number(&AccountNumber::parse(number).unwrap())
        .await
        .unwrap()
        .unwrap();
    let premises = db.accounts().premises(acc.premises_id).await.unwrap().unwrap();
    let lines = db
        .billing()
        .charges(
            acc.id,
            Period::new(2000, 1).unwrap(),
            Period::new(2100, 1).unwrap(),
        )
        .await
        .unwrap();
    let charges: Vec<_> = lines
        .iter()
        .map(|l| {
            let mut c = l.charge.clone();
            c.account_id = AccountId(0);
            c.service_id = ServiceId(0);
            (l.service_code.clone(), c)
        })
        .collect();
    let invoices: Vec<_> = db
        .billing()
        .invoices(acc.id, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|mut i| {
            i.account_id = AccountId(0);
            i
        })
        .collect();
    let payments: Vec<_> = db
        .payments()
        .newest(acc.id, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|mut p| {
            p.account_id = AccountId(0);
            p
        })
        .collect();
    let mut meters = Vec::new();
    for m in db.meters().of_account(acc.id).await.unwrap() {
        let readings: Vec<_> = db
            .meters()
            .readings(acc.id, m.id)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.zone, r.value, r.taken_on, r.source, r.submitted_at))
            .collect();
        let mut m = m;
        m.id = MeterId(0);
        m.account_id = AccountId(0);
        meters.push((m, readings));
    }
    meters.sort_by(|a, b| a.0.serial.cmp(&b.0.serial));
    let (mut a, mut p) = (acc.clone(), premises);
    a.id = AccountId(0);
    a.premises_id = PremisesId(0);
    p.id = PremisesId(0);
    format!("{a:?}\n{p:?}\n{charges:?}\n{invoices:?}\n{payments:?}\n{meters:?}")
}

db_tests! {
    async fn a_package_is_loaded_whole_or_not_at_all(t: &TestDb) {
        use kabinet_exchange::import::{PackageMode, import_package, package_in};
        let dir = package(3, 1);
        // The second account's area is broken; its meters then name an
        // account the package does not give, the first's are fine.
        let accounts = std::fs::read_to_string(dir.join("accounts.csv")).unwrap();
        let mut lines: Vec<String> = accounts.lines().map(str::to_string).collect();
        let broken_number = lines[2].split(';').next().unwrap().to_string();
        let mut cells: Vec<String> = lines[2].split(';').map(str::to_string).collect();
        cells[2] = "много".into();
        lines[2] = cells.join(";");
        std::fs::write(dir.join("accounts.csv"), lines.join("\n") + "\n").unwrap();
        let files = package_in(&dir);
        let meters_of_broken = std::fs::read_to_string(dir.join("meters.csv"))
            .unwrap()
            .lines()
            .filter(|l| l.starts_with(&broken_number))
            .count() as u64;
        for mode in [PackageMode::Check, PackageMode::Import] {
            let r = import_package(&t.db, &files, &ImportOptions::default(), mode, &mut |_, _, _| {})
                .await
                .unwrap();
            assert!(!r.committed);
            let by_kind = |k: ImportKind| r.files.iter().find(|f| f.kind == k).unwrap();
            assert_eq!(by_kind(ImportKind::Payees).total_problems, 0);
            assert_eq!(by_kind(ImportKind::Accounts).total_problems, 1);
            assert_eq!(by_kind(ImportKind::Accounts).problems[0].line, 3);
            assert_eq!(by_kind(ImportKind::Accounts).problems[0].column, "total_area");
            assert!(meters_of_broken > 0);
            assert_eq!(
                by_kind(ImportKind::Meters).total_problems, meters_of_broken,
                "only the broken account's meters: {:?}", by_kind(ImportKind::Meters).problems
            );
            assert!(by_kind(ImportKind::Payees).written > 0, "what a clean file would write is counted");
            assert_eq!(t.db.accounts().count().await.unwrap(), 0, "{mode:?}: nothing written");
            assert!(t.db.organization().payees().await.unwrap().is_empty(), "{mode:?}: not even the clean files");
        }
        let runs = t.db.exchange().runs_of("import", 20).await.unwrap();
        assert_eq!(runs.len(), 8, "runs of the import, none of the check");
        assert!(runs.iter().all(|r| r.status == "failed" && r.rows_written == 0 && r.message.is_empty()), "{runs:?}");
        let errors = |kind: &str| runs.iter().find(|r| r.kind == kind).unwrap().errors;
        assert_eq!((errors("payees"), errors("accounts"), errors("meters")), (0, 1, meters_of_broken as i64), "the problems are counted per file");
        // Checked clean, then imported: the same counts.
        std::fs::write(dir.join("accounts.csv"), accounts).unwrap();
        let check = import_package(&t.db, &files, &ImportOptions::default(), PackageMode::Check, &mut |_, _, _| {})
            .await
            .unwrap();
        assert!(!check.committed && check.total_problems() == 0);
        assert_eq!(t.db.accounts().count().await.unwrap(), 0);
        let import = import_package(&t.db, &files, &ImportOptions::default(), PackageMode::Import, &mut |_, _, _| {})
            .await
            .unwrap();
        assert!(import.committed);
        let written = |r: &kabinet_exchange::import::PackageReport| r.files.iter().map(|f| f.written).collect::<Vec<_>>();
        assert_eq!(written(&check), written(&import));
        assert_eq!(t.db.accounts().count().await.unwrap(), 3);
        let _ = std::fs::remove_dir_all(dir);
    }

    async fn package_round_trip_reproduces_the_demo(t: &TestDb) {
        let dir = package(23, 3);
        import_all(&t.db, &dir).await;
        let direct = TestDb::sqlite().await;
        generate(&direct.db, &demo_options(23, 3), |_, _| {}).await.unwrap();
        assert_eq!(t.db.bulk().table_counts().await.unwrap(), direct.db.bulk().table_counts().await.unwrap());
        for n in [1, 2, 9, 10, 23] {
            let number = format!("{}", 7_100_000_000i64 + n);
            let (a, b) = (snapshot(&t.db, &number).await, snapshot(&direct.db, &number).await);
            let at = a.chars().zip(b.chars()).position(|(x, y)| x != y).unwrap_or(0);
            let around = |s: &str| s.chars().skip(at.saturating_sub(150)).take(300).collect::<String>();
            assert!(a == b, "account {number} differs:\n{}\n---\n{}", around(&a), around(&b));
        }
        // The same package again changes nothing.
        let before = t.db.bulk().table_counts().await.unwrap();
        import_all(&t.db, &dir).await;
        assert_eq!(t.db.bulk().table_counts().await.unwrap(), before);
        assert_eq!(snapshot(&t.db, "7100000009").await, snapshot(&direct.db, "7100000009").await);
        let runs = t.db.exchange().exchange_runs(100).await.unwrap();
        assert_eq!(runs.len(), 16);
        assert!(runs.iter().all(|r| r.status == "ok" && r.direction == "import"));
        let _ = std::fs::remove_dir_all(dir);
    }

    async fn windows_1251_with_commas_and_russian_dates(t: &TestDb) {
        let dir = package(2, 1);
        for kind in [ImportKind::Payees, ImportKind::Services] {
            let path = dir.join(format!("{}.csv", kind.name()));
            let r = import_file(&t.db, kind, &path, &ImportOptions::default(), &mut |_, _| {}).await.unwrap();
            assert!(r.committed);
        }
        let accounts = "account,address,flat,total_area,holder,residents,opened_on\r\n\
            \"12 345-а\",\"г. Тверь, ул. Советская, д. 1\",7,\"54,30\",Ёлкина Анна Сергеевна,2,01.02.2020\r\n";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(accounts);
        let r = import_text(&t.db, ImportKind::Accounts, "accounts.csv", &bytes).await;
        assert_eq!((r.encoding, r.delimiter), (TextEncoding::Windows1251, b','));
        assert!(r.committed, "{:?}", r.problems);
        let acc = t.db.accounts().by_number(&AccountNumber::parse("12345-А").unwrap()).await.unwrap().unwrap();
        assert_eq!(acc.holder_name, "Ёлкина Анна Сергеевна");
        assert_eq!(acc.opened_on, date!(2020 - 02 - 01));
        let p = t.db.accounts().premises(acc.premises_id).await.unwrap().unwrap();
        assert_eq!(p.total_area, Area(5430));
        assert_eq!(p.full_address(), "г. Тверь, ул. Советская, д. 1, кв. 7");

        // UTF-8 with a BOM, semicolons, decimal commas and spaces in amounts.
        let charges = "\u{feff}account;period;service;volume;tariff;charged;recalculation;benefits;total;method\n\
            12345-а;10.2026;HVS;3,5;52,31;183,09;-10,00;0;173,09;meter\n\
            12345-а;2026-10;SOD;54,3;38,50;2 090,55;;;;fixed\n";
        let r = import_text(&t.db, ImportKind::Charges, "charges.csv", charges.as_bytes()).await;
        assert_eq!((r.encoding, r.delimiter), (TextEncoding::Utf8, b';'));
        assert!(r.committed, "{:?}", r.problems);
        let oct = Period::new(2026, 10).unwrap();
        let lines = t.db.billing().charges(acc.id, oct, oct).await.unwrap();
        assert_eq!(lines.len(), 2);
        let hvs = &lines.iter().find(|l| l.service_code == "HVS").unwrap().charge;
        assert_eq!((hvs.volume, hvs.charged, hvs.recalculation, hvs.total), (Some(Volume(3_500_000)), Kopecks(18_309), Kopecks(-1_000), Kopecks(17_309)));
        assert_eq!(lines.iter().find(|l| l.service_code == "SOD").unwrap().charge.total, Kopecks(209_055));
        let period = t.db.organization().billing_periods().await.unwrap().into_iter().find(|p| p.period == oct).unwrap();
        assert_eq!(period.due_date, date!(2026 - 11 - 15), "periods get the configured due day");

        // Forced encoding and separator win over detection.
        let forced = ImportOptions { read: ReadOptions { encoding: Some(TextEncoding::Utf8), delimiter: Some(b'\t') }, ..ImportOptions::default() };
        let path = dir.join("pay.tsv");
        std::fs::write(&path, "account\tsource\texternal_id\tamount\tpaid_at\n12345-А\tbank\tB-1\t100,5\t03.11.2026 10:15\n").unwrap();
        let r = import_file(&t.db, ImportKind::Payments, &path, &forced, &mut |_, _| {}).await.unwrap();
        assert!(r.committed, "{:?}", r.problems);
        let p = t.db.payments().newest(acc.id, 10).await.unwrap();
        assert_eq!(p[0].amount, Kopecks(10_050));
        assert_eq!(p[0].paid_at, datetime!(2026-11-03 07:15 UTC), "Moscow time without an offset");
        let _ = std::fs::remove_dir_all(dir);
    }

    async fn a_file_with_errors_changes_nothing(t: &TestDb) {
        let dir = package(5, 1);
        import_all(&t.db, &dir).await;
        let before = t.db.bulk().table_counts().await.unwrap();
        let acc = "7100000001";
        let text = format!(
            "account;period;service;charged;total\n\
             {acc};2026-10;HVS;100,00;100,00\n\
             {acc};2026-10;HVS;100,00;100,00\n\
             {acc};2026-13;GVS;1;1\n\
             {acc};2026-10;GVS;abc;\n\
             {acc};2026-10;GVS;10,00;12,00\n\
             9999999999;2026-10;GVS;1;1\n\
             {acc};2026-10;NOPE;1;1\n"
        );
        let r = import_text(&t.db, ImportKind::Charges, "charges.csv", text.as_bytes()).await;
        assert!(!r.committed);
        let found: Vec<(u64, &str)> = r.problems.iter().map(|p| (p.line, p.column.as_str())).collect();
        assert!(found.contains(&(4, "period")), "{found:?}");
        assert!(found.contains(&(5, "charged")), "{found:?}");
        assert!(found.contains(&(6, "total")), "{found:?}");
        assert!(r.problems.iter().any(|p| p.line == 4 && p.message.contains("такого месяца нет")));
        assert_eq!(t.db.bulk().table_counts().await.unwrap(), before, "nothing changed");

        // Only reference problems: found by the database, still nothing written.
        let text = format!(
            "account;period;service;charged\n{acc};2026-10;HVS;100\n{acc};2026-10;HVS;100\n9999999999;2026-10;GVS;1\n{acc};2026-10;NOPE;1\n"
        );
        let r = import_text(&t.db, ImportKind::Charges, "charges.csv", text.as_bytes()).await;
        assert!(!r.committed);
        let found: Vec<(u64, &str)> = r.problems.iter().map(|p| (p.line, p.column.as_str())).collect();
        assert_eq!(found, vec![(3, "account"), (4, "account"), (5, "service")], "{:?}", r.problems);
        assert!(r.problems[0].message.contains("повторяет строку 2"));
        assert!(r.problems[1].message.contains("9999999999"));
        assert_eq!(t.db.bulk().table_counts().await.unwrap(), before);

        // A header without a required column.
        let r = import_text(&t.db, ImportKind::Charges, "charges.csv", b"account;service;charged\n1;2;3\n").await;
        assert!(!r.committed);
        assert_eq!(r.problems[0].line, 1);
        assert!(r.problems[0].message.contains("period"));

        // Readings that do not fit their meter.
        let mut water = None;
        for id in 1..=5 {
            if let Some(m) = t.db.meters().of_account(AccountId(id)).await.unwrap().into_iter().find(|m| m.resource == Resource::ColdWater) {
                water = Some((t.db.accounts().by_id(AccountId(id)).await.unwrap().unwrap().number, m));
                break;
            }
        }
        let (acc, meter) = water.expect("a cold water meter (5 + 3 digits)");
        let text = format!("account;meter;value;taken_on;zone\n{acc};{s};123456;20.10.2026;1\n{acc};{s};1,2345;20.10.2026;1\n{acc};{s};5;21.10.2026;3\n{acc};UNKNOWN;5;21.10.2026;1\n", s = meter.serial);
        let r = import_text(&t.db, ImportKind::Readings, "readings.csv", text.as_bytes()).await;
        assert!(!r.committed);
        let lines: Vec<u64> = r.problems.iter().map(|p| p.line).collect();
        assert!(lines.contains(&2) && lines.contains(&3) && lines.contains(&4) && lines.contains(&5), "{:?}", r.problems);
        assert_eq!(t.db.bulk().table_counts().await.unwrap(), before);
        let runs = t.db.exchange().exchange_runs(4).await.unwrap();
        assert!(runs.iter().all(|r| r.status == "failed" && r.errors > 0));
        let _ = std::fs::remove_dir_all(dir);
    }

    async fn a_file_of_many_chunks_is_checked_and_merged_whole(t: &TestDb) {
        // More lines than one staging chunk (5 000): on PostgreSQL they go
        // through one COPY kept open while the file is read.
        let dir = package(5, 1);
        import_all(&t.db, &dir).await;
        let before = t.db.bulk().table_counts().await.unwrap();
        let mut text = String::from("account;period;service;charged;total\n");
        for year in 2001..2101 {
            for month in 1..=12 {
                for acc in 1..=5u64 {
                    for service in ["HVS", "GVS"] {
                        text += &format!("{};{year}-{month:02};{service};1,00;1,00\n", 7_100_000_000 + acc);
                    }
                }
            }
        }
        // Line 2 repeated far away (in the third chunk) and twice more.
        let repeated = format!("{}\n", text.lines().nth(1).unwrap());
        let with_repeats = format!("{text}{repeated}{repeated}");
        let r = import_text(&t.db, ImportKind::Charges, "charges.csv", with_repeats.as_bytes()).await;
        assert!(!r.committed);
        let found: Vec<(u64, &str)> = r.problems.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert_eq!(found, vec![(12_002, "повторяет строку 2"), (12_003, "повторяет строку 2")]);
        assert_eq!(t.db.bulk().table_counts().await.unwrap(), before, "nothing changed");

        let r = import_text(&t.db, ImportKind::Charges, "charges.csv", text.as_bytes()).await;
        assert!(r.committed, "{:?}", r.problems);
        assert_eq!(r.written, 12_000);
        let acc = t.db.accounts().by_number(&AccountNumber::parse("7100000003").unwrap()).await.unwrap().unwrap();
        let (first, last) = (Period::new(2001, 1).unwrap(), Period::new(2100, 12).unwrap());
        let lines = t.db.billing().charges(acc.id, first, last).await.unwrap();
        assert_eq!(lines.len(), 2_400);
        assert!(lines.iter().all(|l| l.charge.total == Kopecks(100)));
        let _ = std::fs::remove_dir_all(dir);
    }

    async fn reimporting_a_period_replaces_its_charges(t: &TestDb) {
        let dir = package(4, 2);
        import_all(&t.db, &dir).await;
        let acc = t.db.accounts().by_number(&AccountNumber::parse("7100000002").unwrap()).await.unwrap().unwrap();
        let other = t.db.accounts().by_number(&AccountNumber::parse("7100000003").unwrap()).await.unwrap().unwrap();
        let oct = Period::new(2026, 10).unwrap();
        let sep = Period::new(2026, 9).unwrap();
        let other_before = t.db.billing().charges(other.id, sep, oct).await.unwrap();
        let sep_before = t.db.billing().charges(acc.id, sep, sep).await.unwrap();
        // The billing system recalculated October for account 2: two lines now.
        let text = "account;period;service;charged\n7100000002;2026-10;HVS;10,00\n7100000002;2026-10;SOD;20,00\n";
        let r = import_text(&t.db, ImportKind::Charges, "charges.csv", text.as_bytes()).await;
        assert!(r.committed, "{:?}", r.problems);
        let now = t.db.billing().charges(acc.id, oct, oct).await.unwrap();
        assert_eq!(now.iter().map(|l| (l.service_code.as_str(), l.charge.total)).collect::<Vec<_>>(), vec![("HVS", Kopecks(1000)), ("SOD", Kopecks(2000))]);
        assert_eq!(t.db.billing().charges(acc.id, sep, sep).await.unwrap(), sep_before, "other periods untouched");
        assert_eq!(t.db.billing().charges(other.id, sep, oct).await.unwrap(), other_before, "other accounts untouched");
        // The same file again: both lines loaded (unchanged rows are not
        // rewritten, but they count), nothing changes.
        let again = import_text(&t.db, ImportKind::Charges, "charges.csv", text.as_bytes()).await;
        assert!(again.committed, "{:?}", again.problems);
        assert_eq!(again.written, 2);
        assert_eq!(t.db.billing().charges(acc.id, oct, oct).await.unwrap(), now);
        // One line changed, one gone.
        let text = "account;period;service;charged\n7100000002;2026-10;SOD;25,00\n";
        let changed = import_text(&t.db, ImportKind::Charges, "charges.csv", text.as_bytes()).await;
        assert_eq!(changed.written, 1);
        let now = t.db.billing().charges(acc.id, oct, oct).await.unwrap();
        assert_eq!(now.iter().map(|l| (l.service_code.as_str(), l.charge.total)).collect::<Vec<_>>(), vec![("SOD", Kopecks(2500))]);
        // Payments are unique by their id in the channel.
        let text = "account;source;external_id;amount;paid_at\n7100000002;bank;X-1;10;2026-11-02T10:00:00Z\n";
        for _ in 0..2 {
            assert!(import_text(&t.db, ImportKind::Payments, "p.csv", text.as_bytes()).await.committed);
        }
        let p = t.db.payments().newest(acc.id, 100).await.unwrap();
        assert_eq!(p.iter().filter(|p| p.external_id == "X-1").count(), 1);
        let _ = std::fs::remove_dir_all(dir);
    }

    async fn export_then_reexport_repeats_nothing(t: &TestDb) {
        generate(&t.db, &demo_options(3, 1), |_, _| {}).await.unwrap();
        let meter = t.db.meters().of_account(AccountId(2)).await.unwrap().remove(0);
        let mut batch = Batch::default();
        for day in 1..=3u8 {
            batch.readings.push(Reading {
                meter_id: meter.id,
                zone: 1,
                value: 1_000 * i64::from(day),
                taken_on: time::Date::from_calendar_date(2026, time::Month::November, day + 20).unwrap(),
                source: reading_source::PORTAL.into(),
                submitted_at: datetime!(2026-11-21 10:00 UTC) + time::Duration::days(i64::from(day)),
            });
        }
        batch.payments.push(Payment {
            account_id: AccountId(2),
            source: payment_source::PORTAL.into(),
            external_id: "gw-1".into(),
            amount: Kopecks(150_000),
            paid_at: datetime!(2026-11-20 08:00 UTC),
            period: Some(Period::new(2026, 10).unwrap()),
            confirmed: false,
        });
        t.db.bulk().insert_batch(&batch).await.unwrap();
        let dir = tempdir();
        let out = dir.join("readings.csv");

        // A sink that fails half-way: nothing is marked.
        struct Failing(u32);
        impl ExportSink<ExportedReading> for Failing {
            fn row(&mut self, _: ExportedReading) -> Result<(), String> {
                self.0 += 1;
                if self.0 == 2 { Err("disk full".into()) } else { Ok(()) }
            }
            fn finish(&mut self) -> Result<(), String> { Ok(()) }
        }
        assert!(t.db.exports().export_readings(kabinet_domain::ExchangeRunId(999), ExportFilter::default(), &mut Failing(0)).await.is_err());

        let n = export(&t.db, ExportKind::Readings, &out, TextEncoding::Utf8, ExportFilter::default(), "test").await.unwrap();
        assert_eq!(n, 3, "billing readings are not exported, portal ones are");
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.starts_with("account;meter;zone;value;taken_on;source;submitted_at\n"));
        assert!(text.contains(&format!("7100000002;{};1;", meter.serial)));
        assert!(!dir.join("readings.csv.partial").exists());
        assert_eq!(export(&t.db, ExportKind::Readings, &out, TextEncoding::Utf8, ExportFilter::default(), "test").await.unwrap(), 0);
        let all = ExportFilter { all: true, since: None };
        assert_eq!(export(&t.db, ExportKind::Readings, &out, TextEncoding::Utf8, all, "test").await.unwrap(), 3);
        let since = ExportFilter { all: true, since: Some(datetime!(2026-11-23 00:00 UTC)) };
        assert_eq!(export(&t.db, ExportKind::Readings, &out, TextEncoding::Utf8, since, "test").await.unwrap(), 2);

        let pay = dir.join("payments.csv");
        assert_eq!(export(&t.db, ExportKind::Payments, &pay, TextEncoding::Windows1251, ExportFilter::default(), "test").await.unwrap(), 1);
        let bytes = std::fs::read(&pay).unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains("7100000002;portal;gw-1;1500.00;2026-11-20T08:00:00Z;2026-10"));
        // Billing reports the card payment back: confirmed, not doubled.
        let acc = t.db.accounts().by_number(&AccountNumber::parse("7100000002").unwrap()).await.unwrap().unwrap();
        let unconfirmed = |rows: &[kabinet_domain::Payment]| rows.iter().filter(|p| p.external_id == "gw-1").map(|p| p.confirmed).collect::<Vec<_>>();
        assert_eq!(unconfirmed(&t.db.payments().page(acc.id, 0, 100).await.unwrap().0), vec![false]);
        let back = "account;source;external_id;amount;paid_at\n7100000002;portal;gw-1;1500.00;2026-11-20T08:00:00Z\n";
        let r = import_text(&t.db, ImportKind::Payments, "payments.csv", back.as_bytes()).await;
        assert!(r.committed, "{:?}", r.problems);
        assert_eq!(unconfirmed(&t.db.payments().page(acc.id, 0, 100).await.unwrap().0), vec![true]);
        assert_eq!(export(&t.db, ExportKind::Payments, &pay, TextEncoding::Utf8, ExportFilter::default(), "test").await.unwrap(), 0);
        let runs = t.db.exchange().exchange_runs(10).await.unwrap();
        assert_eq!(runs.iter().filter(|r| r.direction == "export" && r.status == "ok").count(), 6);
        let _ = std::fs::remove_dir_all(dir);
    }

    async fn a_windows_1251_file_with_a_long_ascii_start_is_not_corrupted(t: &TestDb) {
        // 2 000 accounts of plain ASCII (about 100 KB) before the first Cyrillic line.
        let mut text = String::from("account;address;total_area;holder;residents\n");
        for i in 0..2_000 {
            text.push_str(&format!("A{i};Tver, Sovetskaya st. 1;54.30;Holder Number {i};1\n"));
        }
        text.push_str("Б-1;г. Тверь, ул. Советская, д. 1;54,30;Пётр Ёлкин;2\n");
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(&text);
        assert!(std::str::from_utf8(&bytes[..64 * 1024]).is_ok(), "the first 64 KB are ASCII");

        // Forced UTF-8: refused on the line, with the hint, and nothing written.
        let before = t.db.bulk().table_counts().await.unwrap();
        let dir = tempdir();
        let path = dir.join("accounts.csv");
        std::fs::write(&path, &bytes).unwrap();
        let utf8 = ImportOptions { read: ReadOptions { encoding: Some(TextEncoding::Utf8), delimiter: None }, ..ImportOptions::default() };
        let r = import_file(&t.db, ImportKind::Accounts, &path, &utf8, &mut |_, _| {}).await.unwrap();
        assert!(!r.committed);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert_eq!(r.problems[0].line, 2_002);
        assert!(r.problems[0].message.contains("«account»") && r.problems[0].message.contains("--encoding windows-1251"), "{}", r.problems[0].message);
        assert_eq!(t.db.bulk().table_counts().await.unwrap(), before);

        // Detected: the whole file decides, so it is read as windows-1251.
        let r = import_file(&t.db, ImportKind::Accounts, &path, &ImportOptions::default(), &mut |_, _| {}).await.unwrap();
        assert_eq!(r.encoding, TextEncoding::Windows1251);
        assert!(r.committed, "{:?}", r.problems);
        let acc = t.db.accounts().by_number(&AccountNumber::parse("Б-1").unwrap()).await.unwrap().unwrap();
        assert_eq!(acc.holder_name, "Пётр Ёлкин");
        let _ = std::fs::remove_dir_all(dir);
    }

    async fn overlong_values_and_lines_are_refused(t: &TestDb) {
        let before = t.db.bulk().table_counts().await.unwrap();
        let long_address = format!("г. Тверь, {}", "ул. Очень Длинная ".repeat(14));
        assert!(long_address.chars().count() > 200);
        let text = format!(
            "account;address;flat;total_area;holder;residents\n\
             1;{long_address};1;50;Иванов Иван;1\n\
             2;г. Тверь;{flat};50;{holder};1\n\
             3;г. Тверь;1;50;Петров Пётр;1\n",
            flat = "1".repeat(17),
            holder = "Я".repeat(151),
        );
        let r = import_text(&t.db, ImportKind::Accounts, "accounts.csv", text.as_bytes()).await;
        assert!(!r.committed);
        let found: Vec<(u64, &str)> = r.problems.iter().map(|p| (p.line, p.column.as_str())).collect();
        assert_eq!(found, vec![(2, "address"), (3, "flat"), (3, "holder")], "{:?}", r.problems);
        assert!(r.problems[0].message.contains("длиннее 200 символов"), "{}", r.problems[0].message);
        let text = format!("account;source;external_id;amount;paid_at\n1;bank;{};10;2026-11-02T10:00:00Z\n", "x".repeat(65));
        let r = import_text(&t.db, ImportKind::Payments, "payments.csv", text.as_bytes()).await;
        assert_eq!(r.problems.iter().map(|p| (p.line, p.column.as_str())).collect::<Vec<_>>(), vec![(2, "external_id")]);
        let text = "code;name;inn;kpp;bank_name;bic;correspondent_account;settlement_account\nUK;УК;6950012340;69500100;Банк;042809679;30101810700000000679;40702810563000001234\n";
        let r = import_text(&t.db, ImportKind::Payees, "payees.csv", text.as_bytes()).await;
        assert_eq!(r.problems.iter().map(|p| (p.line, p.column.as_str())).collect::<Vec<_>>(), vec![(2, "kpp")]);
        // Bank details that would send residents' money nowhere: a settlement
        // account whose key does not fit the BIC, a correspondent account of
        // another bank, an INN with a wrong check digit; a treasury payee's
        // single treasury account is fine.
        let text = "code;name;inn;kpp;bank_name;bic;correspondent_account;settlement_account\n\
            A;А;6950012340;695001001;Банк;042809679;30101810700000000679;40702810963000001234\n\
            B;Б;6950012340;695001001;Банк;042809679;30101810400000000225;40702810563000001234\n\
            C;В;6950012346;695001001;Банк;042809679;30101810700000000679;40702810563000001234\n\
            D;Г;6950012340;695001001;УФК;014525988;40102810545370000003;03100643600000011800\n";
        let r = import_text(&t.db, ImportKind::Payees, "payees.csv", text.as_bytes()).await;
        assert_eq!(
            r.problems.iter().map(|p| (p.line, p.column.as_str())).collect::<Vec<_>>(),
            vec![(2, "settlement_account"), (3, "correspondent_account"), (4, "inn")],
            "{:?}", r.problems
        );

        // A line without a break is refused while streaming, at its line.
        let mut huge = b"account;address;total_area;holder;residents\n1;a;1;b;1\n2;".to_vec();
        huge.extend(std::iter::repeat_n(b'x', 3 * kabinet_exchange::source::MAX_LINE_BYTES));
        let r = import_text(&t.db, ImportKind::Accounts, "accounts.csv", &huge).await;
        assert!(!r.committed);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert_eq!(r.problems[0].line, 3);
        assert!(r.problems[0].message.contains("длиннее 65536 байт"), "{}", r.problems[0].message);
        assert_eq!(t.db.bulk().table_counts().await.unwrap(), before, "nothing written");
    }

    async fn exported_cells_are_safe_to_open_in_excel(t: &TestDb) {
        generate(&t.db, &demo_options(2, 1), |_, _| {}).await.unwrap();
        let evil = ["=HYPERLINK(\"http://evil.example/p\",\"pay\")", "+7(900)1", "-2+3", "@SUM(A1)", "\tx", "\rx", "ok-1"];
        let mut batch = Batch::default();
        for (i, id) in evil.iter().enumerate() {
            batch.payments.push(Payment {
                account_id: AccountId(1),
                source: payment_source::PORTAL.into(),
                external_id: (*id).into(),
                amount: Kopecks(100 + i as i64),
                paid_at: datetime!(2026-11-20 08:00 UTC),
                period: None,
                confirmed: false,
            });
        }
        let meters = "account;serial;resource;integer_digits;fraction_digits;verification_due\n7100000001;=1+2;cold_water;5;3;01.01.2030\n";
        assert!(import_text(&t.db, ImportKind::Meters, "meters.csv", meters.as_bytes()).await.committed);
        let meter = t.db.meters().of_account(AccountId(1)).await.unwrap().into_iter().find(|m| m.serial == "=1+2").unwrap();
        batch.readings.push(Reading {
            meter_id: meter.id,
            zone: 1,
            value: 1_000,
            taken_on: date!(2026 - 11 - 21),
            source: reading_source::PORTAL.into(),
            submitted_at: datetime!(2026-11-21 10:00 UTC),
        });
        t.db.bulk().insert_batch(&batch).await.unwrap();
        let dir = tempdir();
        let decode = |encoding: TextEncoding, bytes: Vec<u8>| match encoding {
            TextEncoding::Utf8 => String::from_utf8(bytes).unwrap(),
            TextEncoding::Windows1251 => encoding_rs::WINDOWS_1251.decode(&bytes).0.into_owned(),
        };
        for encoding in [TextEncoding::Utf8, TextEncoding::Windows1251] {
            let out = dir.join("payments.csv");
            let all = ExportFilter { all: true, since: None };
            assert_eq!(export(&t.db, ExportKind::Payments, &out, encoding, all, "test").await.unwrap(), 7);
            let text = decode(encoding, std::fs::read(&out).unwrap());
            let mut ids: Vec<String> = csv::ReaderBuilder::new().delimiter(b';').from_reader(text.as_bytes())
                .records().map(|r| r.unwrap()[2].to_string()).collect();
            ids.sort();
            let mut expected = vec!["'=HYPERLINK(\"http://evil.example/p\",\"pay\")", "'+7(900)1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "ok-1"];
            expected.sort();
            assert_eq!(ids, expected, "{encoding:?}");
            let out = dir.join("readings.csv");
            assert_eq!(export(&t.db, ExportKind::Readings, &out, encoding, all, "test").await.unwrap(), 1);
            let text = decode(encoding, std::fs::read(&out).unwrap());
            assert!(text.contains(";'=1+2;1;1.000;"), "{text}");
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
