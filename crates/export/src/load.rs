//! One partition into one target, in one transaction.

use std::pin::pin;

use chrono::{Datelike, NaiveDate, Timelike};
use datafusion::execution::SendableRecordBatchStream;
use eventlake_contract::{Column, ColumnType};
use futures::StreamExt;
use mysql_async::prelude::Queryable;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use crate::target::{Dialect, Target};
use crate::values::{Cell, cell};
use crate::{Error, Result};

/// What to load and how the target table looks.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    /// The target table's name.
    pub table: String,
    /// The data columns, in the order the batches carry them.
    pub columns: Vec<Column>,
    /// The partition column the batches carry last (`dt`), if the table is partitioned.
    pub partition: Option<String>,
    /// Primary key columns (may include the partition column).
    pub key: Vec<String>,
    /// Abort the process after loading this many rows, before the commit (crash-recovery tests).
    pub crash_after_rows: Option<u64>,
}

impl ExportPlan {
    fn maybe_crash(&self, rows: u64) {
        if self.crash_after_rows == Some(rows) {
            tracing::error!(rows, "crashing on purpose (--crash-after-rows)");
            std::process::abort();
        }
    }
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportResult {
    /// Rows loaded (equal to the lake's).
    pub rows: u64,
    /// Rows of the partition the target held before.
    pub replaced: u64,
    /// Columns added to an existing target table.
    pub added_columns: Vec<String>,
}

fn quote(dialect: Dialect, ident: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("\"{}\"", ident.replace('"', "\"\"")),
        Dialect::MySql => format!("`{}`", ident.replace('`', "``")),
    }
}

/// The column type in the target's SQL.
fn sql_type(dialect: Dialect, ty: &ColumnType, in_key: bool) -> &'static str {
    match (dialect, ty) {
        (Dialect::Postgres, ColumnType::Utf8) => "text",
        (Dialect::MySql, ColumnType::Utf8) if in_key => "varchar(255)",
        (Dialect::MySql, ColumnType::Utf8) => "longtext",
        (_, ColumnType::Int64) => "bigint",
        (Dialect::Postgres, ColumnType::Float64) => "double precision",
        (Dialect::MySql, ColumnType::Float64) => "double",
        (_, ColumnType::Boolean) => "boolean",
        (Dialect::Postgres, ColumnType::Timestamp) => "timestamptz",
        (Dialect::MySql, ColumnType::Timestamp) => "datetime(6)",
        (_, ColumnType::Date) => "date",
        (Dialect::Postgres, _) => "jsonb",
        (Dialect::MySql, _) => "json",
    }
}

/// How `information_schema` names a type `sql_type` gives (PostgreSQL; MySQL's are not compared).
fn information_schema_type(ty: &str) -> &str {
    match ty {
        "timestamptz" => "timestamp with time zone",
        other => other,
    }
}

impl ExportPlan {
    /// Every column of the target: the data columns, then the partition column as a date.
    fn target_columns(&self) -> Vec<(String, ColumnType)> {
        let mut cols: Vec<(String, ColumnType)> = self.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect();
        cols.extend(self.partition.iter().map(|p| (p.clone(), ColumnType::Date)));
        cols
    }

    fn column_sql(&self, dialect: Dialect, name: &str, ty: &ColumnType) -> String {
        let in_key = self.key.iter().any(|k| k == name);
        let not_null = if in_key { " NOT NULL" } else { "" };
        format!("{} {}{not_null}", quote(dialect, name), sql_type(dialect, ty, in_key))
    }
}

/// `CREATE TABLE IF NOT EXISTS` for the target (what `--plan` prints).
pub fn plan_statements(dialect: Dialect, plan: &ExportPlan) -> Vec<String> {
    let mut parts: Vec<String> =
        plan.target_columns().iter().map(|(n, t)| format!("  {}", plan.column_sql(dialect, n, t))).collect();
    if !plan.key.is_empty() {
        let key: Vec<String> = plan.key.iter().map(|k| quote(dialect, k)).collect();
        parts.push(format!("  PRIMARY KEY ({})", key.join(", ")));
    }
    vec![format!("CREATE TABLE IF NOT EXISTS {} (\n{}\n)", quote(dialect, &plan.table), parts.join(",\n"))]
}

/// Replaces the target's rows of `partition` (every row, for an unpartitioned table) with the
/// batches' rows, in one transaction, under a lock on the table and partition; checks the count.
pub async fn export_partition(
    target: &Target,
    plan: &ExportPlan,
    partition: Option<NaiveDate>,
    batches: SendableRecordBatchStream,
) -> Result<ExportResult> {
    match target.dialect {
        Dialect::Postgres => postgres(target, plan, partition, batches).await,
        Dialect::MySql => mysql(target, plan, partition, batches).await,
    }
}

fn partition_label(partition: Option<NaiveDate>) -> String {
    partition.map_or_else(|| "(whole table)".into(), |d| format!("dt={d}"))
}

/// A cell for the binary COPY: typed by the target column, NULL for any type.
#[derive(Debug)]
struct PgCell(Cell);

impl ToSql for PgCell {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Cell::Null => Ok(IsNull::Yes),
            Cell::Text(s) if *ty == Type::JSONB => serde_json::from_str::<serde_json::Value>(s)?.to_sql(ty, out),
            Cell::Text(s) => s.to_sql(ty, out),
            Cell::Int(n) => n.to_sql(ty, out),
            Cell::Float(f) => f.to_sql(ty, out),
            Cell::Bool(b) => b.to_sql(ty, out),
            Cell::Timestamp(t) => t.to_sql(ty, out),
            Cell::Date(d) => d.to_sql(ty, out),
            Cell::Json(j) => j.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn pg_type(ty: &ColumnType) -> Type {
    match ty {
        ColumnType::Utf8 => Type::TEXT,
        ColumnType::Int64 => Type::INT8,
        ColumnType::Float64 => Type::FLOAT8,
        ColumnType::Boolean => Type::BOOL,
        ColumnType::Timestamp => Type::TIMESTAMPTZ,
        ColumnType::Date => Type::DATE,
        _ => Type::JSONB,
    }
}

async fn postgres(
    target: &Target,
    plan: &ExportPlan,
    partition: Option<NaiveDate>,
    mut batches: SendableRecordBatchStream,
) -> Result<ExportResult> {
    let pg = |source| Error::Postgres { target: target.to_string(), source };
    let mut config = tokio_postgres::Config::new();
    config.host(target.host()).user(target.user()).dbname(target.database());
    if let Some(port) = target.port() {
        config.port(port);
    }
    if let Some(password) = target.password() {
        config.password(password);
    }
    let (mut client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(pg)?;
    let driver = tokio::spawn(connection);
    let d = Dialect::Postgres;
    let table = quote(d, &plan.table);
    let tx = client.transaction().await.map_err(pg)?;
    let lock = format!("eventlake export {} {}", plan.table, partition_label(partition));
    tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&lock]).await.map_err(pg)?;
    for statement in plan_statements(d, plan) {
        tx.batch_execute(&statement).await.map_err(pg)?;
    }
    let existing = tx
        .query(
            "SELECT column_name, data_type FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
            &[&plan.table],
        )
        .await
        .map_err(pg)?;
    let mut added = Vec::new();
    for (name, ty) in plan.target_columns() {
        let wanted = sql_type(d, &ty, false);
        match existing.iter().find(|r| r.get::<_, String>(0) == name) {
            Some(row) => {
                let have: String = row.get(1);
                if have != information_schema_type(wanted) {
                    return Err(Error::SchemaConflict {
                        table: plan.table.clone(),
                        column: name,
                        existing: have,
                        wanted: wanted.into(),
                    });
                }
            }
            None => {
                tx.batch_execute(&format!("ALTER TABLE {table} ADD COLUMN {}", plan.column_sql(d, &name, &ty)))
                    .await
                    .map_err(pg)?;
                added.push(name);
            }
        }
    }
    let (filter, params): (String, Vec<&(dyn ToSql + Sync)>) = match (&plan.partition, &partition) {
        (Some(p), Some(date)) => (format!(" WHERE {} = $1", quote(d, p)), vec![date]),
        _ => (String::new(), vec![]),
    };
    let replaced = tx.execute(&format!("DELETE FROM {table}{filter}"), &params).await.map_err(pg)?;
    let columns: Vec<(String, ColumnType)> = plan.target_columns();
    let names: Vec<String> = columns.iter().map(|(n, _)| quote(d, n)).collect();
    let sink =
        tx.copy_in(&format!("COPY {table} ({}) FROM STDIN (FORMAT binary)", names.join(", "))).await.map_err(pg)?;
    let types: Vec<Type> = columns.iter().map(|(_, t)| pg_type(t)).collect();
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
    let mut rows = 0u64;
    while let Some(batch) = batches.next().await {
        let batch = batch?;
        for i in 0..batch.num_rows() {
            let cells: Vec<PgCell> =
                columns.iter().enumerate().map(|(c, (_, ty))| PgCell(typed(cell(batch.column(c), i), ty))).collect();
            let refs: Vec<&(dyn ToSql + Sync)> = cells.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
            writer.as_mut().write(&refs).await.map_err(pg)?;
            rows += 1;
            plan.maybe_crash(rows);
        }
    }
    writer.finish().await.map_err(pg)?;
    let count: i64 = tx.query_one(&format!("SELECT count(*) FROM {table}{filter}"), &params).await.map_err(pg)?.get(0);
    if count as u64 != rows {
        return Err(Error::CountMismatch {
            table: plan.table.clone(),
            partition: partition_label(partition),
            lake: rows,
            target: count as u64,
        });
    }
    tx.commit().await.map_err(pg)?;
    drop(client);
    let _ = driver.await;
    Ok(ExportResult { rows, replaced, added_columns: added })
}

/// A cell as its column stores it: the partition's `YYYY-MM-DD` text is a date, a JSON-text
/// column's text is its JSON.
fn typed(cell: Cell, ty: &ColumnType) -> Cell {
    match (cell, ty) {
        (Cell::Text(t), ColumnType::Date) => {
            NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_or(Cell::Text(t), Cell::Date)
        }
        (Cell::Text(t), ColumnType::JsonText) => {
            serde_json::from_str(&t).map_or_else(|_| Cell::Json(serde_json::Value::String(t)), Cell::Json)
        }
        (c, _) => c,
    }
}

fn mysql_value(cell: Cell) -> mysql_async::Value {
    use mysql_async::Value;
    match cell {
        Cell::Null => Value::NULL,
        Cell::Text(t) => Value::Bytes(t.into_bytes()),
        Cell::Int(n) => Value::Int(n),
        Cell::Float(f) => Value::Double(f),
        Cell::Bool(b) => Value::Int(i64::from(b)),
        Cell::Timestamp(t) => Value::Date(
            t.year() as u16,
            t.month() as u8,
            t.day() as u8,
            t.hour() as u8,
            t.minute() as u8,
            t.second() as u8,
            t.timestamp_subsec_micros(),
        ),
        Cell::Date(d) => Value::Date(d.year() as u16, d.month() as u8, d.day() as u8, 0, 0, 0, 0),
        Cell::Json(j) => Value::Bytes(j.to_string().into_bytes()),
    }
}

/// Rows per multi-row INSERT.
const MYSQL_ROWS_PER_INSERT: usize = 500;

async fn mysql(
    target: &Target,
    plan: &ExportPlan,
    partition: Option<NaiveDate>,
    mut batches: SendableRecordBatchStream,
) -> Result<ExportResult> {
    let my = |source| Error::MySql { target: target.to_string(), source };
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname(target.host().to_owned())
        .tcp_port(target.port().unwrap_or(3306))
        .user(Some(target.user().to_owned()))
        .pass(target.password())
        .db_name(Some(target.database().to_owned()));
    let mut conn = mysql_async::Conn::new(opts).await.map_err(my)?;
    let d = Dialect::MySql;
    let table = quote(d, &plan.table);
    // A session lock: released with the connection, so a killed run never holds it.
    let lock = format!("eventlake export {} {}", plan.table, partition_label(partition));
    let got: Option<i64> = conn.exec_first("SELECT GET_LOCK(?, 3600)", (lock.clone(),)).await.map_err(my)?;
    if got != Some(1) {
        return Err(target.error(format!("could not lock {lock}")));
    }
    // DDL commits implicitly in MySQL: it runs before the load's transaction.
    for statement in plan_statements(d, plan) {
        conn.query_drop(statement).await.map_err(my)?;
    }
    let existing: Vec<String> = conn
        .exec(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?",
            (plan.table.clone(),),
        )
        .await
        .map_err(my)?;
    let mut added = Vec::new();
    for (name, ty) in plan.target_columns() {
        if !existing.iter().any(|e| e.eq_ignore_ascii_case(&name)) {
            conn.query_drop(format!("ALTER TABLE {table} ADD COLUMN {}", plan.column_sql(d, &name, &ty)))
                .await
                .map_err(my)?;
            added.push(name);
        }
    }
    let mut tx = conn.start_transaction(mysql_async::TxOpts::default()).await.map_err(my)?;
    let (filter, params): (String, Vec<mysql_async::Value>) = match (&plan.partition, partition) {
        (Some(p), Some(date)) => (format!(" WHERE {} = ?", quote(d, p)), vec![mysql_value(Cell::Date(date))]),
        _ => (String::new(), vec![]),
    };
    tx.exec_drop(format!("DELETE FROM {table}{filter}"), params.clone()).await.map_err(my)?;
    let replaced = tx.affected_rows();
    let columns = plan.target_columns();
    let names: Vec<String> = columns.iter().map(|(n, _)| quote(d, n)).collect();
    let row_marks = format!("({})", vec!["?"; columns.len()].join(","));
    let mut pending: Vec<mysql_async::Value> = Vec::new();
    let mut pending_rows = 0usize;
    let mut rows = 0u64;
    let insert = |n: usize| {
        format!("INSERT INTO {table} ({}) VALUES {}", names.join(", "), vec![row_marks.as_str(); n].join(","))
    };
    while let Some(batch) = batches.next().await {
        let batch = batch?;
        for i in 0..batch.num_rows() {
            for (c, (_, ty)) in columns.iter().enumerate() {
                pending.push(mysql_value(typed(cell(batch.column(c), i), ty)));
            }
            pending_rows += 1;
            rows += 1;
            plan.maybe_crash(rows);
            if pending_rows == MYSQL_ROWS_PER_INSERT {
                tx.exec_drop(insert(pending_rows), std::mem::take(&mut pending)).await.map_err(my)?;
                pending_rows = 0;
            }
        }
    }
    if pending_rows > 0 {
        tx.exec_drop(insert(pending_rows), pending).await.map_err(my)?;
    }
    let count: Option<i64> =
        tx.exec_first(format!("SELECT count(*) FROM {table}{filter}"), params).await.map_err(my)?;
    let count = count.unwrap_or_default() as u64;
    if count != rows {
        tx.rollback().await.map_err(my)?;
        return Err(Error::CountMismatch {
            table: plan.table.clone(),
            partition: partition_label(partition),
            lake: rows,
            target: count,
        });
    }
    tx.commit().await.map_err(my)?;
    let _: Option<i64> = conn.exec_first("SELECT RELEASE_LOCK(?)", (lock,)).await.map_err(my)?;
    conn.disconnect().await.map_err(my)?;
    Ok(ExportResult { rows, replaced, added_columns: added })
}
