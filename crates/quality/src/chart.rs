//! Inline SVG bar charts: no script, no fonts to fetch; colours and text come from the page's CSS.
//! Every bar is one `<g class="bar">` (its segments `<rect>`s), so a reader and a test can count
//! them; every chart is `<svg class="chart" data-chart="<name>">`.

use std::fmt::Write;

/// Escapes text for HTML and SVG.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One stacked series: CSS class, legend text, a value per bar.
pub(crate) struct Series<'a> {
    pub class: &'a str,
    pub legend: &'a str,
    pub values: Vec<u64>,
}

/// The opening of a chart: its name (for readers and tests), size and accessible title.
fn svg_open(name: &str, title: &str, width: f64, height: f64) -> String {
    format!(
        "<svg class=\"chart\" data-chart=\"{}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{1}\">\
         <title>{1}</title>",
        esc(name),
        esc(title),
    )
}

/// A rounded-up axis maximum: 1, 2 or 5 times a power of ten.
fn nice_max(max: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            if step.saturating_mul(m) >= max {
                return step.saturating_mul(m).max(1);
            }
        }
        step = step.saturating_mul(10);
    }
}

fn legend(series: &[Series<'_>]) -> String {
    let mut out = String::from("<p class=\"legend\">");
    for s in series {
        let _ = write!(out, "<span class=\"key {}\"></span>{} ", esc(s.class), esc(s.legend));
    }
    out.push_str("</p>");
    out
}

/// Vertical stacked bars, one per label (every `label_every`-th label shown under the axis).
pub(crate) fn columns(name: &str, title: &str, labels: &[String], series: &[Series<'_>], label_every: usize) -> String {
    let (width, height, left, bottom, top) = (720.0, 220.0, 48.0, 24.0, 8.0);
    let n = labels.len().max(1);
    let totals: Vec<u64> = (0..n).map(|i| series.iter().map(|s| s.values.get(i).copied().unwrap_or(0)).sum()).collect();
    let max = nice_max(totals.iter().copied().max().unwrap_or(0));
    let plot_h = height - bottom - top;
    let slot = (width - left) / n as f64;
    let mut svg = svg_open(name, title, width, height);
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{left}\" y1=\"{y0}\" x2=\"{width}\" y2=\"{y0}\"/>\
         <text class=\"tick\" x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{max}</text>\
         <text class=\"tick\" x=\"{tx}\" y=\"{y0}\" text-anchor=\"end\">0</text>",
        y0 = top + plot_h,
        tx = left - 6.0,
        ty = top + 10.0,
    );
    for (i, label) in labels.iter().enumerate() {
        let x = left + slot * i as f64 + slot * 0.15;
        let w = slot * 0.7;
        let mut y = top + plot_h;
        let parts: Vec<String> =
            series.iter().map(|s| format!("{} {}", s.values.get(i).copied().unwrap_or(0), s.legend)).collect();
        let _ = write!(svg, "<g class=\"bar\"><title>{}: {}</title>", esc(label), esc(&parts.join(", ")));
        for s in series {
            let v = s.values.get(i).copied().unwrap_or(0);
            let h = plot_h * v as f64 / max as f64;
            y -= h;
            let _ = write!(
                svg,
                "<rect class=\"{}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\"/>",
                esc(s.class)
            );
        }
        svg.push_str("</g>");
        if i % label_every.max(1) == 0 {
            let _ = write!(
                svg,
                "<text class=\"tick\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x + w / 2.0,
                height - 6.0,
                esc(label)
            );
        }
    }
    svg.push_str("</svg>");
    svg + &legend(series)
}

/// Horizontal bars, one per row, with the value at the end of each.
pub(crate) fn rows(name: &str, title: &str, rows: &[(String, u64)], class: &str) -> String {
    let (width, row_h, label_w) = (720.0, 22.0, 200.0);
    let height = row_h * rows.len().max(1) as f64 + 4.0;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let plot_w = width - label_w - 90.0;
    let mut svg = svg_open(name, title, width, height);
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = 2.0 + row_h * i as f64;
        let w = plot_w * *v as f64 / max as f64;
        let _ = write!(
            svg,
            "<g class=\"bar\"><title>{l}: {v}</title>\
             <text class=\"label\" x=\"{lx}\" y=\"{ty:.1}\" text-anchor=\"end\">{l}</text>\
             <rect class=\"{c}\" x=\"{label_w}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\"/>\
             <text class=\"value\" x=\"{vx:.1}\" y=\"{ty:.1}\">{v}</text></g>",
            l = esc(label),
            lx = label_w - 8.0,
            ty = y + row_h * 0.68,
            c = esc(class),
            h = row_h * 0.7,
            vx = label_w + w + 6.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bar_is_a_group_and_text_is_escaped() {
        let labels: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
        let series = [Series { class: "valid", legend: "valid", values: vec![5; 24] }];
        let svg = columns("hours", "Records <per> hour", &labels, &series, 3);
        assert_eq!(svg.matches("<g class=\"bar\">").count(), 24);
        assert!(svg.contains("Records &lt;per&gt; hour") && svg.contains("data-chart=\"hours\""));
        let svg = rows("reasons", "r", &[("a&b".into(), 3), ("c".into(), 0)], "quarantined");
        assert_eq!(svg.matches("<g class=\"bar\">").count(), 2);
        assert!(svg.contains("a&amp;b"));
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(101), 200);
        assert_eq!(nice_max(4_900), 5_000);
    }
}
