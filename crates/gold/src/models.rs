//! Models: SQL files over the lake's tables that build tables of their own.
//!
//! ```text
//!  models/<name>.sql ──► header (materialized, lookback_days, unique_key) + one SELECT
//!        │  table names it reads (the catalog's, or other models') ─► dependency order
//!        ▼
//!  DataFusion plan ─► output schema ─► CatalogTable (Athena DDL, `eventlake query`)
//!        │  inputs unchanged since the last build? skip
//!        ▼
//!  models/<name>/part-<n>.parquet                    `table`: rebuilt whole
//!  models/<name>/dt=D/part-<n>.parquet               `incremental`: one date at a time
//!  _manifests/models/<name>[/dt=D].json              commit point: inputs, rows, files
//! ```
//!
//! A build holds a lease per model (and date), writes deterministic file names through the lake's
//! rolling writer, commits by writing its manifest last and then removes files of earlier builds,
//! so a crash and a rerun give exactly a clean build.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, RecordBatch};
use arrow::compute::cast;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use chrono::{Duration, NaiveDate, Utc};
use datafusion::datasource::MemTable;
use datafusion::sql::parser::DFParser;
use eventlake_contract::schema::edit_distance;
use eventlake_contract::types::identifier;
use eventlake_contract::{Column, ColumnType};
use eventlake_lake::catalog::{CatalogTable, Partition, PartitionKind, TableFormat};
use eventlake_lake::layout::{self, LeaseKey, ManifestKey, ModelFile};
use eventlake_lake::manifest::{InputObject, OutputFile, Timings, commit_manifest, read_manifest_for_commit};
use eventlake_lake::write::{RollingParquet, writer_properties};
use eventlake_lake::{Fence, Lake, with_lease};
use futures::StreamExt;
use object_store::path::Path;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::query::register;
use crate::session::{LakeSession, quote};

/// How a model's table is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Materialized {
    /// Rebuilt whole whenever an input changes.
    Table,
    /// Partitioned by its `dt` column and built one date at a time; a run also looks this many
    /// days back for dates whose inputs changed (late data).
    Incremental { lookback_days: i64 },
}

/// One model file.
#[derive(Debug, Clone)]
pub struct Model {
    /// The file's stem, lower snake case: the table's name.
    pub name: String,
    pub file: PathBuf,
    /// The SELECT, as written (header comments included, so lines keep their numbers).
    pub sql: String,
    pub materialized: Materialized,
    /// A column whose values must be unique in the output (checked on every build).
    pub unique_key: Option<String>,
}

impl Model {
    fn error(&self, line: usize, reason: impl Into<String>) -> Error {
        Error::Model { file: self.file.display().to_string(), line, reason: reason.into() }
    }

    /// The 1-based line where `word` first appears (case-insensitive), else the first line of SQL.
    fn line_of(&self, word: &str) -> usize {
        let word = word.to_ascii_lowercase();
        self.sql
            .lines()
            .position(|l| l.to_ascii_lowercase().contains(&word))
            .map_or_else(|| self.first_sql_line(), |i| i + 1)
    }

    fn first_sql_line(&self) -> usize {
        self.sql.lines().position(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--")).map_or(1, |i| i + 1)
    }
}

/// Reads every `*.sql` file of `dir` (not recursive), sorted by name.
pub fn load_models(dir: &FsPath) -> Result<Vec<Model>> {
    let io = |e: std::io::Error| Error::Model { file: dir.display().to_string(), line: 0, reason: e.to_string() };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files.iter().map(|f| parse_model(f, &std::fs::read_to_string(f).map_err(io)?)).collect()
}

/// Reads a model's header: leading `-- key: value` comment lines.
pub fn parse_model(file: &FsPath, sql: &str) -> Result<Model> {
    let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let error = |line: usize, reason: String| Error::Model { file: file.display().to_string(), line, reason };
    if name.is_empty() || identifier(&name) != name {
        return Err(error(
            0,
            format!("a model's file name is its table's name: lower snake case (e.g. {:?})", identifier(&name)),
        ));
    }
    let mut materialized = None;
    let mut lookback_days = None;
    let mut unique_key = None;
    for (i, line) in sql.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let Some(comment) = t.strip_prefix("--") else { break };
        let Some((key, value)) = comment.split_once(':') else { continue };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "materialized" => {
                materialized = Some(match value {
                    "table" => false,
                    "incremental" => true,
                    other => return Err(error(i + 1, format!("materialized {other:?}: `table` or `incremental`"))),
                })
            }
            "lookback_days" => {
                lookback_days = Some(value.parse::<i64>().ok().filter(|d| *d >= 0).ok_or_else(|| {
                    error(i + 1, format!("lookback_days {value:?}: a whole number of days (0 or more)"))
                })?)
            }
            "unique_key" => unique_key = Some(value.to_owned()),
            // Free-text comments (`-- Students with their course: …`) are not settings.
            _ if key.contains(' ') => {}
            other => {
                return Err(error(
                    i + 1,
                    format!("unknown setting {other:?} (materialized, lookback_days, unique_key)"),
                ));
            }
        }
    }
    let materialized = match (materialized, lookback_days) {
        (Some(true), days) => Materialized::Incremental { lookback_days: days.unwrap_or(0) },
        (_, Some(_)) => return Err(error(1, "lookback_days applies to `materialized: incremental`".into())),
        _ => Materialized::Table,
    };
    Ok(Model { name, file: file.to_owned(), sql: sql.to_owned(), materialized, unique_key })
}

/// A model ready to build: what it reads and the table it writes.
#[derive(Debug, Clone)]
pub struct PlannedModel {
    pub model: Model,
    /// Tables it reads (lake tables and other models), sorted.
    pub reads: Vec<String>,
    pub table: CatalogTable,
}

/// Orders `models` so each comes after the models it reads, and derives each one's table from
/// its plan. `session` has the lake's tables registered (named as in `lake_tables`); the models'
/// tables are registered into it as they are planned (empty until built).
pub async fn plan_models(
    session: &LakeSession,
    lake_tables: &[CatalogTable],
    models: Vec<Model>,
) -> Result<Vec<PlannedModel>> {
    let known: BTreeSet<String> = lake_tables.iter().map(|t| t.name.clone()).collect();
    let names: BTreeSet<String> = models.iter().map(|m| m.name.clone()).collect();
    let mut reads: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in &models {
        if let Some(t) = known.get(&m.name) {
            return Err(m.error(0, format!("model {t:?} has the name of a lake table; rename the file")));
        }
        let statements = DFParser::parse_sql(&m.sql).map_err(|e| m.error(m.first_sql_line(), e.to_string()))?;
        let [statement] = Vec::from(statements).try_into().map_err(|s: Vec<_>| {
            m.error(m.first_sql_line(), format!("a model is one SELECT statement, not {}", s.len()))
        })?;
        let refs = session
            .ctx
            .state()
            .resolve_table_references(&statement)
            .map_err(|e| m.error(m.first_sql_line(), e.to_string()))?;
        let mut tables = BTreeSet::new();
        for r in refs {
            let table = r.table().to_owned();
            if !known.contains(&table) && !names.contains(&table) {
                let hint = closest(&table, known.iter().chain(names.iter()))
                    .map(|c| format!(" (did you mean {c:?}?)"))
                    .unwrap_or_default();
                return Err(m.error(m.line_of(&table), format!("unknown table {table:?}{hint}")));
            }
            tables.insert(table);
        }
        reads.insert(m.name.clone(), tables.into_iter().collect());
    }
    let order = dependency_order(&models, &reads)?;
    let mut planned = Vec::with_capacity(order.len());
    for m in order {
        let df = session.ctx.sql(&m.sql).await.map_err(|e| m.error(m.first_sql_line(), e.to_string()))?;
        let schema = df.schema().as_arrow().clone();
        let table = model_table(&m, &schema)?;
        // Later models plan against this one's output.
        let empty = MemTable::try_new(stored_schema(&table), vec![vec![]])?;
        session.ctx.deregister_table(m.name.as_str())?;
        session.ctx.register_table(m.name.as_str(), Arc::new(empty))?;
        planned.push(PlannedModel { reads: reads.remove(&m.name).unwrap_or_default(), model: m, table });
    }
    Ok(planned)
}

/// The name among `candidates` nearest to `name`, if it is near enough to be a typo.
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a String>) -> Option<&'a String> {
    candidates.map(|c| (edit_distance(name, c), c)).filter(|(d, c)| *d <= 2.max(c.len() / 4)).min().map(|(_, c)| c)
}

/// Models after the models they read; a cycle fails naming it.
fn dependency_order(models: &[Model], reads: &BTreeMap<String, Vec<String>>) -> Result<Vec<Model>> {
    fn visit(
        name: &str,
        by_name: &BTreeMap<&str, &Model>,
        reads: &BTreeMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        out: &mut Vec<Model>,
    ) -> Result<()> {
        if done.contains(name) {
            return Ok(());
        }
        if let Some(at) = path.iter().position(|p| p == name) {
            let mut cycle = path[at..].to_vec();
            cycle.push(name.to_owned());
            let model = by_name.get(name).copied();
            return Err(Error::Model {
                file: model.map(|m| m.file.display().to_string()).unwrap_or_default(),
                line: model.map_or(0, Model::first_sql_line),
                reason: format!("models read each other in a cycle: {}", cycle.join(" → ")),
            });
        }
        let Some(model) = by_name.get(name) else { return Ok(()) };
        path.push(name.to_owned());
        for dep in reads.get(name).into_iter().flatten() {
            visit(dep, by_name, reads, path, done, out)?;
        }
        path.pop();
        done.insert(name.to_owned());
        out.push((*model).clone());
        Ok(())
    }
    let by_name: BTreeMap<&str, &Model> = models.iter().map(|m| (m.name.as_str(), m)).collect();
    let (mut path, mut done, mut out) = (Vec::new(), BTreeSet::new(), Vec::new());
    for m in models {
        visit(&m.name, &by_name, reads, &mut path, &mut done, &mut out)?;
    }
    Ok(out)
}

/// The catalog table of a model whose query outputs `schema`.
fn model_table(m: &Model, schema: &Schema) -> Result<CatalogTable> {
    let incremental = matches!(m.materialized, Materialized::Incremental { .. });
    let mut columns = Vec::new();
    let mut has_dt = false;
    for f in schema.fields() {
        let name = f.name();
        if identifier(name) != *name {
            return Err(m.error(
                m.line_of(name),
                format!("output column {name:?} is not lower snake case; alias it (AS {})", identifier(name)),
            ));
        }
        if incremental && name == layout::DATE_KEY {
            if !matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Date32) {
                return Err(m.error(
                    m.line_of(name),
                    format!("column dt must be a date or YYYY-MM-DD text, not {}", f.data_type()),
                ));
            }
            has_dt = true;
            continue;
        }
        let ty = ColumnType::from_arrow(f.data_type()).ok_or_else(|| {
            m.error(
                m.line_of(name),
                format!("column {name:?} is {}, a type Athena cannot store; cast it", f.data_type()),
            )
        })?;
        columns.push(Column { name: name.clone(), source_name: name.clone(), ty, nullable: true, description: None });
    }
    if incremental && !has_dt {
        return Err(m.error(m.first_sql_line(), "an incremental model's SELECT must have a dt column (its partition)"));
    }
    if let Some(key) = &m.unique_key
        && !columns.iter().any(|c| &c.name == key)
    {
        return Err(m.error(1, format!("unique_key {key:?} is not a column of the SELECT")));
    }
    Ok(CatalogTable {
        name: m.name.clone(),
        dir: ModelFile::table_dir(&m.name),
        columns,
        partitions: if incremental {
            vec![Partition { name: layout::DATE_KEY, kind: PartitionKind::Date }]
        } else {
            Vec::new()
        },
        format: TableFormat::Parquet,
        comment: format!("Model {} ({})", m.name, m.file.file_name().map(|f| f.to_string_lossy()).unwrap_or_default()),
    })
}

/// The schema of the model's table as queried: its columns, then `dt` when partitioned.
fn stored_schema(table: &CatalogTable) -> SchemaRef {
    let mut fields: Vec<Field> = table.columns.iter().map(Column::arrow_field).collect();
    fields.extend(table.partitions.iter().map(|p| Field::new(p.name, DataType::Utf8, true)));
    Arc::new(Schema::new(fields))
}

/// Settings of a models run.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// Rebuild even when the inputs are unchanged.
    pub force: bool,
    pub lock_ttl: Duration,
    pub target_file_bytes: u64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig { force: false, lock_ttl: Duration::hours(2), target_file_bytes: 256 << 20 }
    }
}

/// The commit point of one build: what it read and wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelManifest {
    pub run_id: String,
    pub version: String,
    pub model: String,
    /// The date built, for an incremental model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Hash of the SQL and every input file: equal fingerprints build equal tables.
    pub fingerprint: String,
    pub inputs: Vec<InputObject>,
    pub rows: u64,
    pub outputs: Vec<OutputFile>,
    pub timings: Timings,
}

/// What building one unit (a model, or one date of it) did.
#[derive(Debug, Clone)]
pub struct ModelOutcome {
    pub model: String,
    pub date: Option<NaiveDate>,
    /// False when the inputs were unchanged and nothing was written.
    pub built: bool,
    pub rows: u64,
    pub files: usize,
    pub removed: Vec<String>,
}

/// The dates an incremental model builds: those given (each with `lookback_days` before it), or
/// with none given, every date its inputs have.
pub async fn model_dates(
    lake: &Lake,
    planned: &PlannedModel,
    inputs: &[CatalogTable],
    given: &[NaiveDate],
) -> Result<Vec<NaiveDate>> {
    let Materialized::Incremental { lookback_days } = planned.model.materialized else { return Ok(Vec::new()) };
    let mut dates = BTreeSet::new();
    if given.is_empty() {
        for key in input_keys(lake, inputs, &planned.reads).await?.iter().map(|o| &o.key) {
            if let Some(d) = date_in_key(key) {
                dates.insert(d);
            }
        }
    } else {
        for d in given {
            for back in 0..=lookback_days {
                dates.insert(*d - Duration::days(back));
            }
        }
    }
    Ok(dates.into_iter().collect())
}

fn date_in_key(key: &str) -> Option<NaiveDate> {
    key.split('/').find_map(|seg| seg.strip_prefix("dt=")).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// Every file of the tables `reads` names, sorted by key.
async fn input_keys(lake: &Lake, tables: &[CatalogTable], reads: &[String]) -> Result<Vec<InputObject>> {
    let mut out = Vec::new();
    for t in tables.iter().filter(|t| reads.contains(&t.name)) {
        for meta in lake.list(&t.dir).await? {
            let key = meta.location.to_string();
            let hidden = key.split('/').any(|s| s.starts_with('_') || s.starts_with('.'));
            if !hidden {
                out.push(InputObject { key, size: meta.size, etag: meta.e_tag.clone() });
            }
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out.dedup();
    Ok(out)
}

/// Builds one model (or one date of it) under its lease: skipped when its SQL and inputs are
/// those of its last build. `tables` are every table the session knows (lake and models).
pub async fn build_model(
    lake: &Lake,
    session: &LakeSession,
    planned: &PlannedModel,
    tables: &[CatalogTable],
    date: Option<NaiveDate>,
    cfg: &ModelConfig,
    run_id: &str,
) -> Result<ModelOutcome> {
    let key = LeaseKey::Model { model: planned.model.name.clone(), date };
    with_lease(lake, key, run_id, cfg.lock_ttl, |fence| build_locked(lake, session, planned, tables, date, cfg, fence))
        .await
}

async fn build_locked(
    lake: &Lake,
    session: &LakeSession,
    planned: &PlannedModel,
    tables: &[CatalogTable],
    date: Option<NaiveDate>,
    cfg: &ModelConfig,
    fence: Fence,
) -> Result<ModelOutcome> {
    let run_id = fence.owner();
    let started_at = Utc::now();
    let clock = Instant::now();
    let m = &planned.model;
    let mut inputs = input_keys(lake, tables, &planned.reads).await?;
    if let Some(d) = date {
        // Partitioned inputs count for their date only; the others (dimensions) count whole.
        let partitioned: Vec<&CatalogTable> = tables
            .iter()
            .filter(|t| planned.reads.contains(&t.name) && t.partitions.iter().any(|p| p.name == layout::DATE_KEY))
            .collect();
        inputs.retain(|o| {
            let in_partitioned = partitioned.iter().any(|t| o.key.starts_with(&format!("{}/", t.dir)));
            !in_partitioned || date_in_key(&o.key) == Some(d)
        });
    }
    let mut hasher = Sha256::new();
    hasher.update(format!("eventlake-model-v1\0{}\0{:?}\0{:?}\0", m.sql, m.materialized, m.unique_key));
    for i in &inputs {
        hasher.update(format!("{}\0{}\0{:?}\0", i.key, i.size, i.etag));
    }
    let fingerprint = format!("sha256:{:x}", hasher.finalize());
    let manifest_key = ManifestKey::Model { model: m.name.clone(), date };
    let (previous, basis): (Option<ModelManifest>, _) = read_manifest_for_commit(lake, &manifest_key).await?;
    if !cfg.force
        && let Some(prev) = &previous
        && prev.fingerprint == fingerprint
    {
        fence.check()?;
        let removed = remove_stale(lake, &m.name, date, &prev.outputs).await?;
        return Ok(ModelOutcome {
            model: m.name.clone(),
            date,
            built: false,
            rows: prev.rows,
            files: prev.outputs.len(),
            removed,
        });
    }
    let sql = match date {
        None => m.sql.clone(),
        Some(d) => format!(
            "SELECT * FROM ({}\n) AS __model WHERE CAST(__model.{dt} AS VARCHAR) = '{}'",
            m.sql.trim().trim_end_matches(';'),
            d.format("%Y-%m-%d"),
            dt = quote(layout::DATE_KEY)
        ),
    };
    let df = session.ctx.sql(&sql).await.map_err(|e| m.error(m.first_sql_line(), e.to_string()))?;
    let mut stream = df.execute_stream().await?;
    let schema: SchemaRef =
        Arc::new(Schema::new(planned.table.columns.iter().map(Column::arrow_field).collect::<Vec<_>>()));
    let (tx, rx) = mpsc::channel::<RecordBatch>(4);
    let writer = {
        let (lake, handle, schema, name) = (lake.clone(), Handle::current(), schema.clone(), m.name.clone());
        let target = cfg.target_file_bytes;
        tokio::task::spawn_blocking(move || write_model(&lake, &handle, rx, &name, date, schema, target))
    };
    let mut rows = 0u64;
    let mut keys: HashSet<String> = HashSet::new();
    let key_index = m.unique_key.as_ref().and_then(|k| planned.table.columns.iter().position(|c| &c.name == k));
    let mut failure = None;
    while let Some(batch) = stream.next().await {
        let shaped = batch.map_err(Error::from).and_then(|b| shape(&b, &schema, m));
        let batch = match shaped {
            Ok(b) => b,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        if let Some(i) = key_index
            && let Err(e) = check_unique(&batch, i, &mut keys, m)
        {
            failure = Some(e);
            break;
        }
        rows += batch.num_rows() as u64;
        if batch.num_rows() > 0 && tx.send(batch).await.is_err() {
            break;
        }
    }
    drop(tx);
    let written = writer.await.map_err(|e| Error::Internal(format!("model writer task: {e}")))?;
    if let Some(e) = failure {
        return Err(e);
    }
    let outputs = written?;
    let manifest = ModelManifest {
        run_id: run_id.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        model: m.name.clone(),
        date: date.map(|d| d.format("%Y-%m-%d").to_string()),
        fingerprint,
        inputs,
        rows,
        outputs,
        timings: Timings {
            started_at: started_at.to_rfc3339(),
            finished_at: Utc::now().to_rfc3339(),
            seconds: clock.elapsed().as_secs_f64(),
        },
    };
    commit_manifest(lake, &fence, &manifest_key, &manifest, &basis).await?;
    let removed = remove_stale(lake, &m.name, date, &manifest.outputs).await?;
    Ok(ModelOutcome { model: m.name.clone(), date, built: true, rows, files: manifest.outputs.len(), removed })
}

/// The engine's batch as the table stores it: the table's columns, in order, cast to their types.
fn shape(batch: &RecordBatch, schema: &SchemaRef, m: &Model) -> Result<RecordBatch> {
    let arrow = |source| Error::Arrow { context: format!("rows of model {}", m.name), source };
    let mut columns = Vec::with_capacity(schema.fields().len());
    for f in schema.fields() {
        let col = batch
            .column_by_name(f.name())
            .ok_or_else(|| Error::Internal(format!("model {}: column {} missing", m.name, f.name())))?;
        columns.push(if col.data_type() == f.data_type() {
            col.clone()
        } else {
            cast(col, f.data_type()).map_err(arrow)?
        });
    }
    RecordBatch::try_new(schema.clone(), columns).map_err(arrow)
}

fn check_unique(batch: &RecordBatch, index: usize, seen: &mut HashSet<String>, m: &Model) -> Result<()> {
    let arrow = |source| Error::Arrow { context: format!("unique key of model {}", m.name), source };
    let keys = cast(batch.column(index), &DataType::Utf8).map_err(arrow)?;
    let keys = keys
        .as_any()
        .downcast_ref::<arrow::array::StringArray>()
        .ok_or_else(|| Error::Internal("unique key cast".into()))?;
    for i in 0..keys.len() {
        let key = if keys.is_null(i) { "NULL" } else { keys.value(i) };
        if !seen.insert(key.to_owned()) {
            let column = m.unique_key.clone().unwrap_or_default();
            return Err(m.error(1, format!("unique_key {column}: value {key:?} appears more than once")));
        }
    }
    Ok(())
}

fn write_model(
    lake: &Lake,
    handle: &Handle,
    mut rx: mpsc::Receiver<RecordBatch>,
    model: &str,
    date: Option<NaiveDate>,
    schema: SchemaRef,
    target: u64,
) -> Result<Vec<OutputFile>> {
    let owned = model.to_owned();
    let name = Box::new(move |part| ModelFile { model: owned.clone(), date, part }.path());
    let mut writer = RollingParquet::new(lake.clone(), handle.clone(), schema, writer_properties(&[]), target, name);
    while let Some(batch) = rx.blocking_recv() {
        if let Err(e) = writer.write(&batch) {
            writer.abort();
            return Err(e.into());
        }
    }
    let dt = date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
    Ok(writer
        .finish()?
        .into_iter()
        .map(|f| OutputFile {
            key: f.key.to_string(),
            kind: "model".into(),
            event_type: None,
            dt: dt.clone(),
            hour: String::new(),
            rows: f.rows,
            bytes: f.bytes,
        })
        .collect())
}

/// Deletes files of the build's folder that its committed outputs do not list.
async fn remove_stale(
    lake: &Lake,
    model: &str,
    date: Option<NaiveDate>,
    outputs: &[OutputFile],
) -> Result<Vec<String>> {
    let keep: BTreeSet<&str> = outputs.iter().map(|o| o.key.as_str()).collect();
    let mut removed = Vec::new();
    let dir = ModelFile::dir(model, date);
    removed.extend(lake.remove_unfinished(&dir, |_| true).await?);
    for location in lake.list(&dir).await?.into_iter().map(|m| m.location) {
        let key = location.to_string();
        // A table model's folder holds only its parts; never another date's folder.
        let own = date.is_some() || !key.contains("/dt=");
        if own && !keep.contains(key.as_str()) {
            lake.delete(&location).await?;
            tracing::info!(key = %key, "removed a model file of an earlier build");
            removed.push(key);
        }
    }
    Ok(removed)
}

/// Registers a model's files (as built so far) in the session under its name.
pub async fn register_model(session: &LakeSession, lake: &Lake, table: &CatalogTable) -> Result<()> {
    session.ctx.deregister_table(table.name.as_str())?;
    register(session, lake, table).await
}

/// Lake-relative folder of a model (for messages).
pub fn model_dir(model: &str) -> Path {
    ModelFile::table_dir(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, sql: &str) -> Model {
        parse_model(FsPath::new(&format!("models/{name}.sql")), sql).unwrap()
    }

    #[test]
    fn headers_set_how_a_model_is_built() {
        let m = model(
            "sessions_per_day",
            "-- Sessions per day: one row per date\n-- materialized: incremental\n-- lookback_days: 2\n-- unique_key: dt\nSELECT 1",
        );
        assert_eq!(m.materialized, Materialized::Incremental { lookback_days: 2 });
        assert_eq!(m.unique_key.as_deref(), Some("dt"));
        assert_eq!(model("t", "SELECT 1").materialized, Materialized::Table);
        let bad = parse_model(FsPath::new("models/x.sql"), "-- materialized: view\nSELECT 1").unwrap_err().to_string();
        assert_eq!(bad, "models/x.sql:1: materialized \"view\": `table` or `incremental`");
        let bad = parse_model(FsPath::new("models/x.sql"), "\n-- lookbak_days: 2\nSELECT 1").unwrap_err().to_string();
        assert!(bad.starts_with("models/x.sql:2: unknown setting \"lookbak_days\""), "{bad}");
        assert!(parse_model(FsPath::new("models/Bad-Name.sql"), "SELECT 1").is_err());
    }

    #[test]
    fn cycles_are_named() {
        let a = model("a", "SELECT * FROM b");
        let b = model("b", "SELECT * FROM a");
        let reads = BTreeMap::from([("a".to_owned(), vec!["b".to_owned()]), ("b".to_owned(), vec!["a".to_owned()])]);
        let err = dependency_order(&[a, b], &reads).unwrap_err().to_string();
        assert!(err.contains("a → b → a"), "{err}");
        let c = model("c", "SELECT 1");
        let d = model("d", "SELECT * FROM c");
        let reads = BTreeMap::from([("d".to_owned(), vec!["c".to_owned()]), ("c".to_owned(), vec![])]);
        let order: Vec<String> = dependency_order(&[d, c], &reads).unwrap().into_iter().map(|m| m.name).collect();
        assert_eq!(order, ["c", "d"]);
        assert_eq!(edit_distance("gold_student", "gold_students"), 1);
    }
}
