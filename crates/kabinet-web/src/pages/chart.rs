//! The charges chart (R5): stacked bars of each month's charges by service,
//! drawn on the server as SVG so it shows without JavaScript. Colours are
//! SVG attributes (no inline styles, which the CSP forbids); the page gives
//! a text alternative and the same figures in a table.

use kabinet_notify::html::escape;

/// Colours of the services, in order (each with at least 3:1 contrast on white).
pub(crate) const PALETTE: [&str; 8] = [
    "#0b5cad", "#c4501b", "#1a7f37", "#8250df", "#a0111f", "#0a7d8c", "#7d4e00", "#57606a",
];

/// A bar: its label and, per service (by index), the amount in kopecks.
pub(crate) struct Bar {
    pub label: String,
    pub parts: Vec<(usize, i64)>,
}

/// The colour of service `i`.
pub(crate) fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// The SVG of `bars`, labelled by `title_id` (the id of an element holding
/// the text alternative).
pub(crate) fn stacked_bars(bars: &[Bar], described_by: &str) -> String {
    let width = 720.0_f64;
    let height = 260.0_f64;
    let (left, bottom, top) = (8.0, 36.0, 12.0);
    let plot_h = height - bottom - top;
    let max = bars
        .iter()
        .map(|b| b.parts.iter().map(|(_, k)| (*k).max(0)).sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = (width - left) / bars.len().max(1) as f64;
    let bar_w = (slot * 0.7).min(48.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"{described_by}\" focusable=\"false\">"
    );
    svg.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{y}\" x2=\"{width}\" y2=\"{y}\" stroke=\"#57606a\" stroke-width=\"1\"/>",
        y = height - bottom
    ));
    for (i, bar) in bars.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
        let mut y = height - bottom;
        for (service, k) in &bar.parts {
            let h = (*k).max(0) as f64 / max * plot_h;
            if h <= 0.0 {
                continue;
            }
            y -= h;
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\" fill=\"{}\"/>",
                colour(*service)
            ));
        }
        // Every label when they fit, else every other one.
        if bars.len() <= 12 || i % 2 == 0 {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#1b1f24\">{}</text>",
                x + bar_w / 2.0,
                height - bottom + 16.0,
                escape(&bar.label)
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_month_and_escape_labels() {
        let bars = vec![
            Bar {
                label: "янв <26>".into(),
                parts: vec![(0, 100), (1, 100)],
            },
            Bar {
                label: "фев".into(),
                parts: vec![(0, 100), (1, -50)],
            },
        ];
        let svg = stacked_bars(&bars, "alt");
        assert_eq!(svg.matches("<rect").count(), 3, "a negative part draws nothing");
        assert!(svg.contains("янв &lt;26&gt;"));
        assert!(svg.contains("height=\"212.0\"") || svg.contains("height=\"106.0\""));
    }
}
