//! Receipts rendered from demo data and checked with real tools: pdftotext,
//! pdffonts, and zbarimg on a pdftoppm rendering of the page.
#![allow(clippy::unwrap_used, missing_docs)]

use kabinet_demo::{DemoOptions, generate};
use kabinet_domain::qr::parse_payload;
use kabinet_domain::{AccountId, Kopecks, Period};
use kabinet_receipt::load::{load, load_batch};
use kabinet_receipt::{ReceiptView, Renderer};
use kabinet_testkit::{TestDb, db_tests};
use std::path::{Path, PathBuf};
use std::process::Command;
use time::macros::date;

fn tempdir() -> PathBuf {
    use std::hash::{BuildHasher, RandomState};
    let n = RandomState::new().hash_one(std::time::Instant::now());
    let d = std::env::temp_dir().join(format!("kabinet_receipt_{}_{n:x}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tool(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} is needed for this test (poppler-utils, zbar-tools): {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// QR payloads found on the first page.
fn qr_payloads(pdf: &Path) -> Vec<String> {
    let png = pdf.with_extension("");
    tool(
        "pdftoppm",
        &[
            "-r",
            "200",
            "-png",
            "-singlefile",
            pdf.to_str().unwrap(),
            png.to_str().unwrap(),
        ],
    );
    let text = tool(
        "zbarimg",
        &[
            "--raw",
            "-q",
            "-Sbinary",
            png.with_extension("png").to_str().unwrap(),
        ],
    );
    text.split("ST0001")
        .filter(|s| !s.trim().is_empty())
        .map(|s| format!("ST0001{}", s.trim_end_matches('\n')))
        .collect()
}

async fn demo(t: &TestDb) {
    let mut o = DemoOptions::new(date!(2026 - 11 - 24));
    o.accounts = 6;
    o.months = 2;
    generate(&t.db, &o, |_, _| {}).await.unwrap();
}

db_tests! {
    async fn receipt_has_text_fonts_and_a_qr_that_pays_the_total(t: &TestDb) {
        demo(t).await;
        let oct = Period::new(2026, 10).unwrap();
        let renderer = Renderer::new();
        let dir = tempdir();
        for id in [1, 4] {
            let input = load(&t.db, AccountId(id), oct).await.unwrap().expect("invoice for October");
            let view = ReceiptView::build(&input).unwrap();
            let (pdf, fallback) = renderer.render(&view).unwrap();
            assert!(fallback.is_none());
            let path = dir.join(format!("r{id}.pdf"));
            std::fs::write(&path, &pdf).unwrap();

            // pdftotext turns no-break spaces into plain ones
            let text = tool("pdftotext", &["-layout", path.to_str().unwrap(), "-"]).replace('\u{a0}', " ");
            let number = input.account.number.as_str();
            assert!(text.contains(number), "account number in the text");
            assert!(text.contains("октябрь 2026"), "period in the text");
            for (service, _) in &input.lines {
                assert!(text.contains(&service.name), "service {} in the text", service.name);
            }
            let total = input.invoice.total_due.to_plain_string().replace('\u{a0}', " ");
            assert!(text.contains(&total), "total {total} in the text:\n{text}");
            std::fs::copy(&path, std::env::temp_dir().join(format!("kabinet-sample-receipt-{id}.pdf"))).unwrap();
            assert!(text.contains("ИТОГО К ОПЛАТЕ"));

            let fonts = tool("pdffonts", &[path.to_str().unwrap()]);
            assert!(fonts.contains("DejaVuSansCondensed"), "{fonts}");
            for line in fonts.lines().skip(2) {
                assert!(line.contains(" yes "), "every font embedded: {line}");
            }

            let payloads = qr_payloads(&path);
            assert_eq!(payloads.len(), view.payees.len(), "one QR per payee: {payloads:?}");
            let mut paid_by_qr = Kopecks::ZERO;
            for p in &payloads {
                let fields = parse_payload(p).unwrap();
                let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
                assert_eq!(get("PersAcc").as_deref(), Some(number));
                assert_eq!(get("PaymPeriod").as_deref(), Some("102026"));
                assert_eq!(get("TechCode").as_deref(), Some("02"));
                assert_eq!(fields[0].0, "Name");
                assert_eq!(fields[1].0, "PersonalAcc");
                paid_by_qr += Kopecks(get("Sum").map_or(0, |s| s.parse().unwrap()));
            }
            if input.invoice.total_due.get() > 0 && view.payees.iter().all(|p| p.amount_kopecks >= 0) {
                assert_eq!(paid_by_qr, input.invoice.total_due, "the QR sums pay the total");
            }
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    async fn no_invoice_no_receipt(t: &TestDb) {
        demo(t).await;
        assert!(load(&t.db, AccountId(1), Period::new(2025, 1).unwrap()).await.unwrap().is_none());
        assert!(load(&t.db, AccountId(999), Period::new(2026, 10).unwrap()).await.unwrap().is_none());
    }

    async fn a_batch_reads_what_single_loads_read(t: &TestDb) {
        demo(t).await;
        let oct = Period::new(2026, 10).unwrap();
        let ids: Vec<AccountId> = [3, 999, 1, 6, 2, 5, 4].into_iter().map(AccountId).collect();
        let batch = load_batch(&t.db, &ids, oct).await.unwrap();
        assert_eq!(batch.iter().map(|(id, _)| *id).collect::<Vec<_>>(), ids, "in the order asked");
        let mut meters = 0;
        for (id, input) in batch {
            let single = load(&t.db, id, oct).await.unwrap();
            assert_eq!(format!("{input:?}"), format!("{single:?}"), "account {id:?}");
            let Some(input) = input else {
                assert_eq!(id, AccountId(999));
                continue;
            };
            assert_eq!(input.account.id, id);
            assert_eq!(input.invoice.account_id, id);
            assert!(!input.lines.is_empty());
            assert!(input.lines.iter().all(|(_, c)| c.account_id == id && c.period == oct));
            for (m, readings) in &input.meters {
                meters += 1;
                assert_eq!(m.account_id, id);
                assert!(readings.iter().all(|r| r.meter_id == m.id && r.taken_on <= oct.last_day()));
                assert!(readings.windows(2).all(|w| w[0].taken_on >= w[1].taken_on), "newest first");
            }
        }
        assert!(meters > 0, "the demo has meters");
        assert!(load_batch(&t.db, &[], oct).await.unwrap().is_empty());
    }

    async fn a_broken_custom_template_falls_back(t: &TestDb) {
        demo(t).await;
        let dir = tempdir();
        let custom = dir.join("mine.typ");
        std::fs::write(&custom, "#let d = json(bytes(sys.inputs.data))\n#d.no.such.field\n").unwrap();
        let renderer = Renderer::with_template(&custom).unwrap();
        let input = load(&t.db, AccountId(2), Period::new(2026, 10).unwrap()).await.unwrap().unwrap();
        let (pdf, fallback) = renderer.render(&ReceiptView::build(&input).unwrap()).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert!(fallback.is_some_and(|e| e.to_string().contains("template")));
        // A working custom template is used as is, with the QR images as documented.
        std::fs::write(&custom, concat!(
            "#let d = json(bytes(sys.inputs.data))\n",
            "#set text(font: \"DejaVu Sans\")\n",
            "Своя квитанция #d.account.number\n\n",
            "#let qr = sys.inputs.qr.at(0)\n",
            "#image(qr.pixels, format: (encoding: \"luma8\", width: qr.side, height: qr.side), width: 50mm)\n",
        )).unwrap();
        let renderer = Renderer::with_template(&custom).unwrap();
        let view = ReceiptView::build(&input).unwrap();
        let (pdf, fallback) = renderer.render(&view).unwrap();
        assert!(fallback.is_none(), "{fallback:?}");
        let path = dir.join("mine.pdf");
        std::fs::write(&path, &pdf).unwrap();
        assert!(tool("pdftotext", &[path.to_str().unwrap(), "-"]).contains("Своя квитанция"));
        assert_eq!(qr_payloads(&path), vec![view.payees[0].qr_payload.clone()]);
        assert!(Renderer::with_template(&dir.join("missing.typ")).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
