//! Athena (Hive) DDL for the lake catalog. Every identifier is checked (`[a-z0-9_]`) and
//! backticked, every string literal escaped; nothing from the data reaches the SQL unchecked.

use eventlake_contract::{Column, ColumnType};
use eventlake_lake::catalog::{CatalogTable, PartitionKind, TableFormat};

use crate::error::{Error, Result};

/// First date partition projection enumerates.
pub const PROJECTION_START: &str = "2020-01-01";

/// Checks an Athena identifier: lower-case letters, digits and underscores.
pub fn check_identifier(kind: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok { Ok(()) } else { Err(Error::InvalidIdentifier { kind: kind.into(), name: name.into() }) }
}

fn ident(name: &str) -> String {
    format!("`{name}`")
}

/// A single-quoted Hive string literal.
pub fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The Hive type of a column, with nested field names checked.
pub fn hive_type(table: &str, column: &str, ty: &ColumnType) -> Result<String> {
    Ok(match ty {
        ColumnType::Struct(fields) => {
            let mut parts = Vec::with_capacity(fields.len());
            for f in fields {
                check_identifier("struct field", &f.name).map_err(|_| Error::InvalidIdentifier {
                    kind: format!("field of {table}.{column}"),
                    name: f.name.clone(),
                })?;
                // Backticked: Athena rejects reserved words (date, user, …) as bare field names.
                parts.push(format!("`{}`:{}", f.name, hive_type(table, column, &f.ty)?));
            }
            format!("struct<{}>", parts.join(","))
        }
        ColumnType::List(item) => format!("array<{}>", hive_type(table, column, item)?),
        ColumnType::Map(value) => format!("map<string,{}>", hive_type(table, column, value)?),
        other => other.athena(),
    })
}

/// `` `name` type COMMENT '...' ``.
pub fn column_definition(table: &str, c: &Column) -> Result<String> {
    check_identifier(&format!("column of {table}"), &c.name)?;
    let mut def = format!("{} {}", ident(&c.name), hive_type(table, &c.name, &c.ty)?);
    if let Some(d) = &c.description {
        def.push_str(&format!(" COMMENT {}", literal(d)));
    }
    Ok(def)
}

/// `CREATE DATABASE IF NOT EXISTS`.
pub fn create_database(database: &str) -> Result<String> {
    check_identifier("database", database)?;
    Ok(format!(
        "CREATE DATABASE IF NOT EXISTS {} COMMENT 'eventlake: silver, gold and quarantine tables'",
        ident(database)
    ))
}

/// The table's folder URL under the lake, with a trailing slash.
pub fn location(lake_url: &str, table: &CatalogTable) -> String {
    format!("{}/{}/", lake_url.trim_end_matches('/'), table.dir)
}

/// `CREATE EXTERNAL TABLE IF NOT EXISTS` with partition projection.
pub fn create_table(database: &str, lake_url: &str, table: &CatalogTable) -> Result<String> {
    check_identifier("database", database)?;
    check_identifier("table", &table.name)?;
    let columns = table.columns.iter().map(|c| column_definition(&table.name, c)).collect::<Result<Vec<_>>>()?;
    let mut sql = format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS {}.{} (\n  {}\n)\nCOMMENT {}",
        ident(database),
        ident(&table.name),
        columns.join(",\n  "),
        literal(&table.comment)
    );
    if !table.partitions.is_empty() {
        let parts: Vec<String> = table.partitions.iter().map(|p| format!("{} string", ident(p.name))).collect();
        sql.push_str(&format!("\nPARTITIONED BY ({})", parts.join(", ")));
    }
    match table.format {
        TableFormat::Parquet => sql.push_str("\nSTORED AS PARQUET"),
        TableFormat::JsonLines => sql.push_str(
            "\nROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\
             \nSTORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'\
             \nOUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'",
        ),
    }
    let root = location(lake_url, table);
    sql.push_str(&format!("\nLOCATION {}", literal(&root)));
    let mut props: Vec<(String, String)> = Vec::new();
    if !table.partitions.is_empty() {
        props.push(("projection.enabled".into(), "true".into()));
        for p in &table.partitions {
            match &p.kind {
                PartitionKind::Date => {
                    props.push((format!("projection.{}.type", p.name), "date".into()));
                    props.push((format!("projection.{}.format", p.name), "yyyy-MM-dd".into()));
                    props.push((format!("projection.{}.range", p.name), format!("{PROJECTION_START},NOW")));
                    props.push((format!("projection.{}.interval", p.name), "1".into()));
                    props.push((format!("projection.{}.interval.unit", p.name), "DAYS".into()));
                }
                PartitionKind::Hour => {
                    props.push((format!("projection.{}.type", p.name), "integer".into()));
                    props.push((format!("projection.{}.range", p.name), "0,23".into()));
                    props.push((format!("projection.{}.digits", p.name), "2".into()));
                }
                PartitionKind::Enum(values) => {
                    for v in values {
                        check_identifier("event type", v)?;
                    }
                    props.push((format!("projection.{}.type", p.name), "enum".into()));
                    props.push((format!("projection.{}.values", p.name), values.join(",")));
                }
            }
        }
        props.push((
            "storage.location.template".into(),
            format!("{}/{}", lake_url.trim_end_matches('/'), table.location_template()),
        ));
    }
    if table.format == TableFormat::Parquet {
        props.push(("parquet.compression".into(), "ZSTD".into()));
    }
    props.push(("eventlake.managed".into(), "true".into()));
    let props: Vec<String> = props.iter().map(|(k, v)| format!("{}={}", literal(k), literal(v))).collect();
    sql.push_str(&format!("\nTBLPROPERTIES (\n  {}\n)", props.join(",\n  ")));
    Ok(sql)
}

/// `ALTER TABLE … ADD COLUMNS`.
pub fn add_columns(database: &str, table: &CatalogTable, columns: &[&Column]) -> Result<String> {
    let defs = columns.iter().map(|c| column_definition(&table.name, c)).collect::<Result<Vec<_>>>()?;
    Ok(format!("ALTER TABLE {}.{} ADD COLUMNS (\n  {}\n)", ident(database), ident(&table.name), defs.join(",\n  ")))
}

/// `DROP TABLE IF EXISTS` (external tables: the files stay).
pub fn drop_table(database: &str, table: &str) -> Result<String> {
    check_identifier("table", table)?;
    Ok(format!("DROP TABLE IF EXISTS {}.{}", ident(database), ident(table)))
}

/// The full, idempotent DDL of a lake: the database and every table.
pub fn all_statements(database: &str, lake_url: &str, catalog: &[CatalogTable]) -> Result<Vec<String>> {
    let mut out = vec![create_database(database)?];
    for t in catalog {
        out.push(create_table(database, lake_url, t)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use chrono::NaiveDate;
    use eventlake_contract::{Registry, RegistryOptions};
    use eventlake_lake::catalog::catalog;
    use eventlake_lake::layout::{DailyFile, GoldFile, Hour, QuarantineFile, SilverPartition};

    use super::*;

    const LAKE: &str = "s3://example-lake/prod";

    fn examples() -> Registry {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/schemas");
        Registry::load_dir(&dir, &RegistryOptions::default()).unwrap()
    }

    /// Golden DDL of the example schemas; `EVENTLAKE_REGENERATE=1` rewrites it deliberately.
    #[test]
    fn golden_ddl() {
        let statements = all_statements("analytics", LAKE, &catalog(&examples())).unwrap();
        let got: String = statements.iter().map(|s| format!("{s};\n\n")).collect();
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/ddl/examples.sql");
        if std::env::var_os("EVENTLAKE_REGENERATE").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(got == want, "DDL differs from {}; rerun with EVENTLAKE_REGENERATE=1 if intended", path.display());
    }

    /// Athena's `storage.location.template`, filled in, is exactly where the writers put files.
    #[test]
    fn location_templates_match_the_writers() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let hour: Hour = "2026-11-20T07".parse().unwrap();
        for table in catalog(&examples()) {
            let filled = format!("{LAKE}/{}", table.location_template())
                .replace("${event_type}", "payment")
                .replace("${dt}", "2026-11-20")
                .replace("${hour}", "07");
            let event_type = table.name.strip_prefix("silver_").or(table.name.strip_prefix("gold_"));
            let writer = match table.name.as_str() {
                "silver_events" => SilverPartition { event_type: "payment".into(), hour }.path(),
                "gold_events" => GoldFile::dir("payment", date),
                "daily_event_counts" => DailyFile::EventCounts(date).dir(),
                "daily_quality" => DailyFile::Quality(date).dir(),
                "quarantine" => QuarantineFile::dir(hour),
                n if n.starts_with("silver_") => {
                    SilverPartition { event_type: event_type.unwrap().into(), hour }.path()
                }
                _ => GoldFile::dir(event_type.unwrap(), date),
            };
            assert_eq!(filled, format!("{LAKE}/{writer}"), "table {}", table.name);
            let ddl = create_table("analytics", LAKE, &table).unwrap();
            assert!(ddl.contains(&format!("'storage.location.template'='{LAKE}/{}'", table.location_template())));
        }
    }

    #[test]
    fn identifiers_and_literals_are_safe() {
        for bad in ["", "Payments", "a-b", "x; DROP TABLE y", "a`b", "ünï"] {
            assert!(check_identifier("table", bad).is_err(), "{bad}");
        }
        assert_eq!(literal("a'b\\c\nd"), r"'a\'b\\c d'");
        let ddl = create_table("db", LAKE, &catalog(&examples())[0]).unwrap();
        assert!(ddl.starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS `db`.`silver_account` ("));
        assert!(ddl.contains("'projection.hour.digits'='2'"));
        assert!(ddl.contains("'projection.dt.format'='yyyy-MM-dd'"));
    }
}
