//! The schema registry: a folder of event schemas, one per event name, grouped into one table per
//! event type.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::{Field, Schema as ArrowSchema, SchemaRef};
use serde_json::Value as J;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::event_time::TimeFormat;
use crate::resources::{DocId, Resources};
use crate::schema::{CompileOptions, Schema};
use crate::types::{Column, ColumnType, identifier, root_columns};

/// Where a record keeps its envelope: id, event name and creation time. Each field is a member
/// name (`segment_tracks.event_name` and `Page Name` are names, not paths) or, starting with `/`,
/// a JSON pointer into nested objects (`/context/event_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The event id (default `event_uuid`).
    pub id: String,
    /// The event name, `type:subtype[:...]` (default `event_name`); unused for an entity table.
    pub name: String,
    /// Creation time (default `created_at`), spelled as `time` says; `None`: the records carry no
    /// time and the start of their arrival hour stands for it.
    pub created_at: Option<String>,
    /// How `created_at` spells the time (default Unix seconds, integer or float).
    pub time: TimeFormat,
    /// The events carry no id: column [`Envelope::DERIVED_ID`] holds the SHA-256 of the canonical
    /// record ([`crate::json::Value::write_canonical`]), so exact re-deliveries share an id.
    pub content_id: bool,
}

impl Envelope {
    /// The column of an id eventlake derives: a content id, or an id read through a JSON pointer.
    pub const DERIVED_ID: &'static str = "event_id";

    /// The envelope fields a record must carry (the id only when it is not derived from content;
    /// the name only when records name their event).
    pub fn record_fields(&self, entity: bool) -> Vec<&str> {
        let mut fields = Vec::with_capacity(3);
        if !self.content_id {
            fields.push(self.id.as_str());
        }
        if !entity {
            fields.push(self.name.as_str());
        }
        fields.extend(self.created_at.as_deref());
        fields
    }

    /// Whether the id column is derived (content id or a pointer into a nested object).
    pub fn derives_id(&self) -> bool {
        self.content_id || is_pointer(&self.id)
    }

    /// The column holding the event id.
    pub fn id_column(&self) -> String {
        if self.derives_id() { Self::DERIVED_ID.to_owned() } else { identifier(&self.id) }
    }
}

impl Default for Envelope {
    fn default() -> Self {
        Envelope {
            id: "event_uuid".into(),
            name: "event_name".into(),
            created_at: Some("created_at".into()),
            time: TimeFormat::default(),
            content_id: false,
        }
    }
}

/// Whether an envelope field is a JSON pointer rather than a member name.
pub fn is_pointer(field: &str) -> bool {
    field.starts_with('/')
}

/// The unescaped reference tokens of a JSON pointer (`~1` is `/`, `~0` is `~`).
pub fn pointer_tokens(pointer: &str) -> impl Iterator<Item = String> + '_ {
    pointer.split('/').skip(1).map(|t| t.replace("~1", "/").replace("~0", "~"))
}

/// An entity table: a source whose records are rows of one table and carry no event name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTable {
    /// The table's name (an identifier: lower snake case).
    pub table: String,
    /// The schema file, relative to the registry folder.
    pub file: String,
}

/// How a registry is loaded.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    pub compile: CompileOptions,
    pub envelope: Envelope,
    /// Records are rows of this one table, not named events.
    pub entity: Option<EntityTable>,
}

/// Columns eventlake derives for every event.
pub mod derived {
    /// First `:` segment of the event name.
    pub const EVENT_TYPE: &str = "event_type";
    /// Second segment, null when the name has none.
    pub const EVENT_SUBTYPE: &str = "event_subtype";
    /// `created_at` as a UTC timestamp.
    pub const CREATED_DATETIME: &str = "created_datetime";
    /// Silver lineage: the arrival hour whose run wrote the row.
    pub const ARRIVAL_HOUR: &str = "arrival_hour";
    /// Silver lineage: the bronze object the record came from.
    pub const SOURCE_KEY: &str = "source_key";
    /// Silver lineage: the record's line in that object.
    pub const SOURCE_LINE: &str = "source_line";
    /// Every name the contract reserves; a property with one of these names is a load error.
    pub const ALL: &[&str] = &[EVENT_TYPE, EVENT_SUBTYPE, CREATED_DATETIME, ARRIVAL_HOUR, SOURCE_KEY, SOURCE_LINE];
}

/// One event name's schema.
#[derive(Debug)]
pub struct EventSchema {
    /// e.g. `payment:order:completed`.
    pub name: String,
    /// e.g. `payment`: the first segment of the name as an identifier (`Signup Started` →
    /// `signup_started`), which names its table.
    pub event_type: String,
    /// e.g. `order`; `None` for a one-segment name.
    pub event_subtype: Option<String>,
    /// The file it came from, relative to the registry folder.
    pub file: String,
    pub schema: Schema,
    /// The event's own columns (envelope and properties), in declaration order.
    pub columns: Vec<Column>,
}

/// The table of one event type: the union of its event names' columns.
#[derive(Debug)]
pub struct EventTable {
    pub event_type: String,
    /// Envelope, derived columns, then every property of every event name of this type.
    pub columns: Vec<Column>,
    /// Event names of this type, sorted.
    pub event_names: Vec<String>,
    arrow: SchemaRef,
}

impl EventTable {
    /// The Arrow schema of the table's data columns.
    pub fn arrow_schema(&self) -> SchemaRef {
        self.arrow.clone()
    }

    /// Index of column `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Silver's columns: the table's columns, then the lineage columns.
    pub fn silver_columns(&self) -> Vec<Column> {
        let mut cols = self.columns.clone();
        let lineage = [
            (derived::ARRIVAL_HOUR, ColumnType::Timestamp, "Start of the bronze arrival hour whose run wrote the row"),
            (derived::SOURCE_KEY, ColumnType::Utf8, "Bronze object key the record came from"),
            (derived::SOURCE_LINE, ColumnType::Int64, "1-based line of the record in that object"),
        ];
        for (name, ty, doc) in lineage {
            cols.push(Column {
                name: name.into(),
                source_name: name.into(),
                ty,
                nullable: false,
                description: Some(doc.into()),
            });
        }
        cols
    }

    /// The Arrow schema of [`EventTable::silver_columns`].
    pub fn silver_arrow_schema(&self) -> SchemaRef {
        Arc::new(ArrowSchema::new(self.silver_columns().iter().map(Column::arrow_field).collect::<Vec<Field>>()))
    }
}

/// Splits an event name into event type and subtype.
pub fn split_event_name(name: &str) -> (&str, Option<&str>) {
    let mut parts = name.splitn(3, ':');
    let event_type = parts.next().unwrap_or(name);
    (event_type, parts.next())
}

/// A loaded, consistent set of event schemas.
#[derive(Debug)]
pub struct Registry {
    events: BTreeMap<String, Arc<EventSchema>>,
    tables: BTreeMap<String, Arc<EventTable>>,
    options: RegistryOptions,
    fingerprint: String,
}

impl Registry {
    /// Loads every `*.json` under `dir`, recursively.
    pub fn load_dir(dir: &Path, options: &RegistryOptions) -> Result<Registry> {
        let mut files = Vec::new();
        collect_json_files(dir, &mut files)?;
        files.sort();
        if files.is_empty() {
            return Err(Error::EmptyRegistry { path: dir.to_owned() });
        }
        let mut docs = Vec::with_capacity(files.len());
        for path in &files {
            let bytes = std::fs::read(path).map_err(|cause| Error::Io { path: path.clone(), cause })?;
            let doc: J = serde_json::from_slice(&bytes).map_err(|cause| Error::Json { path: path.clone(), cause })?;
            let rel = path.strip_prefix(dir).unwrap_or(path).to_string_lossy().replace('\\', "/");
            docs.push((rel, bytes, doc));
        }
        Registry::from_documents(docs, options)
    }

    /// Builds a registry from `(file name, raw bytes, parsed document)` triples.
    pub fn from_documents(docs: Vec<(String, Vec<u8>, J)>, options: &RegistryOptions) -> Result<Registry> {
        let env = &options.envelope;
        let mut hasher = Sha256::new();
        hasher.update(format!(
            "eventlake-registry-v1\0{}\0{}\0{}\0{}\0",
            options.compile.allow_undeclared_fields,
            env.id,
            env.name,
            env.created_at.as_deref().unwrap_or("")
        ));
        // Hashed only when not the default, so registries that predate time formats keep theirs.
        if env.time != TimeFormat::default() {
            hasher.update(format!("time={}\0", env.time));
        }
        if env.content_id {
            hasher.update("content-id\0");
        }
        if env.created_at.is_none() {
            hasher.update("arrival-time\0");
        }
        if let Some(entity) = &options.entity {
            hasher.update(format!("entity={}\0{}\0", entity.table, entity.file));
        }
        // Every file is a document `$ref` can reach; those that name an event (or the entity's
        // file) are event schemas, the others must be referenced by one (shared definitions).
        let mut resources = Resources::new();
        let mut files = Vec::with_capacity(docs.len());
        for (file, bytes, doc) in docs {
            hasher.update(file.as_bytes());
            hasher.update([0]);
            hasher.update(&bytes);
            hasher.update([0]);
            let names_event = match &options.entity {
                Some(entity) => entity.file == file,
                None => event_name(&doc, env).is_some(),
            };
            let id = resources.add(&file, doc)?;
            files.push((file, id, names_event));
        }
        if let Some(entity) = &options.entity
            && !files.iter().any(|(_, _, names_event)| *names_event)
        {
            return Err(Error::MissingEntitySchema { file: entity.file.clone(), table: entity.table.clone() });
        }
        let mut events: BTreeMap<String, Arc<EventSchema>> = BTreeMap::new();
        let mut referenced = BTreeSet::new();
        for (file, id, _) in files.iter().filter(|(_, _, names_event)| *names_event) {
            let event = compile_event(file, *id, &mut resources, options)?;
            referenced.extend(event.schema.documents());
            if let Some(prev) = events.get(&event.name) {
                return Err(Error::DuplicateEventName {
                    name: event.name.clone(),
                    first: prev.file.clone(),
                    second: event.file.clone(),
                });
            }
            events.insert(event.name.clone(), Arc::new(event));
        }
        // An entity's folder may hold other entities' schemas; an event folder holds only events
        // and what they share.
        if options.entity.is_none()
            && let Some((file, _, _)) =
                files.iter().find(|(_, id, names_event)| !names_event && !referenced.contains(id))
        {
            return Err(Error::MissingEventName { file: file.clone(), field: env.name.clone() });
        }
        let tables = build_tables(&events, options)?;
        let fingerprint = format!("sha256:{:x}", hasher.finalize());
        Ok(Registry { events, tables, options: options.clone(), fingerprint })
    }

    /// The schema for an event name.
    pub fn event(&self, name: &str) -> Option<&Arc<EventSchema>> {
        self.events.get(name)
    }

    /// Every event schema, by name.
    pub fn events(&self) -> impl Iterator<Item = &Arc<EventSchema>> {
        self.events.values()
    }

    /// The table of an event type.
    pub fn table(&self, event_type: &str) -> Option<&Arc<EventTable>> {
        self.tables.get(event_type)
    }

    /// Every table, by event type.
    pub fn tables(&self) -> impl Iterator<Item = &Arc<EventTable>> {
        self.tables.values()
    }

    pub fn options(&self) -> &RegistryOptions {
        &self.options
    }

    /// Hash of every schema file and the options: equal fingerprints validate identically.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

fn collect_json_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|cause| Error::Io { path: dir.to_owned(), cause })?;
    for entry in entries {
        let entry = entry.map_err(|cause| Error::Io { path: dir.to_owned(), cause })?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|cause| Error::Io { path: path.clone(), cause })?;
        if file_type.is_dir() {
            collect_json_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// The event name a schema document declares (`properties.<name field>.const`).
fn event_name<'d>(doc: &'d J, env: &Envelope) -> Option<&'d str> {
    doc.get("properties").and_then(|p| p.get(&env.name)).and_then(|p| p.get("const")).and_then(J::as_str)
}

/// The column an envelope field names: a root column by its property name, or the struct field a
/// JSON pointer leads to.
fn column_at<'c>(columns: &'c [Column], field: &str) -> Option<&'c Column> {
    if !is_pointer(field) {
        return columns.iter().find(|c| c.source_name == field);
    }
    let mut level = columns;
    let mut found = None;
    for token in pointer_tokens(field) {
        let col = level.iter().find(|c| c.source_name == token)?;
        level = match &col.ty {
            ColumnType::Struct(fields) => fields,
            _ => &[],
        };
        found = Some(col);
    }
    found
}

fn compile_event(file: &str, doc: DocId, resources: &mut Resources, options: &RegistryOptions) -> Result<EventSchema> {
    let env = &options.envelope;
    let schema = Schema::compile_in(resources, doc, &options.compile)?;
    let name = match &options.entity {
        Some(entity) => entity.table.clone(),
        None => event_name(schema.document(), env)
            .ok_or_else(|| Error::MissingEventName { file: file.into(), field: env.name.clone() })?
            .to_owned(),
    };
    let columns = root_columns(&schema)?;
    if env.derives_id()
        && let Some(col) = columns.iter().find(|c| c.name == Envelope::DERIVED_ID)
    {
        return Err(Error::Unmappable {
            file: file.into(),
            pointer: format!("/properties/{}", col.source_name),
            reason: format!("{:?} is the event id eventlake derives; rename the property", col.name),
        });
    }
    for field in env.record_fields(options.entity.is_some()) {
        let is_time = env.created_at.as_deref() == Some(field);
        let json_pointer = if is_pointer(field) {
            field.to_owned()
        } else {
            let mut p = String::from("/");
            crate::json::push_pointer_token(&mut p, field);
            p
        };
        let Some(col) = column_at(&columns, field) else {
            return Err(Error::Unmappable {
                file: file.into(),
                pointer: "/properties".into(),
                reason: format!("envelope field {field:?} is not declared"),
            });
        };
        // Ids may be integers (entity exports number their rows); names are text.
        let ok = if is_time {
            env.time.fits(&col.ty)
        } else if field == env.id {
            matches!(col.ty, ColumnType::Utf8 | ColumnType::Int64)
        } else {
            col.ty == ColumnType::Utf8
        };
        if !ok {
            let want = if is_time {
                env.time.describe()
            } else if field == env.id {
                "a string or an integer".into()
            } else {
                "a string".into()
            };
            return Err(Error::Unmappable {
                file: file.into(),
                pointer: format!("/properties{json_pointer}"),
                reason: format!("envelope field {field:?} must be {want}"),
            });
        }
    }
    if let Some(col) = columns.iter().find(|c| derived::ALL.contains(&c.name.as_str())) {
        return Err(Error::Unmappable {
            file: file.into(),
            pointer: format!("/properties/{}", col.source_name),
            reason: format!("{:?} is a column eventlake derives; rename the property", col.name),
        });
    }
    let (event_type, event_subtype) = split_event_name(&name);
    let table = identifier(event_type);
    if table.is_empty() {
        return Err(Error::Unmappable {
            file: file.into(),
            pointer: if options.entity.is_some() { String::new() } else { format!("/properties/{}/const", env.name) },
            reason: format!("table {event_type:?} has no letter or digit to name a table after"),
        });
    }
    Ok(EventSchema {
        event_type: table,
        event_subtype: event_subtype.map(str::to_owned),
        name: name.clone(),
        file: file.into(),
        schema,
        columns,
    })
}

fn build_tables(
    events: &BTreeMap<String, Arc<EventSchema>>,
    options: &RegistryOptions,
) -> Result<BTreeMap<String, Arc<EventTable>>> {
    let env = &options.envelope;
    // Root members that are envelope fields lead the table, in this order.
    let envelope_fields: Vec<&str> =
        env.record_fields(options.entity.is_some()).into_iter().filter(|f| !is_pointer(f)).collect();
    let mut by_type: BTreeMap<&str, Vec<&Arc<EventSchema>>> = BTreeMap::new();
    for e in events.values() {
        let members = by_type.entry(&e.event_type).or_default();
        // `Signup Started` and `signup_started` would silently share one table.
        let raw = |e: &EventSchema| split_event_name(&e.name).0.to_owned();
        if let Some(other) = members.iter().find(|o| raw(o) != raw(e)) {
            return Err(Error::TableCollision {
                table: e.event_type.clone(),
                first_type: raw(other),
                first: other.file.clone(),
                second_type: raw(e),
                second: e.file.clone(),
            });
        }
        members.push(e);
    }
    let mut tables = BTreeMap::new();
    for (event_type, members) in by_type {
        // (column, file that introduced it, number of event names that have it)
        let mut merged: Vec<(Column, &str, usize)> = Vec::new();
        for e in &members {
            for col in &e.columns {
                match merged.iter_mut().find(|(c, _, _)| c.name == col.name) {
                    None => merged.push((col.clone(), &e.file, 1)),
                    Some((c, first, n)) => {
                        if c.ty != col.ty {
                            return Err(Error::ConflictingColumn {
                                event_type: event_type.into(),
                                column: col.name.clone(),
                                first: (*first).into(),
                                first_type: c.ty.athena(),
                                second: e.file.clone(),
                                second_type: col.ty.athena(),
                            });
                        }
                        c.nullable |= col.nullable;
                        if c.description.is_none() {
                            c.description.clone_from(&col.description);
                        }
                        *n += 1;
                    }
                }
            }
        }
        let total = members.len();
        let mut envelope_cols = Vec::new();
        let mut property_cols = Vec::new();
        for (mut col, _, n) in merged {
            col.nullable |= n < total;
            if envelope_fields.contains(&col.source_name.as_str()) {
                envelope_cols.push(col);
            } else {
                property_cols.push(col);
            }
        }
        envelope_cols.sort_by_key(|c| envelope_fields.iter().position(|f| *f == c.source_name));
        if env.derives_id() {
            let description = if env.content_id {
                "Content id: SHA-256 of the canonical record (sorted keys, no whitespace); the events carry no id"
                    .into()
            } else {
                format!("The event id, read from {}", env.id)
            };
            envelope_cols.insert(
                0,
                Column {
                    name: Envelope::DERIVED_ID.into(),
                    source_name: Envelope::DERIVED_ID.into(),
                    ty: ColumnType::Utf8,
                    nullable: false,
                    description: Some(description),
                },
            );
        }
        let mut columns = envelope_cols;
        columns.push(Column {
            name: derived::EVENT_TYPE.into(),
            source_name: derived::EVENT_TYPE.into(),
            ty: ColumnType::Utf8,
            nullable: false,
            description: Some("First segment of the event name".into()),
        });
        columns.push(Column {
            name: derived::EVENT_SUBTYPE.into(),
            source_name: derived::EVENT_SUBTYPE.into(),
            ty: ColumnType::Utf8,
            nullable: true,
            description: Some("Second segment of the event name, null if none".into()),
        });
        columns.push(Column {
            name: derived::CREATED_DATETIME.into(),
            source_name: derived::CREATED_DATETIME.into(),
            ty: ColumnType::Timestamp,
            nullable: false,
            description: Some(match &env.created_at {
                Some(field) => format!("{field} as a UTC timestamp"),
                None => "Start of the arrival hour (the records carry no time)".into(),
            }),
        });
        columns.extend(property_cols);
        let arrow = Arc::new(ArrowSchema::new(columns.iter().map(Column::arrow_field).collect::<Vec<Field>>()));
        let event_names = members.iter().map(|e| e.name.clone()).collect();
        tables.insert(
            event_type.to_owned(),
            Arc::new(EventTable { event_type: event_type.to_owned(), columns, event_names, arrow }),
        );
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(name: &str, props: J) -> J {
        let mut p = json!({
            "event_uuid": {"type": "string"},
            "event_name": {"type": "string", "const": name},
            "created_at": {"type": "number"}
        });
        if let (Some(p), J::Object(extra)) = (p.as_object_mut(), props) {
            p.extend(extra);
        }
        json!({"type": "object", "required": ["event_uuid", "event_name", "created_at"], "properties": p})
    }

    fn load(docs: Vec<(&str, J)>) -> Result<Registry> {
        let docs = docs.into_iter().map(|(f, d)| (f.to_owned(), d.to_string().into_bytes(), d)).collect();
        Registry::from_documents(docs, &RegistryOptions::default())
    }

    #[test]
    fn tables_union_event_names_of_a_type() {
        let r = load(vec![
            ("a.json", event("payment:order:completed", json!({"amount": {"type": "number"}}))),
            ("b.json", event("payment:refund", json!({"amount": {"type": "number"}, "reason": {"type": "string"}}))),
            ("c.json", event("account:created", json!({}))),
        ])
        .unwrap();
        let t = r.table("payment").unwrap();
        let names: Vec<_> =
            t.columns.iter().map(|c| format!("{}{}", c.name, if c.nullable { "?" } else { "" })).collect();
        assert_eq!(
            names,
            [
                "event_uuid",
                "event_name",
                "created_at",
                "event_type",
                "event_subtype?",
                "created_datetime",
                "amount?",
                "reason?"
            ]
        );
        assert_eq!(t.event_names, ["payment:order:completed", "payment:refund"]);
        assert_eq!(split_event_name("payment:order:completed"), ("payment", Some("order")));
        assert_eq!(split_event_name("signup"), ("signup", None));
        assert!(r.fingerprint().starts_with("sha256:"));
    }

    #[test]
    fn load_errors_name_the_files() {
        let err = load(vec![("a.json", event("x:y", json!({}))), ("b.json", event("x:y", json!({})))]).unwrap_err();
        assert_eq!(err.to_string(), "event name \"x:y\" is claimed by both a.json and b.json");
        let err = load(vec![
            ("a.json", event("x:y", json!({"n": {"type": "integer"}}))),
            ("b.json", event("x:z", json!({"n": {"type": "string"}}))),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("a.json") && err.contains("b.json") && err.contains("bigint"), "{err}");
        let err = load(vec![("n.json", json!({"type": "object", "properties": {}}))]).unwrap_err();
        assert!(err.to_string().starts_with("n.json: no `properties.event_name.const`"));
        let err = load(vec![("d.json", event("x:y", json!({"event_type": {"type": "string"}})))]).unwrap_err();
        assert!(err.to_string().contains("derives"), "{err}");
        let err = load(vec![
            ("a.json", event("Signup Started", json!({}))),
            ("b.json", event("signup_started:x", json!({}))),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("\"Signup Started\" (a.json)") && err.contains("b.json") && err.contains("signup_started"),
            "{err}"
        );
        let spaced = load(vec![("a.json", event("Signup Started", json!({"Page Name": {"type": "string"}})))]).unwrap();
        let table = spaced.table("signup_started").unwrap();
        assert_eq!(table.event_names, ["Signup Started"]);
        assert!(table.column_index("page_name").is_some());
        let err = load(vec![("a.json", event("x:y", json!({"m": {"$ref": "https://acme.com/money"}})))]).unwrap_err();
        assert!(err.to_string().contains("never fetched"), "{err}");
    }

    /// Files without an event name are shared definitions when an event schema `$ref`s them, by
    /// relative path or by `$id`; their column types follow the definitions.
    #[test]
    fn shared_definitions_are_referenced_by_path_or_id() {
        let money = json!({
            "$id": "https://schemas.acme.com/common/money.json",
            "type": "object",
            "properties": {"amount": {"type": "integer"}, "currency": {"$ref": "#/$defs/currency"}},
            "$defs": {"currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}
        });
        let address = json!({"type": "object", "properties": {"city": {"type": "string"}}});
        let r = load(vec![
            ("common/address.json", address),
            ("common/money.json", money),
            (
                "payment/order.json",
                event(
                    "payment:order",
                    json!({
                        "price": {"$ref": "../common/money.json"},
                        "fee": {"$ref": "https://schemas.acme.com/common/money.json"},
                        "ship_to": {"$ref": "../common/address.json"}
                    }),
                ),
            ),
        ])
        .unwrap();
        let t = r.table("payment").unwrap();
        let price = &t.columns[t.column_index("price").unwrap()];
        assert_eq!(price.ty.athena(), "struct<amount:bigint,currency:string>");
        assert_eq!(t.columns[t.column_index("fee").unwrap()].ty, price.ty);
        let schema = &r.event("payment:order").unwrap().schema;
        let mut tape = crate::json::Tape::default();
        let bad = tape
            .parse(br#"{"event_uuid": "u", "event_name": "payment:order", "created_at": 1, "fee": {"amount": 1, "currency": "eur"}}"#)
            .unwrap();
        let errors = schema.validate(bad);
        assert_eq!(errors[0].pointer, "/fee/currency", "{errors:?}");
        let err =
            load(vec![("a.json", event("x:y", json!({}))), ("unused.json", json!({"type": "string"}))]).unwrap_err();
        assert!(err.to_string().starts_with("unused.json: no `properties.event_name.const`"), "{err}");
    }

    /// Envelope fields may be JSON pointers into nested objects: the id is then stored in the
    /// derived `event_id` column, and a pointer to nothing fails the load naming it.
    #[test]
    fn envelope_fields_by_json_pointer() {
        use crate::accept::{Acceptor, Lineage, RowSink, TableLayout};
        use crate::records::{Position, Record};
        use crate::rows::RowsBuilder;

        struct Sink(Option<RowsBuilder>);
        impl RowSink for Sink {
            fn rows_for(&mut self, layout: &Arc<TableLayout>, _: i64) -> &mut RowsBuilder {
                self.0.get_or_insert_with(|| layout.rows())
            }
        }
        let schema = json!({
            "type": "object",
            "properties": {
                "context": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "event": {"type": "string", "const": "page:view"}, "ts": {"type": "string"}
                }},
                "page": {"type": "string"}
            }
        });
        let options = RegistryOptions {
            envelope: Envelope {
                id: "/context/id".into(),
                name: "context".into(),
                created_at: Some("/context/ts".into()),
                time: TimeFormat::Rfc3339,
                content_id: false,
            },
            ..RegistryOptions::default()
        };
        let docs = |s: &J| vec![("p.json".to_owned(), s.to_string().into_bytes(), s.clone())];
        // The event name is read from the schema's `properties.<name>.const`, so it stays a member.
        let err = Registry::from_documents(docs(&schema), &options).unwrap_err().to_string();
        assert!(err.contains("properties.context.const"), "{err}");
        let mut flat = schema.clone();
        flat["properties"]["event_name"] = json!({"type": "string", "const": "page:view"});
        let options =
            RegistryOptions { envelope: Envelope { name: "event_name".into(), ..options.envelope }, ..options };
        let registry = Arc::new(Registry::from_documents(docs(&flat), &options).unwrap());
        let table = registry.table("page").unwrap();
        assert_eq!(table.columns[0].name, "event_id", "a pointed id is a derived column");
        let acceptor = Acceptor::new(registry.clone());
        let mut tape = crate::json::Tape::default();
        let raw = br#"{"event_name": "page:view", "context": {"id": 42, "ts": "2026-11-20T05:00:00Z"}, "page": "/"}"#;
        let value = tape.parse(raw).unwrap();
        let record = Record::Parsed { value, raw, at: Position { line: 1, offset: 0 } };
        let mut sink = Sink(None);
        let lineage = Lineage { arrival: 0, source_key: "k", line: 1 };
        let accepted = acceptor.accept(&record, None, lineage, &mut sink).unwrap();
        assert_eq!(accepted.created_micros, 1_795_150_800_000_000);
        let batch = sink.0.unwrap().finish().unwrap();
        let ids = batch.column(0).as_any().downcast_ref::<arrow_array::StringArray>().unwrap();
        assert_eq!(ids.value(0), "42");
        let missing = br#"{"event_name": "page:view", "context": {"id": 42}, "page": "/"}"#;
        let value = tape.parse(missing).unwrap();
        let record = Record::Parsed { value, raw: missing, at: Position { line: 1, offset: 0 } };
        let rejected = acceptor.accept(&record, None, lineage, &mut Sink(None)).unwrap_err();
        assert_eq!((rejected.reason, rejected.pointer.as_str()), (crate::Reason::BadEnvelope, "/context/ts"));
        let nowhere = Registry::from_documents(
            docs(&flat),
            &RegistryOptions {
                envelope: Envelope { id: "/context/nope".into(), ..options.envelope.clone() },
                ..options
            },
        );
        assert!(nowhere.unwrap_err().to_string().contains("\"/context/nope\" is not declared"));
    }
}
