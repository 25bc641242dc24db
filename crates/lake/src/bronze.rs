//! Which bronze objects of an arrival hour are events: the listing the hourly job reads, records in
//! its manifest, and later compares against to find hours whose bronze changed after their run.

use std::fmt;
use std::str::FromStr;

use object_store::path::Path;

use crate::error::Result;
use crate::layout::Hour;
use crate::manifest::InputObject;
use crate::store::Lake;

/// How a producer names the folder of an arrival hour under its bronze prefix: a template with
/// `{YYYY}`, `{MM}`, `{DD}` and `{HH}` once each, or a preset name.
///
/// | preset | template | who writes it |
/// |---|---|---|
/// | `firehose` (default) | `{YYYY}/{MM}/{DD}/{HH}` | Kinesis Data Firehose |
/// | `hive` | `yyyy={YYYY}/mm={MM}/dd={DD}/hh={HH}` | Hive-style exporters |
/// | `dt-hour` | `dt={YYYY}-{MM}-{DD}/hour={HH}` | Spark/Glue `partitionBy(dt, hour)` |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrivalLayout {
    template: String,
}

/// The parts of an hour a template names, with their width in digits.
const TOKENS: [(&str, usize); 4] = [("{YYYY}", 4), ("{MM}", 2), ("{DD}", 2), ("{HH}", 2)];

impl ArrivalLayout {
    pub const PRESETS: &[(&str, &str)] = &[
        ("firehose", "{YYYY}/{MM}/{DD}/{HH}"),
        ("hive", "yyyy={YYYY}/mm={MM}/dd={DD}/hh={HH}"),
        ("dt-hour", "dt={YYYY}-{MM}-{DD}/hour={HH}"),
    ];

    /// The template, with presets expanded.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// The folder of `hour` (no leading or trailing `/`).
    pub fn dir(&self, hour: Hour) -> String {
        use chrono::{Datelike, Timelike};
        let t = hour.start();
        self.template
            .replace("{YYYY}", &format!("{:04}", t.year()))
            .replace("{MM}", &format!("{:02}", t.month()))
            .replace("{DD}", &format!("{:02}", t.day()))
            .replace("{HH}", &format!("{:02}", t.hour()))
    }

    /// The arrival hour of an object key whose folder ends with this layout (`…/<layout>/<file>`).
    pub fn hour_of(&self, key: &str) -> Option<Hour> {
        let (dir, _) = key.rsplit_once('/')?;
        let wanted = self.template.split('/').count();
        let segments: Vec<&str> = dir.split('/').collect();
        let tail = segments.get(segments.len().checked_sub(wanted)?..)?.join("/");
        // [year, month, day, hour] as read from the key.
        let mut parts = [String::new(), String::new(), String::new(), String::new()];
        let (mut t, mut k) = (self.template.as_str(), tail.as_str());
        while !t.is_empty() {
            if let Some((i, (token, width))) = TOKENS.iter().enumerate().find(|(_, (tok, _))| t.starts_with(tok)) {
                let digits = k.get(..*width).filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
                parts[i] = digits.to_owned();
                t = &t[token.len()..];
                k = &k[*width..];
            } else {
                let c = t.chars().next()?;
                k = k.strip_prefix(c)?;
                t = &t[c.len_utf8()..];
            }
        }
        if !k.is_empty() {
            return None;
        }
        format!("{}-{}-{}T{}", parts[0], parts[1], parts[2], parts[3]).parse().ok()
    }
}

impl Default for ArrivalLayout {
    fn default() -> Self {
        ArrivalLayout { template: Self::PRESETS[0].1.into() }
    }
}

impl FromStr for ArrivalLayout {
    type Err = String;

    /// A preset name or a template; the template must name each part once and stay inside its
    /// folder (no empty, `.` or `..` segments).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let template = Self::PRESETS.iter().find(|(name, _)| *name == s).map_or(s, |(_, t)| t).trim_matches('/');
        for (token, _) in TOKENS {
            if template.matches(token).count() != 1 {
                return Err(format!(
                    "arrival layout {s:?} must contain {token} exactly once (presets: firehose, hive, dt-hour)"
                ));
            }
        }
        if template.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..") {
            return Err(format!("arrival layout {s:?} has an empty, `.` or `..` folder"));
        }
        if template.contains(['*', '?', '\\']) {
            return Err(format!("arrival layout {s:?} may not contain `*`, `?` or `\\`"));
        }
        Ok(ArrivalLayout { template: template.to_owned() })
    }
}

impl fmt::Display for ArrivalLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Self::PRESETS.iter().find(|(_, t)| *t == self.template) {
            Some((name, _)) => f.write_str(name),
            None => f.write_str(&self.template),
        }
    }
}

/// Folder names Firehose uses for records it could not deliver; objects below them are not events.
pub const DEFAULT_ERROR_PREFIXES: &[&str] =
    &["processing-failed", "format-conversion-failed", "errors", "error", "http-endpoint-failed", "splunk-failed"];

/// Where a lake's bronze is and which of its folders are not events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BronzeListing {
    /// Prefix under the lake root; the arrival layout follows it.
    pub prefix: String,
    /// How the hour folders under the prefix are named.
    pub layout: ArrivalLayout,
    /// Folder names under an hour whose objects are not events (Firehose error output).
    pub error_prefixes: Vec<String>,
}

impl Default for BronzeListing {
    fn default() -> Self {
        BronzeListing {
            prefix: crate::layout::DEFAULT_BRONZE_PREFIX.into(),
            layout: ArrivalLayout::default(),
            error_prefixes: DEFAULT_ERROR_PREFIXES.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl BronzeListing {
    /// The folder of one arrival hour.
    pub fn hour_dir(&self, hour: Hour) -> Path {
        Path::from(format!("{}/{}", self.prefix.trim_matches('/'), self.layout.dir(hour)))
    }

    /// The event objects of one arrival hour, sorted by key.
    pub async fn list_hour(&self, lake: &Lake, hour: Hour) -> Result<Vec<InputObject>> {
        let dir = self.hour_dir(hour);
        let objects = lake.list(&dir).await?;
        let mut out = Vec::new();
        for meta in objects {
            let rel: Vec<String> = meta
                .location
                .prefix_match(&dir)
                .map(|p| p.map(|x| x.as_ref().to_owned()).collect())
                .unwrap_or_default();
            let in_error_folder =
                rel.len() > 1 && rel[..rel.len() - 1].iter().any(|seg| self.error_prefixes.iter().any(|e| e == seg));
            // Temporary or hidden objects (`.staging/…`, `_temporary/…`, `.x.swp`) at any depth.
            let hidden = rel.iter().any(|seg| seg.starts_with('.') || seg.starts_with('_'));
            if in_error_folder || hidden {
                tracing::debug!(key = %meta.location, "skipping non-event object");
                continue;
            }
            out.push(InputObject { key: meta.location.to_string(), size: meta.size, etag: meta.e_tag.clone() });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hour(s: &str) -> Hour {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    #[test]
    fn layouts_name_hour_folders_both_ways() {
        let cases = [
            ("firehose", "2022/06/05/12", "bronze/2022/06/05/12/events-1"),
            ("hive", "yyyy=2022/mm=06/dd=05/hh=12", "paidy/yyyy=2022/mm=06/dd=05/hh=12/file001.csv"),
            ("dt-hour", "dt=2022-06-05/hour=12", "x/dt=2022-06-05/hour=12/part.json"),
            ("exports/{YYYY}{MM}{DD}-{HH}h", "exports/20220605-12h", "s/exports/20220605-12h/a.json"),
        ];
        for (spec, dir, key) in cases {
            let layout: ArrivalLayout = spec.parse().unwrap();
            assert_eq!(layout.dir(hour("2022-06-05T12")), dir, "{spec}");
            assert_eq!(layout.hour_of(key), Some(hour("2022-06-05T12")), "{spec}");
            assert_eq!(layout.to_string(), spec);
        }
        let hive: ArrivalLayout = "hive".parse().unwrap();
        assert_eq!(hive.hour_of("paidy/yyyy=2022/mm=6/dd=05/hh=12/f.csv"), None, "two digits");
        assert_eq!(hive.hour_of("paidy/2022/06/05/12/f.csv"), None);
        assert_eq!(ArrivalLayout::default().hour_of("bronze/2026/11/20/05/x"), Some(hour("2026-11-20T05")));
        let listing = BronzeListing { prefix: "/raw/firehose/".into(), ..BronzeListing::default() };
        assert_eq!(listing.hour_dir(hour("2026-11-20T11")).as_ref(), "raw/firehose/2026/11/20/11");
        for bad in ["{YYYY}/{MM}/{DD}", "{YYYY}/{MM}/{DD}/{HH}/{HH}", "{YYYY}//{MM}/{DD}/{HH}", "../{YYYY}{MM}{DD}{HH}"]
        {
            assert!(bad.parse::<ArrivalLayout>().is_err(), "{bad}");
        }
    }
}
