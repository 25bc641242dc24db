//! Data quality: the report page (`eventlake report`, `daily --report`) checked against the
//! manifests it is built from and opened in a real headless Chromium; the quality rules of the
//! project file, one passing and one failing case per kind, through the CLI with exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::daily::{DAY, DAY_HOURS, daily, daily_manifest, hourly_range, put_daily_fixture};
use crate::support::{TestLake, eventlake, run};

on_each_backend!(each_rule_kind_passes_and_fails_through_the_cli);

/// The demo's day.
const DEMO_DAY: &str = "2026-11-20";

/// The `<svg … data-chart="name">` element of `html` and how many bars (`<g class="bar">`) it has.
fn chart_bars(html: &str, name: &str) -> Option<usize> {
    let start = html.find(&format!("data-chart=\"{name}\""))?;
    let end = start + html[start..].find("</svg>")?;
    Some(html[start..end].matches("<g class=\"bar\">").count())
}

/// A number shown on a card (`<div class="card"><b>N</b><span>label</span></div>`).
fn card(html: &str, label: &str) -> String {
    let at = html.find(&format!("<span>{label}</span>")).unwrap_or_else(|| panic!("no card {label:?}"));
    let b = html[..at].rfind("<b>").unwrap();
    html[b + 3..at].trim_end_matches("</b>").to_owned()
}

/// Runs the demo into a fresh folder and returns it.
fn demo() -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix("eventlake-e2e-report-").tempdir().unwrap();
    let mut cmd = eventlake();
    cmd.arg("demo").arg("--dir").arg(dir.path());
    let out = run(cmd);
    out.assert_exit(0);
    assert!(out.stdout.contains("Data-quality page of 2026-11-20"), "{out}");
    dir
}

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

#[test]
fn the_demo_report_shows_what_the_manifests_hold() {
    let dir = demo();
    let lake = dir.path().join("lake");
    // The demo's daily run wrote the page; `eventlake report` rewrites it and copies it out.
    let written = lake.join(format!("reports/dt={DEMO_DAY}/index.html"));
    assert!(written.is_file(), "daily --report wrote {}", written.display());
    let out_dir = dir.path().join("pages");
    let mut cmd = eventlake();
    cmd.args(["report", "--lake"]).arg(&lake).arg("--config").arg(dir.path().join("paidy/eventlake.toml"));
    cmd.args(["--source", "default,paidy", "--date", DEMO_DAY, "--out"]).arg(&out_dir);
    let report = run(cmd);
    report.assert_exit(0);
    let html = std::fs::read_to_string(out_dir.join(format!("dt={DEMO_DAY}/index.html"))).unwrap();
    assert_eq!(html, std::fs::read_to_string(&written).unwrap(), "the lake's page and the local copy");
    assert!(out_dir.join("paidy").join(format!("dt={DEMO_DAY}/index.html")).is_file(), "the CSV source's page");
    assert!(out_dir.join("index.html").is_file(), "the index");

    // Numbers against the manifests of the day's arrival hours and its daily run.
    let mut records = 0;
    let mut quarantined = 0;
    let mut by_hour = Vec::new();
    for hour in 0..24 {
        let path = lake.join(format!("_manifests/hourly/dt={DEMO_DAY}/hour={hour:02}.json"));
        if path.is_file() {
            let m = json_file(&path);
            records += m["counts"]["records"].as_u64().unwrap();
            quarantined += m["counts"]["quarantined"].as_u64().unwrap();
            by_hour.push(hour);
        }
    }
    assert_eq!(by_hour, [5, 6], "the demo's two arrival hours");
    assert!(quarantined > 0, "the demo quarantines its bad records");
    let daily = json_file(&lake.join(format!("_manifests/daily/dt={DEMO_DAY}.json")));
    assert_eq!(card(&html, "records read"), records.to_string());
    assert!(card(&html, "quarantined").starts_with(&format!("{quarantined} (")), "{}", card(&html, "quarantined"));
    assert_eq!(card(&html, "events in gold"), daily["counts"]["gold_rows"].to_string());
    // 22 of the day and the 2 after midnight its completeness window needs.
    assert_eq!(card(&html, "arrival hours missing"), "24");
    for (reason, n) in daily["quality"]["by_reason"].as_object().unwrap() {
        if n.as_u64() != Some(0) {
            assert!(html.contains(&format!("<title>{reason}: {n}</title>")), "reason {reason} with {n}");
        }
    }
    // The rules the daily job recorded, and their outcomes.
    let rules = daily["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 5, "the demo project's five rules");
    for r in rules {
        let shown =
            format!("<td>{}</td><td><code>{}</code></td>", r["rule"].as_str().unwrap(), r["kind"].as_str().unwrap());
        assert!(html.contains(&shown), "rule {r}");
    }
    let missing = rules.iter().find(|r| r["kind"] == "missing_hours").unwrap();
    assert_eq!(missing["passed"], false, "the demo has 2 of 24 hours: {missing}");

    // Charts: 24 arrival hours; one bar per reason; 7 lateness buckets.
    assert_eq!(chart_bars(&html, "hours"), Some(24));
    let reasons = daily["quality"]["by_reason"].as_object().unwrap().values().filter(|n| n.as_u64() != Some(0)).count();
    assert_eq!(chart_bars(&html, "reasons"), Some(reasons));
    assert_eq!(chart_bars(&html, "lateness"), Some(7));

    // Self-contained and free of the records' contents.
    assert!(
        !html.contains("<script") && !html.contains("http://") && !html.contains("https://") && !html.contains("src=")
    );
    for line in std::fs::read_dir(lake.join(format!("quarantine/dt={DEMO_DAY}"))).unwrap().flat_map(|h| {
        std::fs::read_dir(h.unwrap().path()).unwrap().map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
    }) {
        for q in line.lines() {
            let record: Value = serde_json::from_str(q).unwrap();
            let text = record["record"].as_str().unwrap();
            if text.trim().len() > 12 {
                assert!(!html.contains(&escaped(text.trim())), "a record's contents on the page: {text}");
            }
        }
    }
}

/// Text as the page escapes it.
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Chromium from Debian (`tests/run` installs it and sets `EVENTLAKE_TEST_CHROMIUM`).
fn chromium() -> Option<PathBuf> {
    match std::env::var("EVENTLAKE_TEST_CHROMIUM") {
        Ok(path) => Some(PathBuf::from(path)),
        Err(_) => {
            eprintln!(
                "note: skipped the Chromium test: no EVENTLAKE_TEST_CHROMIUM; run tests/run (it installs chromium)"
            );
            None
        }
    }
}

#[test]
fn the_report_renders_in_headless_chromium_without_errors() {
    let Some(chromium) = chromium() else { return };
    let dir = demo();
    let page = dir.path().join(format!("lake/reports/dt={DEMO_DAY}/index.html"));
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("chromium-profile");
    let headless = |extra: &[&str]| {
        let mut cmd = Command::new(&chromium);
        cmd.args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]);
        cmd.arg(format!("--user-data-dir={}", profile.display()));
        cmd.args(["--enable-logging=stderr", "--v=0", "--window-size=1280,2600"]).args(extra).arg(&url);
        cmd.output().unwrap()
    };
    // The DOM as Chromium parsed it: every chart there, with its bars.
    let dom = headless(&["--dump-dom"]);
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom_text = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert_eq!(chart_bars(&dom_text, "hours"), Some(24), "the hours chart in the rendered DOM");
    assert_eq!(chart_bars(&dom_text, "lateness"), Some(7));
    assert!(chart_bars(&dom_text, "reasons").is_some_and(|n| n > 0));
    assert!(chart_bars(&dom_text, "volume").is_some_and(|n| n > 0));
    let console: Vec<&str> = std::str::from_utf8(&dom.stderr)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("ERR_FILE_NOT_FOUND"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:#?}");

    // The screenshot, kept as a test artefact.
    let artefacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artefacts");
    std::fs::create_dir_all(&artefacts).unwrap();
    let shot = artefacts.join("quality-report.png");
    let _ = std::fs::remove_file(&shot);
    let taken = headless(&[&format!("--screenshot={}", shot.display())]);
    assert!(taken.status.success(), "{}", String::from_utf8_lossy(&taken.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "a screenshot of the page ({} bytes)", png.len());
}

/// `[[quality.rules]]` in a project file of its own (no sources: the flags' source).
fn rules_file(dir: &Path, rules: &str) -> PathBuf {
    let path = dir.join(format!("rules-{}.toml", rules.len()));
    std::fs::write(&path, rules).unwrap();
    path
}

fn each_rule_kind_passes_and_fails_through_the_cli(lake: TestLake) {
    put_daily_fixture(&lake, "dedup");
    // One record without an event name: quarantined (bad envelope), counted under no name.
    lake.put("bronze/2026/11/20/06/zz-bad.ndjson", b"{\"event_uuid\": \"nameless\"}\n");
    hourly_range(&lake, DAY_HOURS);
    let dir = tempfile::tempdir().unwrap();
    let check = |rule: &str, extra: &[&str]| {
        let config = rules_file(dir.path(), &format!("[[quality.rules]]\n{rule}\n"));
        let mut args = vec!["--date", DAY, "--force", "--fail-on-rule"];
        args.extend(extra);
        let config = config.display().to_string();
        let out = daily(&lake, &[&args[..], &["--config", &config]].concat());
        let m = daily_manifest(&lake, DAY).unwrap();
        (out, m["rules"][0].clone())
    };
    let passes = |rule: &str, extra: &[&str]| {
        let (out, outcome) = check(rule, extra);
        out.assert_exit(0);
        assert_eq!(outcome["passed"], true, "{rule}: {outcome}\n{out}");
        let emf = out.emf();
        assert!(emf.iter().any(|m| m["rules_failed"] == 0.0), "{out}");
        outcome
    };
    let fails = |rule: &str, extra: &[&str]| {
        let (out, outcome) = check(rule, extra);
        out.assert_exit(3);
        assert_eq!(outcome["passed"], false, "{rule}: {outcome}\n{out}");
        assert!(out.stderr.contains("quality rule(s) failed") && out.stderr.contains("exit 3"), "{out}");
        assert!(out.emf().iter().any(|m| m["rules_failed"] == 1.0), "{out}");
        outcome
    };

    // Quarantine: the fixture's truncated record and the nameless one, 2 of 16 (records without a
    // name count against all the day's records).
    passes("kind = \"quarantine_rate\"\nmax = 0.15", &[]);
    let q = fails("kind = \"quarantine_rate\"\nmax = 0.10", &[]);
    assert_eq!(q["failures"], json!(["(no event name): 12.5% quarantined (2 of 16)"]), "{q}");

    // Re-deliveries: the fixture's 6 of 14 silver rows, spread over its event names.
    passes("kind = \"duplicates_rate\"\nmax = 0.9", &[]);
    let d = fails("kind = \"duplicates_rate\"\nmax = 0.01", &[]);
    assert!(d["summary"].as_str().unwrap().starts_with("highest "), "{d}");

    // Freshness: the fixture's latest event is 1 ms before midnight.
    passes("kind = \"freshness\"\nmax_age = \"1m\"", &[]);
    let f = fails("kind = \"freshness\"\nmax_age = \"0s\"", &[]);
    assert!(f["summary"].as_str().unwrap().starts_with("latest event 2026-11-20 23:59:59"), "{f}");
    assert!(f["summary"].as_str().unwrap().ends_with("before the day's end (max 0s)"), "{f}");

    // Missing hours: every arrival hour ran; then one manifest is gone (built with
    // --allow-incomplete, the rule still fails).
    passes("kind = \"missing_hours\"", &[]);
    lake.delete(&format!("_manifests/hourly/dt={DAY}/hour=13.json"));
    let m = fails("kind = \"missing_hours\"", &["--allow-incomplete"]);
    assert_eq!(m["failures"], json!(["2026-11-20T13"]), "{m}");
    hourly_range(&lake, ("2026-11-20T13", "2026-11-20T14"));

    // Volume: three earlier days like this one pass; three with ten times its volume fail.
    let today = daily_manifest(&lake, DAY).unwrap();
    let with_volume = |factor: u64| {
        for back in 1..=3 {
            let date = chrono::NaiveDate::parse_from_str(DAY, "%Y-%m-%d").unwrap() - chrono::Duration::days(back);
            let mut m = today.clone();
            m["date"] = date.to_string().into();
            for n in m["counts"]["by_event_type"].as_object_mut().unwrap().values_mut() {
                *n = (n.as_u64().unwrap() * factor).into();
            }
            lake.put(&format!("_manifests/daily/dt={date}.json"), serde_json::to_string(&m).unwrap().as_bytes());
        }
    };
    let no_history = passes("kind = \"volume\"\nwithin = 0.5", &[]);
    assert!(no_history["summary"].as_str().unwrap().starts_with("not enough history"), "{no_history}");
    with_volume(1);
    passes("kind = \"volume\"\nwithin = 0.5", &[]);
    with_volume(10);
    let v = fails("kind = \"volume\"\nwithin = 0.5", &[]);
    assert!(v["failures"].as_array().unwrap().iter().any(|f| f.as_str().unwrap().contains("(-90.0%)")), "{v}");

    // Without --fail-on-rule a failing rule is a warning: exit 0, the outcome still recorded.
    let config = rules_file(dir.path(), "[[quality.rules]]\nkind = \"freshness\"\nmax_age = \"0s\"\n");
    let out = daily(&lake, &["--date", DAY, "--force", "--config", &config.display().to_string()]);
    out.assert_exit(0);
    assert!(out.stderr.contains("warning: 2026-11-20: quality rule(s) failed: freshness"), "{out}");
    // A bad rule is a usage error naming the file and the rule.
    let bad = rules_file(dir.path(), "[[quality.rules]]\nkind = \"volume\"\n");
    let out = daily(&lake, &["--date", DAY, "--config", &bad.display().to_string()]);
    out.assert_exit(2);
    assert!(out.stderr.contains("quality rule 1: \"volume\" needs `within`"), "{out}");
}
