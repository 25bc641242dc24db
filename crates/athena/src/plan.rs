//! Schema change: what setup would change, checked for BACKWARD compatibility against the tables
//! last applied (kept in the lake at `_schema_history/athena-<database>.json`).
//!
//! | change                                   | statement                                   |
//! |------------------------------------------|---------------------------------------------|
//! | new table                                | `CREATE EXTERNAL TABLE IF NOT EXISTS`       |
//! | new optional column                      | `ALTER TABLE … ADD COLUMNS`                  |
//! | new field inside a struct column         | `DROP TABLE` + `CREATE` (external: files stay) |
//! | new location, partitions or format       | `DROP TABLE` + `CREATE`                      |
//! | removed or retyped column                | refused (old files would not read) unless `--force` |

use serde::{Deserialize, Serialize};

use eventlake_contract::ColumnType;
use eventlake_lake::Lake;
use eventlake_lake::catalog::CatalogTable;
use object_store::path::Path;

use crate::ddl;
use crate::error::{Error, Result};

/// One table as it was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedTable {
    pub name: String,
    /// `(column, Athena type)` in order.
    pub columns: Vec<(String, String)>,
    /// The full DDL that created it (location, partitions, properties).
    pub ddl: String,
}

/// What was last applied to a database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub database: String,
    pub tables: Vec<AppliedTable>,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    CreateDatabase,
    CreateTable {
        table: String,
    },
    AddColumns {
        table: String,
        columns: Vec<String>,
    },
    Recreate {
        table: String,
        reason: String,
    },
    /// Not BACKWARD compatible: refused unless forced (then recreated).
    Incompatible {
        table: String,
        reason: String,
    },
}

/// A plan and the statements that carry it out.
#[derive(Debug, Clone)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub statements: Vec<String>,
    /// What the history will say after the statements ran.
    pub applied: Applied,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The plan without `CREATE DATABASE`, for a database someone else owns (Terraform creates it,
    /// and the jobs' role may not create databases).
    pub fn without_create_database(mut self) -> Result<Plan> {
        let create = ddl::create_database(&self.applied.database)?;
        self.changes.retain(|c| *c != Change::CreateDatabase);
        self.statements.retain(|s| *s != create);
        Ok(self)
    }

    /// The incompatible changes (a `--force` turns them into recreations).
    pub fn incompatible(&self) -> Vec<&Change> {
        self.changes.iter().filter(|c| matches!(c, Change::Incompatible { .. })).collect()
    }
}

fn history_key(database: &str) -> Path {
    eventlake_lake::layout::schema_history(database)
}

/// The catalog last applied to `database`, if any.
pub async fn read_applied(lake: &Lake, database: &str) -> Result<Option<Applied>> {
    match lake.get_opt(&history_key(database)).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::History { key: history_key(database).to_string(), reason: e.to_string() }),
    }
}

/// Records what was applied.
pub async fn write_applied(lake: &Lake, applied: &Applied) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(applied)
        .map_err(|e| Error::History { key: history_key(&applied.database).to_string(), reason: e.to_string() })?;
    lake.put(&history_key(&applied.database), bytes).await?;
    Ok(())
}

/// Whether `new` only adds struct fields to `old` (recursively), so old files still read.
fn widens(old: &ColumnType, new: &ColumnType) -> bool {
    match (old, new) {
        (ColumnType::Struct(a), ColumnType::Struct(b)) => {
            a.iter().all(|fa| b.iter().any(|fb| fb.name == fa.name && (fa.ty == fb.ty || widens(&fa.ty, &fb.ty))))
        }
        (ColumnType::List(a), ColumnType::List(b)) | (ColumnType::Map(a), ColumnType::Map(b)) => a == b || widens(a, b),
        _ => false,
    }
}

/// Plans the statements that bring `database` from `applied` to `catalog`.
pub fn plan(
    database: &str,
    lake_url: &str,
    catalog: &[CatalogTable],
    applied: Option<&Applied>,
    force: bool,
) -> Result<Plan> {
    let mut changes = Vec::new();
    let mut statements = Vec::new();
    let mut next = Applied { database: database.into(), tables: Vec::new() };
    if applied.is_none() {
        changes.push(Change::CreateDatabase);
        statements.push(ddl::create_database(database)?);
    }
    for table in catalog {
        let create = ddl::create_table(database, lake_url, table)?;
        let columns: Vec<(String, String)> = table.columns.iter().map(|c| (c.name.clone(), c.ty.athena())).collect();
        next.tables.push(AppliedTable { name: table.name.clone(), columns: columns.clone(), ddl: create.clone() });
        let Some(old) = applied.and_then(|a| a.tables.iter().find(|t| t.name == table.name)) else {
            changes.push(Change::CreateTable { table: table.name.clone() });
            statements.push(create);
            continue;
        };
        if old.ddl == create {
            continue;
        }
        // Compare columns: removed or retyped ones are incompatible.
        let mut problems = Vec::new();
        let mut widened = Vec::new();
        for (name, ty) in &old.columns {
            match table.columns.iter().find(|c| &c.name == name) {
                None => problems.push(format!("column {name} was removed")),
                Some(c) if &c.ty.athena() != ty => {
                    let old_ty = parse_type(&mut ty.chars().peekable());
                    if old_ty.as_ref().is_some_and(|o| widens(o, &c.ty)) {
                        widened.push(name.clone());
                    } else {
                        problems.push(format!("column {name} changed from {ty} to {}", c.ty.athena()));
                    }
                }
                Some(_) => {}
            }
        }
        let added: Vec<_> = table.columns.iter().filter(|c| !old.columns.iter().any(|(n, _)| n == &c.name)).collect();
        let old_without_columns = strip_columns(&old.ddl);
        let layout_changed = old_without_columns != strip_columns(&create);
        if !problems.is_empty() {
            let reason = problems.join("; ");
            if force {
                changes.push(Change::Recreate { table: table.name.clone(), reason: format!("forced: {reason}") });
                statements.push(ddl::drop_table(database, &table.name)?);
                statements.push(create);
            } else {
                changes.push(Change::Incompatible { table: table.name.clone(), reason });
            }
        } else if !widened.is_empty() || layout_changed {
            let reason = if widened.is_empty() {
                "location, partitioning or properties changed".to_owned()
            } else {
                format!("struct fields added to {}", widened.join(", "))
            };
            changes.push(Change::Recreate { table: table.name.clone(), reason });
            statements.push(ddl::drop_table(database, &table.name)?);
            statements.push(create);
        } else if !added.is_empty() {
            changes.push(Change::AddColumns {
                table: table.name.clone(),
                columns: added.iter().map(|c| c.name.clone()).collect(),
            });
            statements.push(ddl::add_columns(database, table, &added)?);
        } else {
            // Only comments changed: recreate so the catalog shows them.
            changes.push(Change::Recreate { table: table.name.clone(), reason: "comments changed".into() });
            statements.push(ddl::drop_table(database, &table.name)?);
            statements.push(create);
        }
    }
    let plan = Plan { changes, statements, applied: next };
    let incompatible = plan.incompatible();
    if !incompatible.is_empty() && !force {
        let list: Vec<String> = incompatible
            .iter()
            .filter_map(|c| match c {
                Change::Incompatible { table, reason } => Some(format!("{table}: {reason}")),
                _ => None,
            })
            .collect();
        return Err(Error::Incompatible { changes: list });
    }
    Ok(plan)
}

/// Parses an Athena type string back into a [`ColumnType`] (for the struct-widening check).
fn parse_type(it: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<ColumnType> {
    let mut word = String::new();
    while let Some(&c) = it.peek() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            it.next();
        } else {
            break;
        }
    }
    match word.as_str() {
        "string" => Some(ColumnType::Utf8),
        "timestamp" => Some(ColumnType::Timestamp),
        "date" => Some(ColumnType::Date),
        "bigint" => Some(ColumnType::Int64),
        "double" => Some(ColumnType::Float64),
        "boolean" => Some(ColumnType::Boolean),
        "array" => {
            (it.next()? == '<').then_some(())?;
            let item = parse_type(it)?;
            (it.next()? == '>').then_some(())?;
            Some(ColumnType::List(Box::new(item)))
        }
        "map" => {
            (it.next()? == '<').then_some(())?;
            (parse_type(it)? == ColumnType::Utf8).then_some(())?;
            (it.next()? == ',').then_some(())?;
            let value = parse_type(it)?;
            (it.next()? == '>').then_some(())?;
            Some(ColumnType::Map(Box::new(value)))
        }
        "struct" => {
            (it.next()? == '<').then_some(())?;
            let mut fields = Vec::new();
            loop {
                let mut name = String::new();
                while let Some(&c) = it.peek() {
                    if c == ':' {
                        break;
                    }
                    name.push(c);
                    it.next();
                }
                it.next()?;
                let ty = parse_type(it)?;
                fields.push(eventlake_contract::Column {
                    name: name.clone(),
                    source_name: name,
                    ty,
                    nullable: true,
                    description: None,
                });
                match it.next()? {
                    ',' => continue,
                    '>' => break,
                    _ => return None,
                }
            }
            Some(ColumnType::Struct(fields))
        }
        _ => None,
    }
}

/// The DDL without its column list (to see whether anything but columns changed).
fn strip_columns(ddl: &str) -> String {
    match (ddl.find(" (\n"), ddl.find("\n)\nCOMMENT")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &ddl[..a], &ddl[b + 2..]),
        _ => ddl.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_owned_database_is_not_created() {
        let planned = super::plan("analytics", "s3://b/lake", &[], None, false).unwrap();
        assert_eq!(planned.changes, [super::Change::CreateDatabase]);
        let planned = planned.without_create_database().unwrap();
        assert!(planned.is_empty() && planned.statements.is_empty(), "{:?}", planned.statements);
        assert_eq!(planned.applied.database, "analytics", "the history still records the database");
    }

    use eventlake_contract::Column;
    use eventlake_lake::catalog::{Partition, PartitionKind, TableFormat};

    use super::*;

    fn table(columns: Vec<(&str, ColumnType)>) -> CatalogTable {
        CatalogTable {
            name: "silver_t".into(),
            dir: Path::from("silver/event_type=t"),
            columns: columns
                .into_iter()
                .map(|(n, ty)| Column { name: n.into(), source_name: n.into(), ty, nullable: true, description: None })
                .collect(),
            partitions: vec![Partition { name: "dt", kind: PartitionKind::Date }],
            format: TableFormat::Parquet,
            comment: "t".into(),
        }
    }

    fn field(n: &str, ty: ColumnType) -> Column {
        Column { name: n.into(), source_name: n.into(), ty, nullable: true, description: None }
    }

    #[test]
    fn backward_compatibility() {
        let v1 = table(vec![("a", ColumnType::Utf8), ("s", ColumnType::Struct(vec![field("x", ColumnType::Int64)]))]);
        let first = plan("db", "s3://b/l", std::slice::from_ref(&v1), None, false).unwrap();
        assert_eq!(first.changes, [Change::CreateDatabase, Change::CreateTable { table: "silver_t".into() }]);
        // Re-running is a no-op.
        assert!(plan("db", "s3://b/l", std::slice::from_ref(&v1), Some(&first.applied), false).unwrap().is_empty());
        // An added optional column is ADD COLUMNS.
        let mut v2 = v1.clone();
        v2.columns.push(field("b", ColumnType::Int64));
        let p = plan("db", "s3://b/l", &[v2], Some(&first.applied), false).unwrap();
        assert_eq!(p.changes, [Change::AddColumns { table: "silver_t".into(), columns: vec!["b".into()] }]);
        assert!(p.statements[0].starts_with("ALTER TABLE `db`.`silver_t` ADD COLUMNS"));
        // A field added inside a struct recreates the table.
        let v3 = table(vec![
            ("a", ColumnType::Utf8),
            ("s", ColumnType::Struct(vec![field("x", ColumnType::Int64), field("y", ColumnType::Utf8)])),
        ]);
        let p = plan("db", "s3://b/l", &[v3], Some(&first.applied), false).unwrap();
        assert!(matches!(&p.changes[0], Change::Recreate { reason, .. } if reason.contains("struct fields")));
        // Removing or retyping fails unless forced.
        let removed = table(vec![("s", ColumnType::Struct(vec![field("x", ColumnType::Int64)]))]);
        let err = plan("db", "s3://b/l", std::slice::from_ref(&removed), Some(&first.applied), false).unwrap_err();
        assert!(err.to_string().contains("column a was removed"), "{err}");
        let retyped =
            table(vec![("a", ColumnType::Int64), ("s", ColumnType::Struct(vec![field("x", ColumnType::Int64)]))]);
        let err = plan("db", "s3://b/l", std::slice::from_ref(&retyped), Some(&first.applied), false).unwrap_err();
        assert!(err.to_string().contains("column a changed from string to bigint"), "{err}");
        let forced = plan("db", "s3://b/l", &[retyped], Some(&first.applied), true).unwrap();
        assert!(forced.statements[0].starts_with("DROP TABLE IF EXISTS `db`.`silver_t`"));
    }
}
