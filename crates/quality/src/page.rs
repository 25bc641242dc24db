//! The report pages: one self-contained HTML file per date and an index over dates.

use std::collections::BTreeSet;
use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::chart::{Series, columns, esc, rows};
use crate::{DayFacts, LatenessBucket};

/// Kinds of quarantined records the page lists.
const PROBLEMS_SHOWN: usize = 15;

const STYLE: &str = "
:root { --valid: #2f7d4f; --bad: #c0392b; --median: #9aa5b1; --ink: #1d2733; --muted: #5b6875; }
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: var(--ink);
       max-width: 1080px; margin: 24px auto; padding: 0 20px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #dde3e9; }
p.meta, p.note, p.legend { color: var(--muted); margin: 4px 0; font-size: 12.5px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin: 16px 0; }
.card { border: 1px solid #dde3e9; border-radius: 6px; padding: 8px 12px; }
.card b { display: block; font-size: 20px; } .card span { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #edf0f3; vertical-align: top; }
th { background: #f5f7f9; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 12px; }
.pass { color: var(--valid); font-weight: 600; } .fail { color: var(--bad); font-weight: 600; }
svg.chart { width: 100%; height: auto; display: block; margin: 6px 0; }
svg .valid { fill: var(--valid); } svg .quarantined { fill: var(--bad); } svg .median { fill: var(--median); }
svg .axis { stroke: #aab4be; } svg text { font-size: 11px; fill: var(--muted); } svg text.label { fill: var(--ink); }
.key { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; vertical-align: middle; }
.key.valid { background: var(--valid); } .key.quarantined { background: var(--bad); } .key.median { background: var(--median); }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } table, svg { break-inside: avoid; } }
";

fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n{body}\n</body></html>\n",
        esc(title)
    )
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 { "–".into() } else { format!("{:.2}%", part as f64 * 100.0 / whole as f64) }
}

fn card(out: &mut String, value: &str, label: &str) {
    let _ = write!(out, "<div class=\"card\"><b>{}</b><span>{}</span></div>", esc(value), esc(label));
}

fn table(out: &mut String, header: &[&str], numeric: &[bool], body: &[Vec<String>]) {
    out.push_str("<table><thead><tr>");
    for (h, n) in header.iter().zip(numeric) {
        let _ = write!(out, "<th{}>{}</th>", if *n { " class=\"n\"" } else { "" }, esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in body {
        out.push_str("<tr>");
        for (cell, n) in row.iter().zip(numeric) {
            // Cells are escaped by the caller where they hold markup (rule results).
            let _ = write!(out, "<td{}>{cell}</td>", if *n { " class=\"n\"" } else { "" });
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn median(mut v: Vec<u64>) -> f64 {
    v.sort_unstable();
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2] as f64,
        n => (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0,
    }
}

/// One date's page. `source` names the project's source ("" for the default source).
pub fn day_page(facts: &DayFacts, source: &str, generated_at: DateTime<Utc>) -> String {
    let date = facts.date;
    let q = facts.quality();
    let mut b = String::new();
    let of_source = if source.is_empty() { String::new() } else { format!(" · source {source}") };
    let _ = write!(b, "<h1>Data quality · {date}{}</h1>", esc(&of_source));
    let _ = write!(
        b,
        "<p class=\"meta\">Built from the lake's manifests at {} (UTC). Arrival hours {date} 00:00–24:00; \
         gold and rules from the daily run of {date}. No record's contents appear on this page.</p>",
        generated_at.format("%Y-%m-%d %H:%M:%S")
    );

    // Rules first: they are what a reader acts on.
    b.push_str("<h2 id=\"rules\">Quality rules</h2>");
    match &facts.daily {
        Some(d) if !d.rules.is_empty() => {
            let failed = d.rules.iter().filter(|r| !r.passed).count();
            let _ = write!(
                b,
                "<p><span class=\"{}\">{} of {} rules failed</span></p>",
                if failed > 0 { "fail" } else { "pass" },
                failed,
                d.rules.len()
            );
            let body: Vec<Vec<String>> = d
                .rules
                .iter()
                .map(|r| {
                    let result =
                        if r.passed { "<span class=\"pass\">pass</span>" } else { "<span class=\"fail\">FAIL</span>" };
                    vec![
                        esc(&r.rule),
                        format!("<code>{}</code>", esc(&r.kind)),
                        result.into(),
                        esc(&r.summary),
                        esc(&r.failures.join("; ")),
                    ]
                })
                .collect();
            table(&mut b, &["rule", "kind", "result", "observed", "failing"], &[false; 5], &body);
        }
        Some(_) => b.push_str("<p class=\"note\">The project file declares no <code>[[quality.rules]]</code>.</p>"),
        None => {
            b.push_str("<p class=\"note\">The daily job has not built this date: no gold and no rule outcomes yet.</p>")
        }
    }

    b.push_str("<div class=\"cards\">");
    card(&mut b, &q.records.to_string(), "records read");
    card(&mut b, &q.valid.to_string(), "valid (silver)");
    card(&mut b, &format!("{} ({})", q.quarantined, pct(q.quarantined, q.records)), "quarantined");
    if let Some(d) = &facts.daily {
        card(&mut b, &d.counts.gold_rows.to_string(), "events in gold");
        card(&mut b, &d.counts.duplicates.to_string(), "re-deliveries removed");
        card(&mut b, &d.counts.conflicts.to_string(), "conflicts removed");
    }
    card(&mut b, &facts.missing_hours().len().to_string(), "arrival hours missing");
    b.push_str("</div>");

    // Records per arrival hour.
    b.push_str("<h2 id=\"hours\">Records per arrival hour</h2>");
    let labels: Vec<String> = facts.hours.iter().map(|(h, _)| format!("{:02}", h.hour_of_day())).collect();
    let per = |f: fn(&eventlake_lake::manifest::Counts) -> u64| -> Vec<u64> {
        facts.hours.iter().map(|(_, m)| m.as_ref().map_or(0, |m| f(&m.counts))).collect()
    };
    let series = [
        Series { class: "valid", legend: "valid", values: per(|c| c.valid) },
        Series { class: "quarantined", legend: "quarantined", values: per(|c| c.quarantined) },
    ];
    b.push_str(&columns("hours", &format!("Records per arrival hour, {date}"), &labels, &series, 3));

    // Quarantine.
    b.push_str("<h2 id=\"quarantine\">Quarantine</h2>");
    if q.quarantined == 0 {
        b.push_str("<p>No record was quarantined.</p>");
    } else {
        let mut reasons: Vec<(String, u64)> =
            q.by_reason.iter().filter(|(_, n)| **n > 0).map(|(r, n)| (r.clone(), *n)).collect();
        reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
        b.push_str("<p class=\"note\">By reason</p>");
        b.push_str(&rows("reasons", "Quarantined records by reason", &reasons, "quarantined"));
        let names: BTreeSet<&String> = q.quarantined_by_event_name.keys().collect();
        let mut by_name: Vec<Vec<String>> = names
            .into_iter()
            .map(|n| {
                let bad = q.quarantined_by_event_name.get(n).copied().unwrap_or(0);
                // As the rule counts them: records without a name against all the day's records.
                let total = if n.is_empty() { q.records } else { bad + q.by_event_name.get(n).copied().unwrap_or(0) };
                let shown = if n.is_empty() { "(no event name)".to_owned() } else { n.clone() };
                vec![esc(&shown), bad.to_string(), total.to_string(), pct(bad, total)]
            })
            .collect();
        by_name.sort_by_key(|r| std::cmp::Reverse(r[1].parse::<u64>().unwrap_or(0)));
        b.push_str("<p class=\"note\">By event name</p>");
        table(&mut b, &["event name", "quarantined", "records", "rate"], &[false, true, true, true], &by_name);
        let problems: Vec<Vec<String>> = q
            .quarantine_groups
            .iter()
            .take(PROBLEMS_SHOWN)
            .map(|g| {
                let name = if g.event_name.is_empty() { "–" } else { &g.event_name };
                let pointer = if g.pointer.is_empty() { "(record)" } else { &g.pointer };
                vec![
                    esc(&g.reason),
                    esc(name),
                    format!("<code>{}</code>", esc(pointer)),
                    format!("<code>{}</code>", esc(&g.keyword)),
                    g.records.to_string(),
                    esc(&g.example),
                ]
            })
            .collect();
        b.push_str(
            "<p class=\"note\">Most frequent problems (JSON pointers with array items as <code>*</code>; \
                    values in the explanations are masked: text as \"…\", numbers as #)</p>",
        );
        table(
            &mut b,
            &["reason", "event name", "where", "keyword", "records", "example"],
            &[false, false, false, false, true, false],
            &problems,
        );
    }

    // Volume per event type against the previous week.
    b.push_str("<h2 id=\"volume\">Volume per event type, against the previous 7 days</h2>");
    match &facts.daily {
        None => b.push_str("<p class=\"note\">Not built yet.</p>"),
        Some(d) => {
            let history = facts.history_by_type();
            let types: BTreeSet<&String> =
                d.counts.by_event_type.keys().chain(history.iter().flat_map(|(_, m)| m.keys())).collect();
            let mut bars: Vec<(String, u64)> = Vec::new();
            let mut body = Vec::new();
            for t in types {
                let today = d.counts.by_event_type.get(t).copied().unwrap_or(0);
                let past: Vec<u64> = history.iter().map(|(_, m)| m.get(t).copied().unwrap_or(0)).collect();
                let m = median(past.clone());
                let change = if m > 0.0 { format!("{:+.1}%", (today as f64 - m) * 100.0 / m) } else { "new".into() };
                let range = match (past.iter().min(), past.iter().max()) {
                    (Some(lo), Some(hi)) => format!("{lo}–{hi}"),
                    _ => "–".into(),
                };
                bars.push((format!("{t} (today)"), today));
                bars.push((format!("{t} (median)"), m.round() as u64));
                body.push(vec![esc(t), today.to_string(), format!("{m}"), change, range]);
            }
            let _ = write!(b, "<p class=\"note\">{} previous day(s) with a daily run.</p>", history.len());
            table(
                &mut b,
                &["event type", "today", "7-day median", "change", "range"],
                &[false, true, true, true, true],
                &body,
            );
            b.push_str(&rows("volume", "Events in gold today and the 7-day median", &bars, "valid"));
        }
    }

    // Duplicates and conflicts.
    b.push_str("<h2 id=\"duplicates\">Duplicates and conflicts per event name</h2>");
    match &facts.daily {
        None => b.push_str("<p class=\"note\">Not built yet.</p>"),
        Some(d) => {
            let body: Vec<Vec<String>> = d
                .by_event_name
                .iter()
                .map(|n| {
                    let silver = n.events + n.duplicates + n.conflicts;
                    vec![
                        esc(&n.event_name),
                        n.events.to_string(),
                        n.duplicates.to_string(),
                        n.conflicts.to_string(),
                        pct(n.duplicates + n.conflicts, silver),
                        n.late.to_string(),
                        esc(n.last_event_time.as_deref().unwrap_or("–")),
                    ]
                })
                .collect();
            table(
                &mut b,
                &["event name", "events", "re-deliveries", "conflicts", "removed", "late", "latest event"],
                &[false, true, true, true, true, true, false],
                &body,
            );
        }
    }

    // Lateness.
    b.push_str("<h2 id=\"lateness\">Lateness: arrival hour against event hour</h2>");
    let lateness: Vec<(String, u64)> =
        facts.lateness().into_iter().map(|(bucket, n)| (bucket.label().to_owned(), n)).collect();
    b.push_str(&rows("lateness", "Silver rows by lateness", &lateness, "valid"));
    let _ = write!(
        b,
        "<p class=\"note\">Silver rows of the day's arrival hours by how long after their event hour they arrived \
         ({} buckets); records outside the acceptance window are in the quarantine as <code>out_of_window</code>.</p>",
        LatenessBucket::ALL.len()
    );

    // Hours.
    b.push_str("<h2 id=\"missing\">Missing or failed hours</h2>");
    let missing = facts.missing_hours();
    if missing.is_empty() && facts.failed_hours.is_empty() {
        b.push_str("<p>Every arrival hour of the day committed.</p>");
    } else {
        b.push_str("<ul>");
        for h in &missing {
            let _ = write!(b, "<li><code>{}</code>: no hourly manifest</li>", esc(h));
        }
        for h in &facts.failed_hours {
            let _ = write!(b, "<li><code>{h}</code>: an attempt started and has not committed</li>");
        }
        b.push_str("</ul>");
    }

    // Schemas.
    b.push_str("<h2 id=\"schemas\">Schema versions in force</h2>");
    let versions: Vec<Vec<String>> = facts
        .schema_versions()
        .into_iter()
        .map(|(fingerprint, version, hours)| {
            let hours: Vec<String> = hours.iter().map(|h| format!("{h:02}")).collect();
            vec![
                format!("<code>{}</code>", esc(&fingerprint.chars().take(16).collect::<String>())),
                esc(&version),
                hours.join(" "),
            ]
        })
        .collect();
    table(&mut b, &["schema fingerprint", "eventlake", "arrival hours"], &[false; 3], &versions);
    if let Some(d) = &facts.daily {
        let _ = write!(
            b,
            "<p class=\"note\">Gold was built with schema fingerprint <code>{}</code>.</p>",
            esc(&d.schema_fingerprint.chars().take(16).collect::<String>())
        );
    }

    document(&format!("Data quality {date}{of_source}"), &b)
}

/// An index over dates, newest first, with records per day and each day's outcome.
pub fn index_page(days: &[DayFacts], source: &str, generated_at: DateTime<Utc>) -> String {
    let mut b = String::new();
    let of_source = if source.is_empty() { String::new() } else { format!(" · source {source}") };
    let _ = write!(b, "<h1>Data quality{}</h1>", esc(&of_source));
    let _ = write!(
        b,
        "<p class=\"meta\">{} day(s), built at {} (UTC).</p>",
        days.len(),
        generated_at.format("%Y-%m-%d %H:%M:%S")
    );
    let labels: Vec<String> = days.iter().map(|d| d.date.format("%m-%d").to_string()).collect();
    let quality: Vec<_> = days.iter().map(DayFacts::quality).collect();
    let series = [
        Series { class: "valid", legend: "valid", values: quality.iter().map(|q| q.valid).collect() },
        Series { class: "quarantined", legend: "quarantined", values: quality.iter().map(|q| q.quarantined).collect() },
    ];
    b.push_str(&columns("days", "Records per day", &labels, &series, days.len().div_ceil(15).max(1)));
    let mut body: Vec<Vec<String>> = Vec::new();
    for (d, q) in days.iter().zip(&quality).rev() {
        let failed = d.daily.as_ref().map(|m| m.rules.iter().filter(|r| !r.passed).count());
        let rules = match (&d.daily, failed) {
            (None, _) => "not built".to_owned(),
            (Some(m), _) if m.rules.is_empty() => "–".to_owned(),
            (Some(_), Some(0)) => "<span class=\"pass\">pass</span>".into(),
            (Some(_), Some(n)) => format!("<span class=\"fail\">{n} failed</span>"),
            (Some(_), None) => "–".into(),
        };
        body.push(vec![
            format!("<a href=\"dt={0}/index.html\">{0}</a>", d.date),
            q.records.to_string(),
            pct(q.quarantined, q.records),
            d.daily.as_ref().map_or("–".into(), |m| m.counts.gold_rows.to_string()),
            d.daily.as_ref().map_or("–".into(), |m| m.counts.duplicates.to_string()),
            d.missing_hours().len().to_string(),
            rules,
        ]);
    }
    table(
        &mut b,
        &["date", "records", "quarantined", "gold", "re-deliveries", "missing hours", "rules"],
        &[false, true, true, true, true, true, false],
        &body,
    );
    document(&format!("Data quality{of_source}"), &b)
}
