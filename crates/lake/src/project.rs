//! The project file (`eventlake.toml`): the sources of one lake, each with its bronze, its format,
//! its schemas and its envelope.
//!
//! ```toml
//! [sources.paidy]                       # a name: lower snake case
//! bronze_prefix = "paidy"               # under the lake root (or `bronze = "s3://landing/paidy"`)
//! layout = "hive"                       # firehose | hive | dt-hour | a {YYYY}{MM}{DD}{HH} template
//! format = "csv"                        # json (NDJSON, concatenated or arrays; default) | csv
//! table = "loan_applications"           # an entity table: records carry no event name…
//! schema = "schemas/paidy/loan.json"    # …and this one schema (`schemas = "dir"` for events)
//! csv = { null = ["NA"], skip_columns = [""] }
//! envelope = { content_id = true }      # id, name, time, time_format, timezone, content_id
//! ```
//!
//! Data-quality rules, checked by the daily job for every source's day and shown in its report:
//!
//! ```toml
//! [[quality.rules]]
//! kind = "quarantine_rate"              # per event name: quarantined / records at most `max`
//! max = 0.02
//! [[quality.rules]]
//! kind = "volume"                       # per event type: gold rows within ±`within` of the
//! within = 0.5                          # median of the previous 7 days (once 3 days exist)
//! [[quality.rules]]
//! kind = "missing_hours"                # every arrival hour of the day committed
//! [[quality.rules]]
//! kind = "duplicates_rate"              # per event name: re-deliveries / silver rows at most `max`
//! max = 0.05
//! [[quality.rules]]
//! kind = "freshness"                    # the day's latest event at most `max_age` before its end
//! max_age = "2h"
//! name = "orders still flowing"         # optional, any rule: the name reports and metrics show
//! ```
//!
//! A named source keeps its outputs, manifests, leases and quarantine in a lake of its own below
//! `sources/<name>/` ([`crate::layout::source_root`]); the default source (the command-line flags)
//! uses the lake root. Relative paths are read from the project file's folder.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};

use eventlake_contract::delimited::CsvDialect;
use eventlake_contract::records::RecordFormat;
use eventlake_contract::registry::EntityTable;
use eventlake_contract::types::identifier;
use eventlake_contract::{CompileOptions, Envelope, RegistryOptions, TimeFormat};
use serde::{Deserialize, Serialize};

use crate::bronze::{ArrivalLayout, BronzeListing};

/// Why a project file cannot be used; each names the file and, where it applies, the source.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{path}: cannot read: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },

    #[error("{path}: {cause}")]
    Toml { path: PathBuf, cause: Box<toml::de::Error> },

    #[error("{path}: source {source_name:?}: {reason}")]
    Source { path: PathBuf, source_name: String, reason: String },

    #[error("{path}: quality rule {index}: {reason}")]
    Rule { path: PathBuf, index: usize, reason: String },
}

/// One source as the project file declares it, resolved (paths absolute, names checked).
#[derive(Debug, Clone)]
pub struct SourceSpec {
    /// Lower snake case; names the folder `sources/<name>` and the source's own tables.
    pub name: String,
    pub bronze: BronzeListing,
    /// The bronze store, when it is not the lake (`bronze = "s3://…"`).
    pub bronze_url: Option<String>,
    pub format: RecordFormat,
    /// The schema folder (for an entity table, the folder of its schema file).
    pub schemas: PathBuf,
    pub options: RegistryOptions,
}

/// A data-quality rule (`[[quality.rules]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityRule {
    /// What reports and metrics call it (default: the kind).
    pub name: String,
    pub check: RuleCheck,
}

/// What a rule checks, with its limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleCheck {
    /// Per event name: quarantined records / records of the day's arrival hours ≤ `max`.
    QuarantineRate { max: f64 },
    /// Per event type: gold rows within ±`within` (a fraction) of the median of the previous 7
    /// days' gold rows, once `min_history_days` of them have a daily manifest.
    Volume { within: f64, min_history_days: usize },
    /// Every arrival hour of the day's completeness window has committed.
    MissingHours,
    /// Per event name: re-deliveries removed / silver rows ≤ `max`.
    DuplicatesRate { max: f64 },
    /// The day's latest event time is at most `max_age_seconds` before the day ends.
    Freshness { max_age_seconds: u64 },
}

impl RuleCheck {
    pub fn kind(&self) -> &'static str {
        match self {
            RuleCheck::QuarantineRate { .. } => "quarantine_rate",
            RuleCheck::Volume { .. } => "volume",
            RuleCheck::MissingHours => "missing_hours",
            RuleCheck::DuplicatesRate { .. } => "duplicates_rate",
            RuleCheck::Freshness { .. } => "freshness",
        }
    }
}

/// Reads the quality rules of a project file (none when it has no `[quality]`).
pub fn load_rules(path: &FsPath) -> Result<Vec<QualityRule>, ProjectError> {
    let text = std::fs::read_to_string(path).map_err(|cause| ProjectError::Io { path: path.into(), cause })?;
    parse_rules(&text, path)
}

/// Parses the quality rules of project file text.
pub fn parse_rules(text: &str, path: &FsPath) -> Result<Vec<QualityRule>, ProjectError> {
    let file: ProjectFile =
        toml::from_str(text).map_err(|cause| ProjectError::Toml { path: path.into(), cause: Box::new(cause) })?;
    let mut names = std::collections::BTreeSet::new();
    let mut rules = Vec::new();
    for (i, rule) in file.quality.rules.into_iter().enumerate() {
        let rule = rule.resolve().map_err(|reason| ProjectError::Rule { path: path.into(), index: i + 1, reason })?;
        if !names.insert(rule.name.clone()) {
            let reason = format!("two rules are named {:?}; give one a `name`", rule.name);
            return Err(ProjectError::Rule { path: path.into(), index: i + 1, reason });
        }
        rules.push(rule);
    }
    Ok(rules)
}

/// Reads the sources of a project file.
pub fn load_project(path: &FsPath) -> Result<Vec<SourceSpec>, ProjectError> {
    let text = std::fs::read_to_string(path).map_err(|cause| ProjectError::Io { path: path.into(), cause })?;
    parse_project(&text, path)
}

/// Parses project file text; `path` resolves relative paths and names the file in errors.
pub fn parse_project(text: &str, path: &FsPath) -> Result<Vec<SourceSpec>, ProjectError> {
    let file: ProjectFile =
        toml::from_str(text).map_err(|cause| ProjectError::Toml { path: path.into(), cause: Box::new(cause) })?;
    let base = path.parent().unwrap_or(FsPath::new("."));
    let mut out = Vec::new();
    for (name, source) in file.sources {
        let spec = source.resolve(&name, base).map_err(|reason| ProjectError::Source {
            path: path.into(),
            source_name: name.clone(),
            reason,
        })?;
        out.push(spec);
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    #[serde(default)]
    sources: BTreeMap<String, SourceFile>,
    #[serde(default)]
    quality: QualityFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct QualityFile {
    #[serde(default)]
    rules: Vec<RuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    kind: String,
    name: Option<String>,
    max: Option<f64>,
    within: Option<f64>,
    min_history_days: Option<usize>,
    max_age: Option<String>,
}

impl RuleFile {
    fn resolve(self) -> Result<QualityRule, String> {
        let fraction = |field: &str, v: Option<f64>| match v {
            Some(x) if (0.0..=1.0).contains(&x) => Ok(x),
            Some(x) => Err(format!("{:?}: `{field}` is a fraction between 0 and 1, not {x}", self.kind)),
            None => Err(format!("{:?} needs `{field}` (a fraction, e.g. 0.05)", self.kind)),
        };
        let unused = |fields: &[(&str, bool)]| match fields.iter().find(|(_, given)| *given) {
            Some((f, _)) => Err(format!("{:?} does not take `{f}`", self.kind)),
            None => Ok(()),
        };
        let check = match self.kind.as_str() {
            "quarantine_rate" | "duplicates_rate" => {
                unused(&[("within", self.within.is_some()), ("max_age", self.max_age.is_some())])?;
                unused(&[("min_history_days", self.min_history_days.is_some())])?;
                let max = fraction("max", self.max)?;
                if self.kind == "quarantine_rate" {
                    RuleCheck::QuarantineRate { max }
                } else {
                    RuleCheck::DuplicatesRate { max }
                }
            }
            "volume" => {
                unused(&[("max", self.max.is_some()), ("max_age", self.max_age.is_some())])?;
                let within = match self.within {
                    Some(w) if w > 0.0 => w,
                    Some(w) => return Err(format!("\"volume\": `within` must be above 0, not {w}")),
                    None => return Err("\"volume\" needs `within` (e.g. 0.5 for ±50% of the 7-day median)".into()),
                };
                let min_history_days = self.min_history_days.unwrap_or(3).clamp(1, 7);
                RuleCheck::Volume { within, min_history_days }
            }
            "missing_hours" => {
                unused(&[("max", self.max.is_some()), ("within", self.within.is_some())])?;
                unused(&[("max_age", self.max_age.is_some()), ("min_history_days", self.min_history_days.is_some())])?;
                RuleCheck::MissingHours
            }
            "freshness" => {
                unused(&[("max", self.max.is_some()), ("within", self.within.is_some())])?;
                unused(&[("min_history_days", self.min_history_days.is_some())])?;
                let text = self.max_age.as_deref().ok_or("\"freshness\" needs `max_age` (e.g. \"2h\")")?;
                let age = humantime::parse_duration(text)
                    .map_err(|e| format!("\"freshness\": `max_age` {text:?}: {e} (e.g. \"90m\", \"2h\")"))?;
                RuleCheck::Freshness { max_age_seconds: age.as_secs() }
            }
            other => {
                return Err(format!(
                    "unknown kind {other:?}; one of quarantine_rate, volume, missing_hours, duplicates_rate, freshness"
                ));
            }
        };
        Ok(QualityRule { name: self.name.unwrap_or_else(|| check.kind().to_owned()), check })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFile {
    bronze_prefix: Option<String>,
    bronze: Option<String>,
    layout: Option<String>,
    error_prefixes: Option<Vec<String>>,
    #[serde(default)]
    format: FormatName,
    schemas: Option<PathBuf>,
    schema: Option<PathBuf>,
    table: Option<String>,
    #[serde(default)]
    csv: CsvFile,
    #[serde(default)]
    envelope: EnvelopeFile,
    #[serde(default)]
    allow_undeclared_fields: bool,
    #[serde(default)]
    annotation_keywords: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum FormatName {
    #[default]
    Json,
    Ndjson,
    JsonArray,
    Csv,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CsvFile {
    delimiter: Option<String>,
    quote: Option<String>,
    #[serde(default)]
    null: Vec<String>,
    #[serde(default)]
    skip_columns: Vec<String>,
    /// `false`: the files have no header row; `columns` names the cells.
    header: Option<bool>,
    columns: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeFile {
    id: Option<String>,
    #[serde(default)]
    content_id: bool,
    name: Option<String>,
    time: Option<String>,
    time_format: Option<String>,
    timezone: Option<String>,
}

impl SourceFile {
    fn resolve(self, name: &str, base: &FsPath) -> Result<SourceSpec, String> {
        if name.is_empty() || identifier(name) != name {
            return Err(format!("a source name is lower snake case (e.g. {:?})", identifier(name)));
        }
        let bronze_url = match (&self.bronze_prefix, &self.bronze) {
            (Some(_), Some(_)) => return Err("give `bronze_prefix` (in the lake) or `bronze` (a URL), not both".into()),
            (None, None) => return Err("`bronze_prefix` or `bronze` is required".into()),
            (_, url) => url.clone(),
        };
        let prefix = match &self.bronze_prefix {
            Some(p) => p.trim().trim_matches('/').to_owned(),
            None => String::new(),
        };
        if self.bronze_prefix.is_some() && prefix.is_empty() {
            return Err("`bronze_prefix` is empty".into());
        }
        let layout: ArrivalLayout = match &self.layout {
            Some(l) => l.parse()?,
            None => ArrivalLayout::default(),
        };
        let defaults = BronzeListing::default();
        let bronze = BronzeListing {
            prefix,
            layout,
            error_prefixes: self.error_prefixes.clone().unwrap_or(defaults.error_prefixes),
        };
        let format = match self.format {
            FormatName::Json | FormatName::Ndjson | FormatName::JsonArray => RecordFormat::Json,
            FormatName::Csv => RecordFormat::Csv(self.csv.dialect()?),
        };
        let (schemas, entity) = match (&self.schemas, &self.schema, &self.table) {
            (Some(dir), None, None) => (base.join(dir), None),
            (None, Some(file), Some(table)) => {
                if identifier(table) != *table {
                    return Err(format!("table {table:?} is not lower snake case (e.g. {:?})", identifier(table)));
                }
                let file = base.join(file);
                let dir = file.parent().map(FsPath::to_path_buf).unwrap_or_default();
                let rel = file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                (dir, Some(EntityTable { table: table.clone(), file: rel }))
            }
            (None, Some(_), None) => return Err("`schema` (one entity schema) needs `table`, the table's name".into()),
            (None, None, _) => return Err("`schemas` (an event folder) or `schema` with `table` is required".into()),
            _ => return Err("give `schemas` (events) or `schema` and `table` (an entity table), not both".into()),
        };
        let envelope = self.envelope.envelope(entity.is_some())?;
        Ok(SourceSpec {
            name: name.to_owned(),
            bronze,
            bronze_url,
            format,
            schemas,
            options: RegistryOptions {
                compile: CompileOptions {
                    allow_undeclared_fields: self.allow_undeclared_fields,
                    annotation_keywords: self.annotation_keywords,
                },
                envelope,
                entity,
            },
        })
    }
}

impl CsvFile {
    fn dialect(&self) -> Result<CsvDialect, String> {
        let byte = |what: &str, v: &Option<String>, default: u8| match v.as_deref() {
            None => Ok(default),
            Some("\\t") => Ok(b'\t'),
            Some(s) if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
            Some(s) => Err(format!("csv {what} {s:?} must be one ASCII character")),
        };
        Ok(CsvDialect {
            delimiter: byte("delimiter", &self.delimiter, b',')?,
            quote: byte("quote", &self.quote, b'"')?,
            null_tokens: self.null.clone(),
            skip_columns: self.skip_columns.clone(),
            columns: match (self.header.unwrap_or(true), &self.columns) {
                (true, None) => None,
                (false, Some(c)) if !c.is_empty() => Some(c.clone()),
                (false, _) => return Err("csv: `header = false` needs `columns`, the cells' names".into()),
                (true, Some(_)) => {
                    return Err("csv: `columns` names the cells of files without a header; set `header = false`".into());
                }
            },
        })
    }
}

impl EnvelopeFile {
    fn envelope(&self, entity: bool) -> Result<Envelope, String> {
        let defaults = Envelope::default();
        if self.content_id && self.id.is_some() {
            return Err("envelope: `content_id = true` derives the id; do not also name an `id` field".into());
        }
        let time = TimeFormat::parse(self.time_format.as_deref().unwrap_or("unix-seconds"), self.timezone.as_deref())
            .map_err(|e| format!("envelope: {e}"))?;
        if self.time.is_none() && (self.time_format.is_some() || self.timezone.is_some()) && entity {
            return Err("envelope: `time_format` and `timezone` read a `time` field; name it".into());
        }
        Ok(Envelope {
            id: match (&self.id, self.content_id) {
                (_, true) => Envelope::DERIVED_ID.into(),
                (Some(id), false) => id.clone(),
                (None, false) if entity => {
                    return Err(
                        "envelope: an entity table needs `id` (the field that identifies a row) or `content_id = true`"
                            .into(),
                    );
                }
                (None, false) => defaults.id,
            },
            name: self.name.clone().unwrap_or(defaults.name),
            // An entity's rows take their arrival hour as their time unless a field is named.
            created_at: match &self.time {
                Some(t) => Some(t.clone()),
                None if entity => None,
                None => defaults.created_at,
            },
            time,
            content_id: self.content_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<SourceSpec>, String> {
        parse_project(text, FsPath::new("/p/eventlake.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn sources_resolve_with_their_defaults() {
        let specs = parse(
            r#"
            [sources.paidy]
            bronze_prefix = "/paidy/"
            layout = "hive"
            format = "csv"
            table = "loan_applications"
            schema = "schemas/paidy/loan.json"
            csv = { null = ["NA"], skip_columns = [""], delimiter = ";" }
            envelope = { content_id = true }

            [sources.tier]
            bronze = "s3://landing/tier"
            schemas = "schemas/tier"
            envelope = { name = "segment_tracks.event_name", time = "/segment/ts", time_format = "%Y-%m-%d %H:%M:%S" }
            "#,
        )
        .unwrap();
        let paidy = &specs[0];
        assert_eq!((paidy.name.as_str(), paidy.bronze.prefix.as_str()), ("paidy", "paidy"));
        assert_eq!(paidy.schemas, PathBuf::from("/p/schemas/paidy"));
        let entity = paidy.options.entity.as_ref().unwrap();
        assert_eq!((entity.table.as_str(), entity.file.as_str()), ("loan_applications", "loan.json"));
        assert_eq!(paidy.options.envelope.created_at, None, "an entity's time is its arrival hour");
        assert!(paidy.options.envelope.content_id);
        let RecordFormat::Csv(dialect) = &paidy.format else { panic!("csv") };
        assert_eq!((dialect.delimiter, dialect.null_tokens.as_slice()), (b';', &["NA".to_owned()][..]));
        let tier = &specs[1];
        assert_eq!(tier.bronze_url.as_deref(), Some("s3://landing/tier"));
        assert_eq!(tier.options.envelope.created_at.as_deref(), Some("/segment/ts"));
        assert_eq!(tier.format, RecordFormat::Json);
    }

    #[test]
    fn quality_rules_parse_with_defaults_and_clear_mistakes() {
        let path = FsPath::new("/p/eventlake.toml");
        let rules = parse_rules(
            r#"
            [[quality.rules]]
            kind = "quarantine_rate"
            max = 0.02
            [[quality.rules]]
            kind = "volume"
            within = 0.5
            [[quality.rules]]
            kind = "freshness"
            max_age = "90m"
            name = "orders flowing"
            [[quality.rules]]
            kind = "missing_hours"
            "#,
            path,
        )
        .unwrap();
        assert_eq!(
            rules[0],
            QualityRule { name: "quarantine_rate".into(), check: RuleCheck::QuarantineRate { max: 0.02 } }
        );
        assert_eq!(rules[1].check, RuleCheck::Volume { within: 0.5, min_history_days: 3 });
        assert_eq!(
            rules[2],
            QualityRule { name: "orders flowing".into(), check: RuleCheck::Freshness { max_age_seconds: 5400 } }
        );
        assert_eq!(rules[3].check, RuleCheck::MissingHours);
        assert!(parse_rules("[sources]\n", path).unwrap().is_empty());
        let cases = [
            ("kind = \"quarantine_rate\"", "needs `max`"),
            ("kind = \"quarantine_rate\"\nmax = 2.0", "between 0 and 1"),
            ("kind = \"volume\"\nwithin = 0.5\nmax = 0.1", "does not take `max`"),
            ("kind = \"freshness\"\nmax_age = \"soon\"", "`max_age` \"soon\""),
            ("kind = \"row_count\"", "unknown kind \"row_count\""),
            ("kind = \"missing_hours\"\nmaximum = 1", "unknown field `maximum`"),
        ];
        for (rule, want) in cases {
            let err = parse_rules(&format!("[[quality.rules]]\n{rule}\n"), path).unwrap_err().to_string();
            assert!(err.contains(want) && err.contains("/p/eventlake.toml"), "{rule}: {err}");
        }
        let twice = "[[quality.rules]]\nkind = \"missing_hours\"\n[[quality.rules]]\nkind = \"missing_hours\"\n";
        assert!(parse_rules(twice, path).unwrap_err().to_string().contains("quality rule 2: two rules are named"));
    }

    #[test]
    fn mistakes_name_the_source() {
        let cases = [
            ("[sources.Paidy]\nbronze_prefix = \"p\"\nschemas = \"s\"", "lower snake case"),
            ("[sources.p]\nschemas = \"s\"", "`bronze_prefix` or `bronze` is required"),
            ("[sources.p]\nbronze_prefix = \"p\"\nschema = \"s.json\"", "needs `table`"),
            ("[sources.p]\nbronze_prefix = \"p\"\nschemas = \"s\"\nformat = \"xml\"", "unknown variant"),
            ("[sources.p]\nbronze_prefix = \"p\"\nschemas = \"s\"\ncsv = { quote = \"''\" }", "one ASCII character"),
            ("[sources.p]\nbronze_prefix = \"p\"\nschemas = \"s\"\nlayot = \"hive\"", "unknown field `layot`"),
            (
                "[sources.p]\nbronze_prefix = \"p\"\nschemas = \"s\"\ncsv = { quote = \"'\", header = false }",
                "needs `columns`",
            ),
        ];
        for (text, want) in cases {
            let text = text.replace("csv = { quote", "format = \"csv\"\ncsv = { quote");
            let err = parse(&text).unwrap_err();
            assert!(err.contains(want) && err.contains("/p/eventlake.toml"), "{text}: {err}");
        }
    }
}
