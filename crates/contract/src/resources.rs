//! Schema resources: every document a schema may `$ref`, known by URI.
//!
//! ```text
//!   schema folder files ──add──► Document (file:///<relative path>, and its `$id` if any)
//!   bundled meta-schemas ─lazy─►   └─ index: embedded resources (nested `$id`), `$anchor`s,
//!                                     `$dynamicAnchor`s, and the resource of every subschema
//!   `$ref` (relative to the resource it sits in) ──resolve──► (document, JSON pointer)
//! ```
//!
//! Nothing is fetched: a `$ref` that resolves outside these documents fails the load, naming it.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value as J;
use url::Url;

use crate::dialect::{Draft, dialect_of};
use crate::error::{Error, Result};
use crate::json::push_pointer_token;

/// Index of a document in [`Resources`].
pub type DocId = u32;
/// Index of a schema resource (a document root or a subschema with its own `$id`).
pub(crate) type ResourceId = u32;

/// The draft meta-schemas, so a `$ref` to them resolves offline.
const BUNDLED: &[(&str, &str)] = &[
    ("draft-04 meta-schema", include_str!("../metaschemas/draft4.json")),
    ("draft-06 meta-schema", include_str!("../metaschemas/draft6.json")),
    ("draft-07 meta-schema", include_str!("../metaschemas/draft7.json")),
    ("2019-09 meta-schema", include_str!("../metaschemas/draft2019-09/schema.json")),
    ("2019-09 core vocabulary", include_str!("../metaschemas/draft2019-09/meta/core.json")),
    ("2019-09 applicator vocabulary", include_str!("../metaschemas/draft2019-09/meta/applicator.json")),
    ("2019-09 validation vocabulary", include_str!("../metaschemas/draft2019-09/meta/validation.json")),
    ("2019-09 meta-data vocabulary", include_str!("../metaschemas/draft2019-09/meta/meta-data.json")),
    ("2019-09 format vocabulary", include_str!("../metaschemas/draft2019-09/meta/format.json")),
    ("2019-09 content vocabulary", include_str!("../metaschemas/draft2019-09/meta/content.json")),
    ("2020-12 meta-schema", include_str!("../metaschemas/draft2020-12/schema.json")),
    ("2020-12 core vocabulary", include_str!("../metaschemas/draft2020-12/meta/core.json")),
    ("2020-12 applicator vocabulary", include_str!("../metaschemas/draft2020-12/meta/applicator.json")),
    ("2020-12 unevaluated vocabulary", include_str!("../metaschemas/draft2020-12/meta/unevaluated.json")),
    ("2020-12 validation vocabulary", include_str!("../metaschemas/draft2020-12/meta/validation.json")),
    ("2020-12 meta-data vocabulary", include_str!("../metaschemas/draft2020-12/meta/meta-data.json")),
    ("2020-12 format-annotation vocabulary", include_str!("../metaschemas/draft2020-12/meta/format-annotation.json")),
    ("2020-12 format-assertion vocabulary", include_str!("../metaschemas/draft2020-12/meta/format-assertion.json")),
    ("2020-12 content vocabulary", include_str!("../metaschemas/draft2020-12/meta/content.json")),
];

/// One JSON document.
#[derive(Debug)]
pub(crate) struct Document {
    /// Names the document in errors (a path relative to the schema folder, or a URI).
    pub(crate) source: String,
    pub(crate) value: Arc<J>,
    /// A bundled meta-schema: JSON Schema's open objects apply, not eventlake's closed ones.
    pub(crate) bundled: bool,
}

/// A schema resource: where it is and what it declares for dynamic references.
#[derive(Debug)]
pub(crate) struct Resource {
    /// Base URI for the references inside it.
    pub(crate) uri: Url,
    pub(crate) doc: DocId,
    pub(crate) pointer: String,
    pub(crate) draft: Draft,
    /// `$dynamicAnchor` names (and `""` for `$recursiveAnchor: true`), with their subschema.
    pub(crate) dynamic_anchors: Vec<(String, String)>,
}

/// A subschema's place: document and JSON pointer inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Location {
    pub(crate) doc: DocId,
    pub(crate) pointer: String,
}

/// The documents a compile may reach, indexed by URI.
#[derive(Debug, Default)]
pub struct Resources {
    pub(crate) docs: Vec<Document>,
    pub(crate) resources: Vec<Resource>,
    /// Absolute URI (no fragment) → resource.
    by_uri: HashMap<String, ResourceId>,
    /// `uri#name` → the subschema that declares `$anchor`/`$dynamicAnchor` `name` (or, before
    /// 2019-09, an `$id` of `#name`).
    anchors: HashMap<String, Location>,
    /// Every subschema → the resource it belongs to.
    located: HashMap<Location, ResourceId>,
    bundled_loaded: bool,
}

/// How a `$ref` resolved.
pub(crate) struct Resolved {
    pub(crate) location: Location,
    /// The resource the reference landed in (for `$dynamicRef` bookending).
    pub(crate) resource: ResourceId,
}

impl Resources {
    pub fn new() -> Resources {
        Resources::default()
    }

    /// Adds a document named `source` (a path relative to the schema folder): it is known by
    /// `file:///<source>` and by its `$id`, if it has one.
    pub fn add(&mut self, source: &str, value: J) -> Result<DocId> {
        let invalid_name = || Error::InvalidKeyword {
            file: source.into(),
            pointer: String::new(),
            keyword: "$id".into(),
            reason: "the file name does not form a URI".into(),
        };
        let base = Url::parse("file:///").map_err(|_| invalid_name())?;
        let uri = base.join(source).map_err(|_| invalid_name())?;
        self.add_at(source, uri, value, false)
    }

    /// Adds a document known by `uri` (as well as by its `$id`), e.g. one a test serves.
    pub fn add_with_uri(&mut self, source: &str, uri: &str, value: J) -> Result<DocId> {
        let uri = Url::parse(uri).map_err(|e| Error::InvalidKeyword {
            file: source.into(),
            pointer: String::new(),
            keyword: "$id".into(),
            reason: format!("{uri:?} is not an absolute URI: {e}"),
        })?;
        self.add_at(source, uri, value, false)
    }

    fn add_at(&mut self, source: &str, uri: Url, value: J, bundled: bool) -> Result<DocId> {
        let doc = self.docs.len() as DocId;
        let draft = match value.get("$schema") {
            Some(J::String(s)) => {
                dialect_of(s).ok_or_else(|| Error::UnsupportedDraft { file: source.into(), uri: s.clone() })?
            }
            Some(other) if value.is_object() => {
                return Err(Error::UnsupportedDraft { file: source.into(), uri: other.to_string() });
            }
            _ => Draft::Draft2020,
        };
        let root = self.resources.len() as ResourceId;
        self.register(source, &uri, root)?;
        self.resources.push(Resource { uri, doc, pointer: String::new(), draft, dynamic_anchors: Vec::new() });
        self.docs.push(Document { source: source.into(), value: Arc::new(J::Null), bundled });
        self.index(doc, &value, String::new(), root, draft)?;
        self.docs[doc as usize].value = Arc::new(value);
        Ok(doc)
    }

    fn register(&mut self, source: &str, uri: &Url, resource: ResourceId) -> Result<()> {
        let key = without_fragment(uri);
        if let Some(&other) = self.by_uri.get(&key)
            && other != resource
        {
            let first = &self.docs[self.resources[other as usize].doc as usize].source;
            return Err(Error::DuplicateSchemaId { uri: key, first: first.clone(), second: source.into() });
        }
        self.by_uri.insert(key, resource);
        Ok(())
    }

    /// Records the resource of every subschema of `value`, and the resources and anchors it declares.
    fn index(&mut self, doc: DocId, value: &J, pointer: String, resource: ResourceId, draft: Draft) -> Result<()> {
        let J::Object(map) = value else {
            self.located.insert(Location { doc, pointer }, resource);
            return Ok(());
        };
        let mut resource = resource;
        let mut draft = draft;
        // Before 2019-09 `$ref` overrides its siblings, `$id` included.
        let id = map.get(draft.id_keyword()).filter(|_| !(draft.legacy() && map.contains_key("$ref")));
        if let Some(J::String(id)) = id {
            let source = self.docs[doc as usize].source.clone();
            let invalid = |keyword: &str, reason: String| Error::InvalidKeyword {
                file: source.clone(),
                pointer: pointer.clone(),
                keyword: keyword.into(),
                reason,
            };
            let base = self.resources[resource as usize].uri.clone();
            let uri = base.join(id).map_err(|e| invalid(draft.id_keyword(), format!("{id:?} is not a URI: {e}")))?;
            let fragment = uri.fragment().unwrap_or("").to_owned();
            if !id.starts_with('#') {
                if pointer.is_empty() {
                    // The document's own `$id`: another name for its root resource, and its base.
                    self.register(&source, &uri, resource)?;
                    self.resources[resource as usize].uri = uri.clone();
                } else {
                    if let Some(J::String(s)) = map.get("$schema") {
                        draft = dialect_of(s)
                            .ok_or_else(|| Error::UnsupportedDraft { file: source.clone(), uri: s.clone() })?;
                    }
                    let nested = self.resources.len() as ResourceId;
                    self.register(&source, &uri, nested)?;
                    self.resources.push(Resource {
                        uri: uri.clone(),
                        doc,
                        pointer: pointer.clone(),
                        draft,
                        dynamic_anchors: Vec::new(),
                    });
                    resource = nested;
                }
            }
            if !fragment.is_empty() {
                if !draft.legacy() {
                    return Err(invalid(
                        draft.id_keyword(),
                        format!("{id:?} has a fragment; from 2019-09 on, name a subschema with `$anchor`"),
                    ));
                }
                self.anchor(&uri, &fragment, doc, &pointer);
            }
        }
        if draft.has("$anchor")
            && let Some(J::String(name)) = map.get("$anchor")
        {
            let base = self.resources[resource as usize].uri.clone();
            self.anchor(&base, name, doc, &pointer);
        }
        if draft.has("$dynamicAnchor")
            && let Some(J::String(name)) = map.get("$dynamicAnchor")
        {
            let base = self.resources[resource as usize].uri.clone();
            self.anchor(&base, name, doc, &pointer);
            self.resources[resource as usize].dynamic_anchors.push((name.clone(), pointer.clone()));
        }
        if draft.has("$recursiveAnchor")
            && map.get("$recursiveAnchor") == Some(&J::Bool(true))
            && self.resources[resource as usize].pointer == pointer
        {
            self.resources[resource as usize].dynamic_anchors.push((String::new(), pointer.clone()));
        }
        self.located.insert(Location { doc, pointer: pointer.clone() }, resource);
        for (key, sub) in map {
            match key.as_str() {
                "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" | "dependencies" => {
                    if let J::Object(subs) = sub {
                        for (name, s) in subs {
                            let at = child(&child(&pointer, key), name);
                            self.index(doc, s, at, resource, draft)?;
                        }
                    }
                }
                "allOf" | "anyOf" | "oneOf" | "prefixItems" | "items" => match sub {
                    J::Array(list) => {
                        for (i, s) in list.iter().enumerate() {
                            self.index(doc, s, child(&child(&pointer, key), &i.to_string()), resource, draft)?;
                        }
                    }
                    _ => self.index(doc, sub, child(&pointer, key), resource, draft)?,
                },
                "additionalProperties"
                | "additionalItems"
                | "unevaluatedProperties"
                | "unevaluatedItems"
                | "not"
                | "if"
                | "then"
                | "else"
                | "contains"
                | "propertyNames"
                | "contentSchema" => {
                    self.index(doc, sub, child(&pointer, key), resource, draft)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn anchor(&mut self, base: &Url, name: &str, doc: DocId, pointer: &str) {
        let key = format!("{}#{name}", without_fragment(base));
        self.anchors.entry(key).or_insert_with(|| Location { doc, pointer: pointer.into() });
    }

    /// The resource a subschema belongs to: its own entry, or its nearest indexed ancestor's (a
    /// `$ref` may point anywhere in a document).
    pub(crate) fn resource_of(&self, location: &Location) -> ResourceId {
        let mut pointer = location.pointer.as_str();
        loop {
            if let Some(&r) = self.located.get(&Location { doc: location.doc, pointer: pointer.into() }) {
                return r;
            }
            match pointer.rfind('/') {
                Some(i) => pointer = &pointer[..i],
                None => {
                    return self
                        .located
                        .get(&Location { doc: location.doc, pointer: String::new() })
                        .copied()
                        .unwrap_or(0);
                }
            }
        }
    }

    /// The JSON value at a location.
    pub(crate) fn value(&self, location: &Location) -> Option<&J> {
        self.docs.get(location.doc as usize)?.value.pointer(&location.pointer)
    }

    /// Resolves `reference`, written in resource `from` of document `doc` at `at`.
    pub(crate) fn resolve(&mut self, reference: &str, from: ResourceId, at: &Location) -> Result<Resolved> {
        let source = self.docs[at.doc as usize].source.clone();
        let base = self.resources[from as usize].uri.clone();
        let absolute = base.join(reference).map_err(|e| Error::InvalidKeyword {
            file: source.clone(),
            pointer: at.pointer.clone(),
            keyword: "$ref".into(),
            reason: format!("{reference:?} is not a URI reference: {e}"),
        })?;
        let key = without_fragment(&absolute);
        let mut resource = self.by_uri.get(&key).copied();
        if resource.is_none() && !self.bundled_loaded {
            self.load_bundled()?;
            resource = self.by_uri.get(&key).copied();
        }
        if resource.is_none() {
            // A relative path between files of the folder, when the referring file's `$id` is
            // not where it lies.
            let file_base = Url::parse("file:///").and_then(|b| b.join(&source));
            if let Ok(file_uri) = file_base.and_then(|b| b.join(reference)) {
                resource = self.by_uri.get(&without_fragment(&file_uri)).copied();
            }
        }
        let Some(resource) = resource else {
            return Err(Error::NonLocalRef {
                file: source,
                pointer: at.pointer.clone(),
                reference: reference.into(),
                resolved: key,
            });
        };
        let fragment = absolute.fragment().unwrap_or("");
        let fragment = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy();
        let root = &self.resources[resource as usize];
        let unresolved =
            || Error::UnresolvedRef { file: source.clone(), pointer: at.pointer.clone(), reference: reference.into() };
        let location = if fragment.is_empty() {
            Location { doc: root.doc, pointer: root.pointer.clone() }
        } else if fragment.starts_with('/') {
            let location = Location { doc: root.doc, pointer: format!("{}{fragment}", root.pointer) };
            self.value(&location).ok_or_else(unresolved)?;
            location
        } else {
            let key = format!("{}#{fragment}", without_fragment(&root.uri));
            self.anchors.get(&key).cloned().ok_or_else(unresolved)?
        };
        let resource = self.resource_of(&location);
        Ok(Resolved { location, resource })
    }

    fn load_bundled(&mut self) -> Result<()> {
        self.bundled_loaded = true;
        for (name, text) in BUNDLED {
            let value: J = serde_json::from_str(text).map_err(|cause| Error::Json { path: (*name).into(), cause })?;
            let id = value.get("$id").or_else(|| value.get("id")).and_then(J::as_str).unwrap_or(name).to_owned();
            let uri = Url::parse(&id).map_err(|e| Error::InvalidKeyword {
                file: (*name).into(),
                pointer: String::new(),
                keyword: "$id".into(),
                reason: e.to_string(),
            })?;
            if self.by_uri.contains_key(&without_fragment(&uri)) {
                // The schema folder brings its own copy.
                continue;
            }
            self.add_at(name, uri, value, true)?;
        }
        Ok(())
    }
}

fn without_fragment(uri: &Url) -> String {
    let mut u = uri.clone();
    u.set_fragment(None);
    u.into()
}

pub(crate) fn child(pointer: &str, token: &str) -> String {
    let mut s = String::with_capacity(pointer.len() + token.len() + 1);
    s.push_str(pointer);
    s.push('/');
    push_pointer_token(&mut s, token);
    s
}
