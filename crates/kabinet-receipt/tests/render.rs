//! Receipts rendered from demo data and checked with real tools: pdftotext,
//! pdffonts, and zbarimg on a pdftoppm rendering of the page.
#![allow(clippy::unwrap_used, missing_docs)]

use kabinet_demo::{DemoOptions, generate};
use kabinet_domain::qr::{QrCharset, parse_payload};
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

/// A payload read from a code, decoded by the character set its header names.
fn decode_payload(bytes: &[u8]) -> String {
    if bytes.starts_with(b"ST00011") {
        encoding_rs::WINDOWS_1251.decode(bytes).0.into_owned()
    } else {
        String::from_utf8(bytes.to_vec()).unwrap()
    }
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
    let out = Command::new("zbarimg")
        .args([
            "--raw",
            "-q",
            "-Sbinary",
            png.with_extension("png").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    split_payloads(&out.stdout)
        .iter()
        .map(|p| decode_payload(p))
        .collect()
}

/// zbarimg's binary output: the symbols one after another, each payment
/// payload starting with its header `ST0001`.
fn split_payloads(out: &[u8]) -> Vec<Vec<u8>> {
    let mut starts: Vec<usize> = out
        .windows(6)
        .enumerate()
        .filter(|(_, w)| *w == b"ST0001")
        .map(|(i, _)| i)
        .collect();
    starts.push(out.len());
    starts
        .windows(2)
        .map(|w| {
            out[w[0]..w[1]]
                .strip_suffix(b"\n")
                .unwrap_or(&out[w[0]..w[1]])
                .to_vec()
        })
        .collect()
}

/// What a phone-like scan of the receipt found: (payload bytes, QR version,
/// printed module size in mm) per code read by zxing-cpp, and the payloads
/// zbarimg read; `None` (with a message) when zxing-cpp is not installed
/// outside CI.
/// One code zxing-cpp read: payload bytes, QR version, printed module size in mm.
type ZxingCode = (Vec<u8>, u32, f64);

fn phone_scan(pdf: &Path, work: &Path) -> Option<(Vec<ZxingCode>, Vec<Vec<u8>>)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/phone_scan.py");
    let out = Command::new("python3")
        .args([script, pdf.to_str().unwrap(), work.to_str().unwrap(), "150", "1"])
        .output()
        .expect("python3");
    if out.status.code() == Some(3) {
        let why = String::from_utf8_lossy(&out.stderr);
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("zxing-cpp and Pillow are required in CI: {why}");
        }
        eprintln!("SKIPPED: phone-like QR scan ({why}; pip install zxing-cpp pillow)");
        return None;
    }
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let zxing = v["zxing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                hex(c["hex"].as_str().unwrap()),
                c["version"].as_u64().unwrap() as u32,
                c["module_mm"].as_f64().unwrap(),
            )
        })
        .collect();
    let zbar = v["zbar"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| hex(s.as_str().unwrap()))
        .collect();
    Some((zxing, zbar))
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
            let view = ReceiptView::build(&input, QrCharset::Utf8).unwrap();
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

    async fn qr_codes_scan_from_a_blurred_150_dpi_page(t: &TestDb) {
        demo(t).await;
        let oct = Period::new(2026, 10).unwrap();
        let renderer = Renderer::new();
        let dir = tempdir();
        // Account 1 has three payees; a long holder name and address must not
        // make its codes denser.
        let mut input = load(&t.db, AccountId(1), oct).await.unwrap().unwrap();
        input.account.holder_name = format!("Константинопольская-Ростовцева {} Александровна", "Анна-Мария");
        input.premises.address = format!("170100, Тверская обл., г. Тверь, {}", "ул. Трёхсвятская, д. 10, корп. 2, ".repeat(3));
        for charset in [QrCharset::Utf8, QrCharset::Windows1251] {
            let view = ReceiptView::build(&input, charset).unwrap();
            assert_eq!(view.payees.len(), 3);
            let (pdf, _) = renderer.render(&view).unwrap();
            let path = dir.join(format!("phone-{charset:?}.pdf"));
            std::fs::write(&path, &pdf).unwrap();
            let Some((zxing, zbar)) = phone_scan(&path, &dir) else { break };
            assert_eq!(zxing.len(), 3, "{charset:?}: zxing-cpp read every code: {zxing:?}");
            assert_eq!(zbar.len(), 3, "{charset:?}: zbarimg read every code");
            for p in &view.payees {
                assert_eq!(p.qr_charset, charset);
                let expected = match charset {
                    QrCharset::Utf8 => p.qr_payload.as_bytes().to_vec(),
                    QrCharset::Windows1251 => encoding_rs::WINDOWS_1251.encode(&p.qr_payload).0.into_owned(),
                };
                let (_, version, module) = zxing.iter().find(|(b, _, _)| *b == expected).unwrap_or_else(|| panic!("{charset:?}: zxing-cpp read {}", p.qr_payload));
                assert!(zbar.contains(&expected), "{charset:?}: zbarimg read {}", p.qr_payload);
                // 0.4 mm is the least any printed code should have; zbarimg
                // needed about 0.6 mm on this blurred page.
                assert!(*module >= 0.55, "{charset:?}: modules of {module} mm (version {version}) are too small to print");
                eprintln!("{charset:?}: {} bytes, version {version}, module {module} mm", expected.len());
                let fields = parse_payload(&p.qr_payload).unwrap();
                let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
                assert!(keys.contains(&"LastName") && !keys.contains(&"PayerAddress"), "{keys:?}");
            }
        }
        // A payee name windows-1251 cannot write falls back to UTF-8.
        input.payees[0].name.push_str(" ₽");
        let view = ReceiptView::build(&input, QrCharset::Windows1251).unwrap();
        let fallback: Vec<QrCharset> = view.payees.iter().map(|p| p.qr_charset).collect();
        assert!(fallback.contains(&QrCharset::Utf8) && fallback.contains(&QrCharset::Windows1251), "{fallback:?}");
        let _ = std::fs::remove_dir_all(dir);
    }

    async fn optional_qr_fields_that_do_not_fit_never_stop_a_receipt(t: &TestDb) {
        demo(t).await;
        let mut input = load(&t.db, AccountId(2), Period::new(2026, 10).unwrap()).await.unwrap().unwrap();
        // What an older import let in: a 62-letter surname, a 252-character address.
        input.account.holder_name = format!("{} Иван Иванович", "Щ".repeat(62));
        input.premises.address = "д".repeat(252);
        input.invoice.number = "№".repeat(40);
        let view = ReceiptView::build(&input, QrCharset::Utf8).unwrap();
        let fields = parse_payload(&view.payees[0].qr_payload).unwrap();
        assert!(fields.iter().all(|(k, _)| k != "LastName" && k != "QuittId"), "{fields:?}");
        let (pdf, fallback) = Renderer::new().render(&view).unwrap();
        assert!(pdf.starts_with(b"%PDF") && fallback.is_none());
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
        let (pdf, fallback) = renderer.render(&ReceiptView::build(&input, QrCharset::Utf8).unwrap()).unwrap();
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
        let view = ReceiptView::build(&input, QrCharset::Utf8).unwrap();
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
