//! Receipt rendering benchmark (no database): builds receipts for generated demo
//! accounts and renders them single-threaded, reporting milliseconds per receipt
//! and the process's resident memory as the renders go on.
//!
//!   cargo bench -p kabinet-receipt --bench render            # 2 000 renders
//!   RENDERS=10000 cargo bench -p kabinet-receipt --bench render
//!   SAVE_PDF=/tmp/receipt.pdf cargo bench …   # also keep one receipt
//!   TEMPLATE=my-receipt.typ cargo bench …     # an Organization's own template
#![allow(clippy::unwrap_used, missing_docs)]

use kabinet_demo::{Plan, catalog};
use kabinet_domain::{Meter, Reading};
use kabinet_receipt::{ReceiptInput, ReceiptView, Renderer};
use std::time::Instant;
use time::macros::date;

/// The allocator of the `kabinet` binary, so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(String::from))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn inputs(n: i64) -> Vec<ReceiptInput> {
    let plan = Plan::new(2026, 2, date!(2026 - 11 - 24), 5, 15);
    let period = *plan.periods.last().unwrap();
    let services: Vec<_> = catalog::services().into_iter().map(|s| s.service).collect();
    let batch = plan.batch(1..=n);
    batch
        .accounts
        .iter()
        .map(|a| {
            let premises = batch
                .premises
                .iter()
                .find(|p| p.id == a.premises_id)
                .unwrap()
                .clone();
            let invoice = batch
                .invoices
                .iter()
                .find(|i| i.account_id == a.id && i.period == period.period)
                .unwrap()
                .clone();
            let lines = batch
                .charges
                .iter()
                .filter(|c| c.account_id == a.id && c.period == period.period)
                .map(|c| {
                    (
                        services.iter().find(|s| s.id == c.service_id).unwrap().clone(),
                        c.clone(),
                    )
                })
                .collect();
            let meters: Vec<(Meter, Vec<Reading>)> = batch
                .meters
                .iter()
                .filter(|m| m.account_id == a.id)
                .map(|m| {
                    let mut r: Vec<Reading> = batch
                        .readings
                        .iter()
                        .filter(|r| r.meter_id == m.id)
                        .cloned()
                        .collect();
                    r.sort_by_key(|x| std::cmp::Reverse(x.taken_on));
                    (m.clone(), r)
                })
                .collect();
            ReceiptInput {
                organization: catalog::organization(),
                payees: catalog::payees(),
                account: a.clone(),
                premises,
                period,
                invoice,
                lines,
                meters,
                notices: vec!["Оплатить до 15.11.2026.".into()],
            }
        })
        .collect()
}

fn main() {
    let renders: usize = std::env::var("RENDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let inputs = inputs(500);
    let charset = match std::env::var("QR_CHARSET").as_deref() {
        Ok("windows-1251") => kabinet_domain::qr::QrCharset::Windows1251,
        _ => kabinet_domain::qr::QrCharset::Utf8,
    };
    let renderer = match std::env::var_os("TEMPLATE") {
        Some(path) => Renderer::with_template(std::path::Path::new(&path)).unwrap(),
        None => Renderer::new(),
    };
    // Warm up: fonts parsed, template compiled once.
    for input in inputs.iter().take(20) {
        let (_, fallback) = renderer
            .render(&ReceiptView::build(input, charset).unwrap())
            .unwrap();
        assert!(fallback.is_none(), "the template failed: {fallback:?}");
    }
    let rss_start = rss_kib();
    let mut rss_max = rss_start;
    let started = Instant::now();
    let mut bytes = 0usize;
    for i in 0..renders {
        let view = ReceiptView::build(&inputs[i % inputs.len()], charset).unwrap();
        let (pdf, _) = renderer.render(&view).unwrap();
        bytes += pdf.len();
        if i % 500 == 499 {
            let rss = rss_kib();
            rss_max = rss_max.max(rss);
            println!("after {:>6} renders: RSS {:>7} KiB", i + 1, rss);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    if let Ok(path) = std::env::var("SAVE_PDF") {
        let view = ReceiptView::build(&inputs[0], charset).unwrap();
        std::fs::write(path, renderer.render(&view).unwrap().0).unwrap();
    }
    println!(
        "{renders} receipts single-threaded: {:.2} ms per receipt ({:.0}/s), {:.0} KiB per PDF",
        secs * 1000.0 / renders as f64,
        renders as f64 / secs,
        bytes as f64 / renders as f64 / 1024.0
    );
    println!(
        "RSS after warm-up {rss_start} KiB, max {rss_max} KiB, end {} KiB ({:+.1} %)",
        rss_kib(),
        (rss_kib() as f64 - rss_start as f64) * 100.0 / rss_start as f64
    );
}
