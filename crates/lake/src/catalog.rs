//! The tables of a lake, derived from the registry and the layout: what Athena's DDL declares and
//! what `eventlake query` registers, so the two can never disagree.

use std::sync::Arc;

use arrow_schema::{Field, Schema, SchemaRef};
use eventlake_contract::registry::{derived, is_pointer};
use eventlake_contract::types::identifier;
use eventlake_contract::{Column, ColumnType, Reason, Registry};
use object_store::path::Path;

use crate::layout;
use crate::quarantine::{QuarantineLine, col};

/// How a table's files are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Parquet,
    /// JSON lines (the quarantine).
    JsonLines,
}

/// How a partition column's values are enumerated (Athena partition projection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionKind {
    /// `dt=YYYY-MM-DD`, UTC.
    Date,
    /// `hour=HH`, two digits.
    Hour,
    /// `event_type=<t>`, one of the registry's event types.
    Enum(Vec<String>),
}

/// A Hive partition column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub name: &'static str,
    pub kind: PartitionKind,
}

/// One table of the lake.
#[derive(Debug, Clone)]
pub struct CatalogTable {
    /// `[a-z0-9_]` table name.
    pub name: String,
    /// Lake-relative folder holding the partitions.
    pub dir: Path,
    pub columns: Vec<Column>,
    pub partitions: Vec<Partition>,
    pub format: TableFormat,
    pub comment: String,
}

impl CatalogTable {
    /// Arrow schema of the data columns.
    pub fn arrow_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(self.columns.iter().map(Column::arrow_field).collect::<Vec<Field>>()))
    }

    /// The folder of one partition, in the writers' own layout (`{name}` placeholders for the
    /// partition values, Athena's `storage.location.template` syntax).
    pub fn location_template(&self) -> String {
        let mut parts = vec![self.dir.to_string()];
        for p in &self.partitions {
            parts.push(format!("{0}=${{{0}}}", p.name));
        }
        parts.join("/")
    }
}

/// Every table of the lake described by `registry`.
pub fn catalog(registry: &Registry) -> Vec<CatalogTable> {
    let date = Partition { name: layout::DATE_KEY, kind: PartitionKind::Date };
    let hour = Partition { name: layout::HOUR_KEY, kind: PartitionKind::Hour };
    let types: Vec<String> = registry.tables().map(|t| t.event_type.clone()).collect();
    let event_type = Partition { name: layout::EVENT_TYPE_KEY, kind: PartitionKind::Enum(types) };
    let mut out = Vec::new();
    for t in registry.tables() {
        // Event types are identifiers (the registry makes them so): they name the tables as they are.
        let suffix = &t.event_type;
        let silver = t.silver_columns();
        out.push(CatalogTable {
            name: format!("silver_{suffix}"),
            dir: layout::silver_type_dir(&t.event_type),
            columns: silver.clone(),
            partitions: vec![date.clone(), hour.clone()],
            format: TableFormat::Parquet,
            comment: format!("Validated {} events, partitioned by event time; may hold re-deliveries", t.event_type),
        });
        out.push(CatalogTable {
            name: format!("gold_{suffix}"),
            dir: layout::gold_type_dir(&t.event_type),
            columns: gold_columns(&silver),
            partitions: vec![date.clone()],
            format: TableFormat::Parquet,
            comment: format!("{} events, one row per event id and date", t.event_type),
        });
    }
    let envelope = envelope_columns(registry);
    out.push(CatalogTable {
        name: "silver_events".into(),
        dir: Path::from(layout::SILVER),
        columns: envelope.clone(),
        partitions: vec![event_type.clone(), date.clone(), hour.clone()],
        format: TableFormat::Parquet,
        comment: "Every silver event, envelope columns only".into(),
    });
    out.push(CatalogTable {
        name: "gold_events".into(),
        dir: Path::from_iter([layout::GOLD, layout::GOLD_EVENTS]),
        columns: gold_columns(&envelope),
        partitions: vec![event_type, date.clone()],
        format: TableFormat::Parquet,
        comment: "Every gold event, envelope columns only".into(),
    });
    out.push(event_counts_table());
    out.push(quality_table());
    out.push(CatalogTable {
        name: "quarantine".into(),
        dir: Path::from(layout::QUARANTINE),
        columns: QuarantineLine::columns(),
        partitions: vec![date, hour],
        format: TableFormat::JsonLines,
        comment: "Rejected records, byte for byte, with the reason".into(),
    });
    out
}

/// The tables of one source: the default source's at the lake root as [`catalog`] names them; a
/// named source's below `sources/<name>/`, its shared tables (envelope, aggregates, quarantine)
/// prefixed `<name>_`. An entity source has one table, so no cross-type tables.
pub fn source_catalog(registry: &Registry, source: Option<&str>) -> Vec<CatalogTable> {
    let mut tables = catalog(registry);
    let Some(name) = source else { return tables };
    let entity = registry.options().entity.is_some();
    tables.retain(|t| !(entity && (t.name == "silver_events" || t.name == "gold_events")));
    let root = layout::source_root(name);
    let per_type: Vec<String> = registry
        .tables()
        .flat_map(|t| [format!("silver_{}", t.event_type), format!("gold_{}", t.event_type)])
        .collect();
    for t in &mut tables {
        t.dir = Path::from_iter(root.parts().chain(t.dir.parts()));
        if !per_type.contains(&t.name) {
            t.name = format!("{name}_{}", t.name);
        }
        t.comment = format!("{} (source {name})", t.comment);
    }
    tables
}

/// Every table of a project's sources; two sources may not name one table.
pub fn project_catalog<'r>(
    sources: impl IntoIterator<Item = (Option<&'r str>, &'r Registry)>,
) -> Result<Vec<CatalogTable>, String> {
    let mut out: Vec<CatalogTable> = Vec::new();
    let mut owner: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for (source, registry) in sources {
        let label = source.map_or_else(|| "the default source".to_owned(), |s| format!("source {s:?}"));
        for table in source_catalog(registry, source) {
            if let Some(first) = owner.get(&table.name) {
                return Err(format!("table {:?} is named by both {first} and {label}; rename one", table.name));
            }
            owner.insert(table.name.clone(), label.clone());
            out.push(table);
        }
    }
    Ok(out)
}

/// `daily_event_counts`: per event name and event date, written by the daily job.
pub fn event_counts_table() -> CatalogTable {
    CatalogTable {
        name: "daily_event_counts".into(),
        dir: Path::from_iter([layout::GOLD, layout::DAILY_EVENT_COUNTS]),
        columns: vec![
            col("event_type", ColumnType::Utf8, false, "First segment of the event name"),
            col("event_name", ColumnType::Utf8, false, "Event name"),
            col("events", ColumnType::Int64, false, "Events in gold (distinct ids)"),
            col("duplicates_removed", ColumnType::Int64, false, "Identical re-deliveries removed"),
            col("conflicts", ColumnType::Int64, false, "Deliveries of a known id with other content, removed"),
            col("first_event_time", ColumnType::Timestamp, true, "Earliest created_datetime"),
            col("last_event_time", ColumnType::Timestamp, true, "Latest created_datetime"),
            col("late_arrivals", ColumnType::Int64, false, "Events that arrived after their day ended"),
        ],
        partitions: vec![Partition { name: layout::DATE_KEY, kind: PartitionKind::Date }],
        format: TableFormat::Parquet,
        comment: "Per event name and event date: counts, duplicates, conflicts, lateness".into(),
    }
}

/// `daily_quality`: per arrival date, records and quarantined by [`Reason`], from the hourly manifests.
pub fn quality_table() -> CatalogTable {
    let mut columns = vec![
        col("records", ColumnType::Int64, false, "Records read by the day's 24 hourly runs"),
        col("valid", ColumnType::Int64, false, "Records written to silver"),
        col("quarantined", ColumnType::Int64, false, "Records quarantined"),
    ];
    for r in Reason::ALL {
        columns.push(col(r.code(), ColumnType::Int64, false, "Records quarantined for this reason"));
    }
    CatalogTable {
        name: "daily_quality".into(),
        dir: Path::from_iter([layout::GOLD, layout::DAILY_QUALITY]),
        columns,
        partitions: vec![Partition { name: layout::DATE_KEY, kind: PartitionKind::Date }],
        format: TableFormat::Parquet,
        comment: "Per arrival date: records read and quarantined by reason".into(),
    }
}

/// Gold keeps `arrival_hour` (for lateness) and drops the per-delivery lineage.
fn gold_columns(silver: &[Column]) -> Vec<Column> {
    silver.iter().filter(|c| c.name != derived::SOURCE_KEY && c.name != derived::SOURCE_LINE).cloned().collect()
}

/// Columns every event type shares (the cross-type tables), with one type for all of them.
fn envelope_columns(registry: &Registry) -> Vec<Column> {
    let env = &registry.options().envelope;
    let mut names = vec![env.id_column()];
    if registry.options().entity.is_none() && !is_pointer(&env.name) {
        names.push(identifier(&env.name));
    }
    names.extend(env.created_at.as_deref().filter(|f| !is_pointer(f)).map(identifier));
    let mut out = Vec::new();
    let tables: Vec<_> = registry.tables().collect();
    for name in names.iter().map(String::as_str).chain([derived::EVENT_SUBTYPE, derived::CREATED_DATETIME]) {
        let found: Vec<&Column> = tables.iter().filter_map(|t| t.columns.iter().find(|c| c.name == name)).collect();
        // A column typed differently across event types (e.g. created_at integer vs number) is left out.
        if let Some(first) = found.first()
            && found.iter().all(|c| c.ty == first.ty)
        {
            let mut c = (*first).clone();
            c.nullable = found.iter().any(|c| c.nullable);
            out.push(c);
        }
    }
    for (name, ty, doc) in [
        (derived::ARRIVAL_HOUR, ColumnType::Timestamp, "Start of the bronze arrival hour whose run wrote the row"),
        (derived::SOURCE_KEY, ColumnType::Utf8, "Bronze object key the record came from"),
        (derived::SOURCE_LINE, ColumnType::Int64, "1-based line of the record in that object"),
    ] {
        out.push(col(name, ty, false, doc));
    }
    out
}
