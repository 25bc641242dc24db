//! The one type mapping every layer uses: JSON Schema → Arrow (Parquet) → Athena.
//!
//! | JSON Schema                         | Arrow                    | Athena        |
//! |-------------------------------------|--------------------------|---------------|
//! | `string`                            | `Utf8`                   | `string`      |
//! | `string`, `format: date-time`       | `Timestamp(µs, UTC)`     | `timestamp`   |
//! | `string`, `format: date`            | `Date32`                 | `date`        |
//! | `integer`                           | `Int64`                  | `bigint`      |
//! | `number`                            | `Float64`                | `double`      |
//! | `boolean`                           | `Boolean`                | `boolean`     |
//! | `object` with `properties`          | `Struct`                 | `struct<..>`  |
//! | `array` with `items`                | `List`                   | `array<..>`   |
//! | `object` whose members are all one schema (`additionalProperties` or `patternProperties` as a schema map, no `properties`) | `Map<Utf8, ..>` | `map<string,..>` |
//! | anything else (free-form object, mixed types, no `type`) | `Utf8` holding the JSON text | `string` |
//!
//! A type list with `null`, or a property that is not `required`, is nullable. Column and struct
//! field names are the property names as lower snake case ([`identifier`]), because Athena
//! lower-cases identifiers and takes only letters, digits and `_` unquoted.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, TimeUnit};
use serde_json::Value as J;

use crate::error::{Error, Result};
use crate::schema::{Format, Items, NodeId, Schema, ty};

/// The storage type of a column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnType {
    Utf8,
    Timestamp,
    Date,
    Int64,
    Float64,
    Boolean,
    Struct(Vec<Column>),
    List(Box<ColumnType>),
    /// An object used as a map: any field names, one value type.
    Map(Box<ColumnType>),
    /// The value's JSON text, for values without one fixed shape.
    JsonText,
}

/// A named, typed column or struct field.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Lower-cased name used in Parquet and Athena.
    pub name: String,
    /// The property name as the JSON records spell it.
    pub source_name: String,
    pub ty: ColumnType,
    pub nullable: bool,
    /// From the schema's `description`, for Athena `COMMENT`s.
    pub description: Option<String>,
}

impl ColumnType {
    /// The Arrow type written to Parquet.
    pub fn arrow(&self) -> DataType {
        match self {
            ColumnType::Utf8 | ColumnType::JsonText => DataType::Utf8,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC"))),
            ColumnType::Date => DataType::Date32,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Struct(cols) => DataType::Struct(cols.iter().map(Column::arrow_field).collect::<Fields>()),
            ColumnType::List(item) => DataType::List(Arc::new(Field::new("item", item.arrow(), true))),
            ColumnType::Map(value) => DataType::Map(Arc::new(map_entries(value)), false),
        }
    }

    /// The Athena (Hive DDL) type.
    pub fn athena(&self) -> String {
        match self {
            ColumnType::Utf8 | ColumnType::JsonText => "string".into(),
            ColumnType::Timestamp => "timestamp".into(),
            ColumnType::Date => "date".into(),
            ColumnType::Int64 => "bigint".into(),
            ColumnType::Float64 => "double".into(),
            ColumnType::Boolean => "boolean".into(),
            ColumnType::Struct(cols) => {
                let fields: Vec<String> = cols.iter().map(|c| format!("{}:{}", c.name, c.ty.athena())).collect();
                format!("struct<{}>", fields.join(","))
            }
            ColumnType::List(item) => format!("array<{}>", item.athena()),
            ColumnType::Map(value) => format!("map<string,{}>", value.athena()),
        }
    }
}

impl ColumnType {
    /// The column type that stores values of Arrow type `ty` (a query's output): integers widen to
    /// `bigint`, floats to `double`, any time unit to microseconds; `None` for a type Athena cannot
    /// be given from Parquet as eventlake writes it (decimals, binary, unsigned 64-bit, …).
    pub fn from_arrow(ty: &DataType) -> Option<ColumnType> {
        Some(match ty {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ColumnType::Utf8,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => ColumnType::Int64,
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => ColumnType::Int64,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => ColumnType::Float64,
            DataType::Boolean => ColumnType::Boolean,
            DataType::Date32 | DataType::Date64 => ColumnType::Date,
            DataType::Timestamp(_, _) => ColumnType::Timestamp,
            DataType::Struct(fields) => ColumnType::Struct(
                fields
                    .iter()
                    .map(|f| {
                        Some(Column {
                            name: f.name().clone(),
                            source_name: f.name().clone(),
                            ty: ColumnType::from_arrow(f.data_type())?,
                            nullable: true,
                            description: None,
                        })
                    })
                    .collect::<Option<Vec<Column>>>()?,
            ),
            DataType::List(item) | DataType::LargeList(item) | DataType::ListView(item) => {
                ColumnType::List(Box::new(ColumnType::from_arrow(item.data_type())?))
            }
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(kv)
                    if kv.len() == 2 && ColumnType::from_arrow(kv[0].data_type()) == Some(ColumnType::Utf8) =>
                {
                    ColumnType::Map(Box::new(ColumnType::from_arrow(kv[1].data_type())?))
                }
                _ => return None,
            },
            _ => return None,
        })
    }
}

/// The entries field of a map column: a non-null `key` string and a nullable `value`, named as
/// Parquet's MAP layout names them, so a file read back has exactly the table's type.
pub(crate) fn map_entries(value: &ColumnType) -> Field {
    let fields = Fields::from(vec![Field::new("key", DataType::Utf8, false), Field::new("value", value.arrow(), true)]);
    Field::new("key_value", DataType::Struct(fields), false)
}

impl Column {
    /// The Arrow field for this column.
    pub fn arrow_field(&self) -> Field {
        Field::new(&self.name, self.ty.arrow(), self.nullable)
    }
}

/// The Athena-safe name of a field or event type: lower case, every run of characters other than
/// ASCII letters, digits and `_` replaced by one `_` (none at either end). `Page Name` →
/// `page_name`, `segment_tracks.event_name` → `segment_tracks_event_name`, `Signup Started` →
/// `signup_started`; names that are already identifiers only lose their capitals.
pub fn identifier(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || c == '_' {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}

/// Maps the root object of `schema` to its columns, in declaration order.
pub fn root_columns(schema: &Schema) -> Result<Vec<Column>> {
    let mut m = Mapper { schema, stack: Vec::new() };
    let shape = m.shape(0);
    match m.object_columns(&shape, 0)? {
        Some(cols) => Ok(cols),
        None => Err(m.unmappable("", "the event schema must be an object with `properties`")),
    }
}

/// What a node and its in-place applicators say about a value, merged.
#[derive(Default)]
struct Shape {
    types: u8,
    properties: Vec<(String, NodeId)>,
    required: Vec<String>,
    items: Option<NodeId>,
    /// Schemas of members by pattern and of the rest (`patternProperties`, `additionalProperties`).
    member_schemas: Vec<NodeId>,
    /// `additionalProperties: true`, or no `additionalProperties` under open objects.
    open_members: bool,
    format: Option<Format>,
    constants: Vec<J>,
    description: Option<String>,
    /// `anyOf`/`oneOf` alternatives, mapped on their own.
    alternatives: Vec<NodeId>,
    unconstrained: bool,
}

struct Mapper<'s> {
    schema: &'s Schema,
    stack: Vec<NodeId>,
}

impl Mapper<'_> {
    fn unmappable(&self, pointer: &str, reason: &str) -> Error {
        Error::Unmappable { file: self.schema.source().into(), pointer: pointer.into(), reason: reason.into() }
    }

    fn shape(&self, id: NodeId) -> Shape {
        let mut s = Shape { types: ty::ANY, ..Shape::default() };
        let mut todo = vec![id];
        let mut seen = Vec::new();
        while let Some(n) = todo.pop() {
            if seen.contains(&n) {
                continue;
            }
            seen.push(n);
            let node = self.schema.node(n);
            if node.always == Some(true) && n == id {
                s.unconstrained = true;
            }
            if node.has_type {
                s.types &= node.types;
            }
            for (k, v) in &node.properties {
                if !s.properties.iter().any(|(x, _)| x == k) {
                    s.properties.push((k.clone(), *v));
                }
            }
            s.required.extend(node.required.iter().cloned());
            if let Items::All(i) = node.items {
                s.items.get_or_insert(i);
            }
            s.member_schemas.extend(node.more.pattern_properties.iter().map(|(_, sub)| *sub));
            if let Some(additional) = node.additional {
                match self.schema.node(additional).always {
                    Some(true) => s.open_members = true,
                    Some(false) => {}
                    None => s.member_schemas.push(additional),
                }
            }
            if node.format.is_some() {
                s.format = node.format;
            }
            if let Some(c) = &node.const_value {
                s.constants.push(J::clone(c));
            }
            if let Some(e) = &node.enum_values {
                s.constants.extend(e.iter().cloned());
            }
            if s.description.is_none() {
                s.description.clone_from(&node.more.description);
            }
            todo.extend(node.reference);
            todo.extend(node.more.dynamic_ref.as_ref().map(|(target, _)| *target));
            todo.extend(node.all_of.iter().rev());
            s.alternatives.extend(node.any_of.iter().chain(&node.one_of));
        }
        s
    }

    /// Columns of an object shape; `None` when it declares no properties (a free-form object).
    fn object_columns(&mut self, shape: &Shape, object: NodeId) -> Result<Option<Vec<Column>>> {
        if shape.properties.is_empty() {
            return Ok(None);
        }
        let mut cols: Vec<Column> = Vec::with_capacity(shape.properties.len());
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (name, id) in &shape.properties {
            let lower = identifier(name);
            if lower.is_empty() {
                return Err(self.unmappable(
                    &format!("{}/properties", self.schema.node(object).pointer),
                    &format!("field name {name:?} has no letter or digit to name a column after"),
                ));
            }
            if let Some(first) = seen.insert(lower.clone(), name.clone()) {
                return Err(Error::ColumnCollision {
                    file: self.schema.source_of(object).into(),
                    column: lower,
                    names: format!("{first:?} and {name:?} at {}/properties", self.schema.node(object).pointer),
                });
            }
            let (ty, nullable_type, mut description) = self.column_type(*id)?;
            if lower != name.to_lowercase() {
                // The original name stays visible where the column is documented.
                description = Some(match description {
                    Some(d) => format!("JSON field {name:?}. {d}"),
                    None => format!("JSON field {name:?}"),
                });
            }
            let nullable = nullable_type || !shape.required.contains(name);
            cols.push(Column { name: lower, source_name: name.clone(), ty, nullable, description });
        }
        Ok(Some(cols))
    }

    /// The storage type of node `id` and whether its type admits `null`.
    fn column_type(&mut self, id: NodeId) -> Result<(ColumnType, bool, Option<String>)> {
        if self.stack.contains(&id) {
            // A recursive structure has no fixed columnar shape.
            return Ok((ColumnType::JsonText, true, None));
        }
        self.stack.push(id);
        let out = self.column_type_inner(id);
        self.stack.pop();
        out
    }

    fn column_type_inner(&mut self, id: NodeId) -> Result<(ColumnType, bool, Option<String>)> {
        let shape = self.shape(id);
        let description = shape.description.clone();
        if !shape.alternatives.is_empty() && shape.types == ty::ANY {
            return self.alternatives_type(&shape.alternatives, description);
        }
        let mut types = shape.types;
        if types == ty::ANY {
            types = inferred_types(&shape);
        }
        let nullable = types & ty::NULL != 0;
        let ty = match types & !ty::NULL {
            ty::STRING => match shape.format {
                Some(Format::DateTime) => ColumnType::Timestamp,
                Some(Format::Date) => ColumnType::Date,
                _ => ColumnType::Utf8,
            },
            ty::INTEGER => ColumnType::Int64,
            t if t == ty::NUMBER || t == ty::NUMBER | ty::INTEGER => ColumnType::Float64,
            ty::BOOLEAN => ColumnType::Boolean,
            ty::OBJECT => match self.object_columns(&shape, id)? {
                Some(cols) => ColumnType::Struct(cols),
                None => self.map_type(&shape)?,
            },
            ty::ARRAY => match shape.items {
                Some(item) => {
                    let (item_ty, _, _) = self.column_type(item)?;
                    ColumnType::List(Box::new(item_ty))
                }
                None => ColumnType::JsonText,
            },
            0 => return Ok((ColumnType::Utf8, true, description)),
            _ => ColumnType::JsonText,
        };
        Ok((ty, nullable, description))
    }

    /// An object without `properties`: a map when every member schema stores as one type.
    fn map_type(&mut self, shape: &Shape) -> Result<ColumnType> {
        if shape.open_members || shape.member_schemas.is_empty() {
            return Ok(ColumnType::JsonText);
        }
        let mut value: Option<ColumnType> = None;
        for &sub in &shape.member_schemas {
            let (t, _, _) = self.column_type(sub)?;
            match &value {
                None => value = Some(t),
                Some(prev) if *prev == t => {}
                Some(_) => return Ok(ColumnType::JsonText),
            }
        }
        Ok(value.map_or(ColumnType::JsonText, |v| ColumnType::Map(Box::new(v))))
    }

    /// `anyOf`/`oneOf`: one storage type if every alternative maps to it (or is `null`).
    fn alternatives_type(
        &mut self,
        alternatives: &[NodeId],
        description: Option<String>,
    ) -> Result<(ColumnType, bool, Option<String>)> {
        let mut found: Option<ColumnType> = None;
        let mut nullable = false;
        for &alt in alternatives {
            let node = self.schema.node(alt);
            if node.has_type && node.types == ty::NULL {
                nullable = true;
                continue;
            }
            let (t, n, _) = self.column_type(alt)?;
            nullable |= n;
            match &found {
                None => found = Some(t),
                Some(prev) if *prev == t => {}
                Some(_) => return Ok((ColumnType::JsonText, true, description)),
            }
        }
        let none = found.is_none();
        Ok((found.unwrap_or(ColumnType::Utf8), nullable || none, description))
    }
}

/// Types implied by `const`/`enum` or `properties`/`items` when there is no `type` keyword.
fn inferred_types(shape: &Shape) -> u8 {
    if shape.unconstrained {
        return ty::ANY;
    }
    if !shape.properties.is_empty() || !shape.member_schemas.is_empty() {
        return ty::OBJECT;
    }
    if shape.items.is_some() {
        return ty::ARRAY;
    }
    if shape.constants.is_empty() {
        return ty::ANY;
    }
    shape.constants.iter().fold(0u8, |acc, c| {
        acc | match c {
            J::Null => ty::NULL,
            J::Bool(_) => ty::BOOLEAN,
            J::Number(n) if n.is_i64() => ty::INTEGER,
            J::Number(_) => ty::NUMBER,
            J::String(_) => ty::STRING,
            J::Array(_) => ty::ARRAY,
            J::Object(_) => ty::OBJECT,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::CompileOptions;
    use serde_json::json;

    fn columns(doc: J) -> Vec<Column> {
        let s = Schema::compile(&doc, "t.json", &CompileOptions::default()).unwrap();
        root_columns(&s).unwrap()
    }

    /// The golden mapping table: JSON Schema property → (Arrow type, Athena type, nullable).
    #[test]
    fn golden_type_mapping() {
        let cols = columns(json!({
            "type": "object",
            "required": ["s", "ts", "d", "i", "n", "b", "o", "a", "free", "ni"],
            "properties": {
                "s": {"type": "string"},
                "ts": {"type": "string", "format": "date-time"},
                "d": {"type": "string", "format": "date"},
                "i": {"type": "integer"},
                "n": {"type": "number"},
                "b": {"type": "boolean"},
                "o": {"type": "object", "required": ["X"], "properties": {"X": {"type": "integer"}, "y": {"type": "string"}}},
                "a": {"type": "array", "items": {"type": "string"}},
                "free": {"type": "object"},
                "ni": {"type": ["integer", "null"]},
                "opt": {"type": "string"},
                "mixed": {"type": ["string", "integer"]},
                "e": {"enum": ["a", "b"]},
                "alt": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                "uuid": {"type": "string", "format": "uuid"}
            }
        }));
        let got: Vec<String> = cols
            .iter()
            .map(|c| {
                format!(
                    "{} {} {} {}",
                    c.name,
                    c.ty.arrow(),
                    c.ty.athena(),
                    if c.nullable { "null" } else { "not null" }
                )
            })
            .collect();
        let want = [
            "s Utf8 string not null",
            "ts Timestamp(µs, \"UTC\") timestamp not null",
            "d Date32 date not null",
            "i Int64 bigint not null",
            "n Float64 double not null",
            "b Boolean boolean not null",
            "o Struct(\"x\": non-null Int64, \"y\": Utf8) struct<x:bigint,y:string> not null",
            "a List(Utf8) array<string> not null",
            "free Utf8 string not null",
            "ni Int64 bigint null",
            "opt Utf8 string null",
            "mixed Utf8 string null",
            "e Utf8 string null",
            "alt Float64 double null",
            "uuid Utf8 string null",
        ];
        assert_eq!(got, want);
        let kinds: Vec<&ColumnType> = cols.iter().map(|c| &c.ty).collect();
        assert_eq!(kinds[8], &ColumnType::JsonText);
        assert_eq!(kinds[11], &ColumnType::JsonText);
    }

    /// Objects whose members all share one schema are maps; when the member schemas differ, or any
    /// member may be anything, they stay JSON text.
    #[test]
    fn member_schemas_map_to_maps() {
        let cols = columns(json!({
            "type": "object",
            "properties": {
                "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                "scores": {"type": "object", "patternProperties": {"^s_": {"type": "integer"}}, "additionalProperties": false},
                "both": {"patternProperties": {"^n_": {"type": "number"}}, "additionalProperties": {"type": "number"}},
                "nested": {"type": "object", "additionalProperties": {"type": "object", "properties": {"x": {"type": "boolean"}}}},
                "mixed": {"type": "object", "patternProperties": {"^i_": {"type": "integer"}}, "additionalProperties": {"type": "string"}},
                "open": {"type": "object", "patternProperties": {"^i_": {"type": "integer"}}, "additionalProperties": true}
            }
        }));
        let athena: Vec<String> = cols.iter().map(|c| format!("{} {}", c.name, c.ty.athena())).collect();
        assert_eq!(
            athena,
            [
                "tags map<string,string>",
                "scores map<string,bigint>",
                "both map<string,double>",
                "nested map<string,struct<x:boolean>>",
                "mixed string",
                "open string"
            ]
        );
        assert_eq!(cols[4].ty, ColumnType::JsonText);
        assert_eq!(
            cols[0].ty.arrow().to_string(),
            r#"Map("key_value": non-null Struct("key": non-null Utf8, "value": Utf8), unsorted)"#
        );
    }

    #[test]
    fn names_become_lower_snake_case_identifiers() {
        for (name, id) in [
            ("Page Name", "page_name"),
            ("segment_tracks.event_name", "segment_tracks_event_name"),
            ("Signup Started", "signup_started"),
            ("  a -- b  ", "a_b"),
            ("__v", "__v"),
            ("UserID", "userid"),
            ("naïve", "na_ve"),
            ("!!", ""),
        ] {
            assert_eq!(identifier(name), id, "{name:?}");
        }
        let cols = columns(
            json!({"properties": {"Page Name": {"type": "string", "description": "Where."}, "UserID": {"type": "string"}}}),
        );
        assert_eq!((cols[0].name.as_str(), cols[0].source_name.as_str()), ("page_name", "Page Name"));
        assert_eq!(cols[0].description.as_deref(), Some(r#"JSON field "Page Name". Where."#));
        assert_eq!(cols[1].description, None, "only a change of case: no note");
        let doc = json!({"properties": {"page name": {"type": "string"}, "page.name": {"type": "string"}}});
        let s = Schema::compile(&doc, "p.json", &CompileOptions::default()).unwrap();
        let err = root_columns(&s).unwrap_err().to_string();
        assert!(err.contains("\"page_name\"") && err.contains("page name") && err.contains("page.name"), "{err}");
    }

    #[test]
    fn lower_case_collisions_fail() {
        let doc = json!({"type": "object", "properties": {"URL": {"type": "string"}, "Url": {"type": "string"}}});
        let s = Schema::compile(&doc, "c.json", &CompileOptions::default()).unwrap();
        let err = root_columns(&s).unwrap_err().to_string();
        assert!(err.contains("c.json") && err.contains("\"url\""), "{err}");
    }

    #[test]
    fn refs_and_all_of_merge() {
        let cols = columns(json!({
            "$defs": {"money": {"type": "object", "properties": {"amount": {"type": "number"}}}},
            "type": "object",
            "properties": {"price": {"$ref": "#/$defs/money"}, "both": {"allOf": [{"type": "integer"}, {"minimum": 1}]}}
        }));
        assert_eq!(cols[0].ty.athena(), "struct<amount:double>");
        assert_eq!(cols[1].ty, ColumnType::Int64);
    }
}
