//! One partition into one target, in one transaction.

use std::fmt;
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
    /// The partition columns the batches carry after them (`dt` as a date, `hour` as a number).
    pub partition: Vec<(String, ColumnType)>,
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

/// Which rows of the target one load replaces: all of them, one date's, or one arrival hour's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Slice {
    Whole,
    Date(NaiveDate),
    /// A date and an hour (0–23) of a table partitioned by both.
    Hour(NaiveDate, u32),
}

impl Slice {
    /// The values this slice fixes, for the plan's first partition columns in order.
    fn values(self) -> Vec<Cell> {
        match self {
            Slice::Whole => Vec::new(),
            Slice::Date(d) => vec![Cell::Date(d)],
            Slice::Hour(d, h) => vec![Cell::Date(d), Cell::Int(i64::from(h))],
        }
    }
}

impl fmt::Display for Slice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Slice::Whole => f.write_str("(whole table)"),
            Slice::Date(d) => write!(f, "dt={d}"),
            Slice::Hour(d, h) => write!(f, "dt={d}/hour={h:02}"),
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

/// Whether a column `information_schema` describes as `existing` (`data_type`) stores what
/// `sql_type` gives as `wanted`. MySQL and MariaDB report a type's base name (`varchar`, not
/// `varchar(255)`); MariaDB stores `json` as `longtext` and `boolean` as `tinyint`.
fn same_type(dialect: Dialect, wanted: &str, existing: &str) -> bool {
    let existing = existing.to_ascii_lowercase();
    match dialect {
        Dialect::Postgres => match wanted {
            "timestamptz" => existing == "timestamp with time zone",
            other => existing == other,
        },
        Dialect::MySql => {
            let base = wanted.split('(').next().unwrap_or(wanted);
            let text = ["varchar", "text", "mediumtext", "longtext"];
            match base {
                "longtext" | "varchar" => text.contains(&existing.as_str()),
                "json" => existing == "json" || existing == "longtext",
                "boolean" => existing == "tinyint",
                other => existing == other,
            }
        }
    }
}

impl ExportPlan {
    /// Every column of the target: the data columns, then the partition columns.
    fn target_columns(&self) -> Vec<(String, ColumnType)> {
        let mut cols: Vec<(String, ColumnType)> = self.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect();
        cols.extend(self.partition.iter().cloned());
        cols
    }

    fn in_key(&self, name: &str) -> bool {
        self.key.iter().any(|k| k == name)
    }

    fn column_sql(&self, dialect: Dialect, name: &str, ty: &ColumnType) -> String {
        let in_key = self.in_key(name);
        let not_null = if in_key { " NOT NULL" } else { "" };
        format!("{} {}{not_null}", quote(dialect, name), sql_type(dialect, ty, in_key))
    }

    /// The columns to add to an existing target table whose `information_schema` columns are
    /// `existing` (name, data type), or the first column whose type differs from the lake's.
    fn missing_columns(&self, dialect: Dialect, existing: &[(String, String)]) -> Result<Vec<(String, ColumnType)>> {
        let mut missing = Vec::new();
        for (name, ty) in self.target_columns() {
            let wanted = sql_type(dialect, &ty, self.in_key(&name));
            // MySQL compares column names case-insensitively; PostgreSQL's quoted names are exact.
            let found = existing.iter().find(|(n, _)| match dialect {
                Dialect::Postgres => *n == name,
                Dialect::MySql => n.eq_ignore_ascii_case(&name),
            });
            match found {
                Some((_, have)) if !same_type(dialect, wanted, have) => {
                    return Err(Error::SchemaConflict {
                        table: self.table.clone(),
                        column: name,
                        existing: have.clone(),
                        wanted: wanted.into(),
                    });
                }
                Some(_) => {}
                None => missing.push((name, ty)),
            }
        }
        Ok(missing)
    }

    /// ` WHERE "dt" = $1 AND "hour" = $2` (PostgreSQL) or `… = ?` (MySQL) for the slice, and its values.
    fn filter(&self, dialect: Dialect, slice: Slice) -> Result<(String, Vec<Cell>)> {
        let values = slice.values();
        if values.len() > self.partition.len() {
            return Err(Error::Slice { table: self.table.clone(), slice: slice.to_string() });
        }
        let terms: Vec<String> = self
            .partition
            .iter()
            .zip(&values)
            .enumerate()
            .map(|(i, ((name, _), _))| {
                let mark = match dialect {
                    Dialect::Postgres => format!("${}", i + 1),
                    Dialect::MySql => "?".to_owned(),
                };
                format!("{} = {mark}", quote(dialect, name))
            })
            .collect();
        let filter = if terms.is_empty() { String::new() } else { format!(" WHERE {}", terms.join(" AND ")) };
        Ok((filter, values))
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

/// Replaces the target's rows of `slice` with the batches' rows, in one transaction, under a lock
/// on the table and slice; checks the count. `progress` hears the rows streamed so far after
/// every batch.
pub async fn export_partition(
    target: &Target,
    plan: &ExportPlan,
    slice: Slice,
    batches: SendableRecordBatchStream,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ExportResult> {
    match target.dialect {
        Dialect::Postgres => postgres(target, plan, slice, batches, progress).await,
        Dialect::MySql => mysql(target, plan, slice, batches, progress).await,
    }
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
    slice: Slice,
    mut batches: SendableRecordBatchStream,
    progress: &(dyn Fn(u64) + Sync),
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
    let (filter, values) = plan.filter(d, slice)?;
    let tx = client.transaction().await.map_err(pg)?;
    let lock = format!("eventlake export {} {slice}", plan.table);
    tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&lock]).await.map_err(pg)?;
    for statement in plan_statements(d, plan) {
        tx.batch_execute(&statement).await.map_err(pg)?;
    }
    let existing: Vec<(String, String)> = tx
        .query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
            &[&plan.table],
        )
        .await
        .map_err(pg)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut added = Vec::new();
    for (name, ty) in plan.missing_columns(d, &existing)? {
        tx.batch_execute(&format!("ALTER TABLE {table} ADD COLUMN {}", plan.column_sql(d, &name, &ty)))
            .await
            .map_err(pg)?;
        added.push(name);
    }
    let params: Vec<PgCell> = values.into_iter().map(PgCell).collect();
    let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
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
        progress(rows);
    }
    writer.finish().await.map_err(pg)?;
    let count: i64 = tx.query_one(&format!("SELECT count(*) FROM {table}{filter}"), &params).await.map_err(pg)?.get(0);
    if count as u64 != rows {
        return Err(Error::CountMismatch {
            table: plan.table.clone(),
            partition: slice.to_string(),
            lake: rows,
            target: count as u64,
        });
    }
    tx.commit().await.map_err(pg)?;
    drop(client);
    let _ = driver.await;
    Ok(ExportResult { rows, replaced, added_columns: added })
}

/// A cell as its column stores it: a partition's `YYYY-MM-DD` text is a date and its `HH` text a
/// number, a JSON-text column's text is its JSON.
fn typed(cell: Cell, ty: &ColumnType) -> Cell {
    match (cell, ty) {
        (Cell::Text(t), ColumnType::Date) => {
            NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_or(Cell::Text(t), Cell::Date)
        }
        (Cell::Text(t), ColumnType::Int64) => t.parse().map_or(Cell::Text(t), Cell::Int),
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
    slice: Slice,
    mut batches: SendableRecordBatchStream,
    progress: &(dyn Fn(u64) + Sync),
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
    let (filter, values) = plan.filter(d, slice)?;
    // A session lock: released with the connection, so a killed run never holds it.
    let lock = format!("eventlake export {} {slice}", plan.table);
    let got: Option<i64> = conn.exec_first("SELECT GET_LOCK(?, 3600)", (lock.clone(),)).await.map_err(my)?;
    if got != Some(1) {
        return Err(target.error(format!("could not lock {lock}")));
    }
    // DDL commits implicitly in MySQL: it runs before the load's transaction.
    for statement in plan_statements(d, plan) {
        conn.query_drop(statement).await.map_err(my)?;
    }
    let existing: Vec<(String, String)> = conn
        .exec(
            "SELECT column_name, data_type FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ?",
            (plan.table.clone(),),
        )
        .await
        .map_err(my)?;
    let mut added = Vec::new();
    for (name, ty) in plan.missing_columns(d, &existing)? {
        conn.query_drop(format!("ALTER TABLE {table} ADD COLUMN {}", plan.column_sql(d, &name, &ty)))
            .await
            .map_err(my)?;
        added.push(name);
    }
    let mut tx = conn.start_transaction(mysql_async::TxOpts::default()).await.map_err(my)?;
    let params: Vec<mysql_async::Value> = values.into_iter().map(mysql_value).collect();
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
        progress(rows);
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
            partition: slice.to_string(),
            lake: rows,
            target: count,
        });
    }
    tx.commit().await.map_err(my)?;
    let _: Option<i64> = conn.exec_first("SELECT RELEASE_LOCK(?)", (lock,)).await.map_err(my)?;
    conn.disconnect().await.map_err(my)?;
    Ok(ExportResult { rows, replaced, added_columns: added })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a quoted identifier back as the database's lexer would: the closing quote is the
    /// first one not doubled, so whatever follows it is outside the identifier.
    fn unquote(text: &str, q: char) -> Option<(String, &str)> {
        let mut name = String::new();
        let mut chars = text.strip_prefix(q)?.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == q {
                if chars.peek().map(|(_, n)| *n) == Some(q) {
                    chars.next();
                    name.push(q);
                } else {
                    return Some((name, &text[1 + i + 1..]));
                }
            } else {
                name.push(c);
            }
        }
        None
    }

    proptest::proptest! {
        /// Column and table names come from schemas and data: quoted, any of them is one
        /// identifier with nothing after it.
        #[test]
        fn fuzzed_identifiers_stay_identifiers(name in "\\PC{0,30}|[\"`'; ]{0,6}") {
            for (dialect, q) in [(Dialect::Postgres, '"'), (Dialect::MySql, '`')] {
                let quoted = quote(dialect, &name);
                let (back, rest) = unquote(&quoted, q).expect("closed");
                proptest::prop_assert_eq!(&back, &name);
                proptest::prop_assert_eq!(rest, "", "{}", quoted);
            }
        }
    }

    fn column(name: &str, ty: ColumnType) -> Column {
        Column { name: name.into(), source_name: name.into(), ty, nullable: true, description: None }
    }

    fn plan(partition: Vec<(String, ColumnType)>) -> ExportPlan {
        ExportPlan {
            table: "orders".into(),
            columns: vec![
                column("id", ColumnType::Utf8),
                column("amount", ColumnType::Float64),
                column("at", ColumnType::Timestamp),
                column("items", ColumnType::List(Box::new(ColumnType::Int64))),
            ],
            partition,
            key: vec!["id".into(), "dt".into()],
            crash_after_rows: None,
        }
    }

    fn by_date() -> ExportPlan {
        plan(vec![("dt".into(), ColumnType::Date)])
    }

    fn schema(rows: &[(&str, &str)]) -> Vec<(String, String)> {
        rows.iter().map(|(n, t)| ((*n).to_owned(), (*t).to_owned())).collect()
    }

    #[test]
    fn ddl_types_keys_and_not_null() {
        let [pg] = plan_statements(Dialect::Postgres, &by_date()).try_into().unwrap();
        assert!(
            pg.contains("\"id\" text NOT NULL") && pg.contains("\"at\" timestamptz") && pg.contains("\"items\" jsonb")
        );
        assert!(pg.contains("\"dt\" date NOT NULL") && pg.contains("PRIMARY KEY (\"id\", \"dt\")"), "{pg}");
        let [my] = plan_statements(Dialect::MySql, &by_date()).try_into().unwrap();
        assert!(
            my.contains("`id` varchar(255) NOT NULL") && my.contains("`at` datetime(6)") && my.contains("`items` json")
        );
    }

    #[test]
    fn an_existing_table_gains_missing_columns_or_fails_on_a_changed_type() {
        let p = by_date();
        // As MariaDB reports them: json as longtext, names in any case.
        let have = schema(&[("ID", "varchar"), ("amount", "double"), ("at", "datetime"), ("items", "longtext")]);
        let missing = p.missing_columns(Dialect::MySql, &have).unwrap();
        assert_eq!(missing, vec![("dt".to_owned(), ColumnType::Date)]);
        let pg = schema(&[("id", "text"), ("amount", "double precision"), ("at", "timestamp with time zone")]);
        let missing: Vec<String> =
            p.missing_columns(Dialect::Postgres, &pg).unwrap().into_iter().map(|c| c.0).collect();
        assert_eq!(missing, ["items", "dt"]);
        for (dialect, have) in [
            (Dialect::Postgres, schema(&[("amount", "integer")])),
            (Dialect::MySql, schema(&[("amount", "int")])),
            (Dialect::MySql, schema(&[("at", "varchar")])),
        ] {
            let err = p.missing_columns(dialect, &have).unwrap_err().to_string();
            assert!(err.contains("orders: column") && err.contains("in the target but"), "{err}");
        }
    }

    #[test]
    fn slices_filter_their_partition_columns() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let hourly = plan(vec![("dt".into(), ColumnType::Date), ("hour".into(), ColumnType::Int64)]);
        let (filter, values) = hourly.filter(Dialect::Postgres, Slice::Hour(date, 5)).unwrap();
        assert_eq!(filter, " WHERE \"dt\" = $1 AND \"hour\" = $2");
        assert!(matches!(values.as_slice(), [Cell::Date(_), Cell::Int(5)]));
        let (filter, _) = hourly.filter(Dialect::MySql, Slice::Date(date)).unwrap();
        assert_eq!(filter, " WHERE `dt` = ?");
        assert_eq!(by_date().filter(Dialect::MySql, Slice::Whole).unwrap().0, "");
        let err = by_date().filter(Dialect::Postgres, Slice::Hour(date, 5)).unwrap_err().to_string();
        assert_eq!(err, "orders is not partitioned finely enough to load dt=2026-11-20/hour=05 alone");
    }

    #[test]
    fn partition_text_becomes_typed_cells() {
        assert!(matches!(typed(Cell::Text("2026-11-20".into()), &ColumnType::Date), Cell::Date(_)));
        assert!(matches!(typed(Cell::Text("07".into()), &ColumnType::Int64), Cell::Int(7)));
        assert!(matches!(typed(Cell::Text("[1,2]".into()), &ColumnType::JsonText), Cell::Json(_)));
    }
}
