//! Compiling one JSON Schema document into a flat graph of [`SchemaNode`]s.
//!
//! Only the keywords eventlake can enforce are accepted; anything else is a load error naming the
//! file and the JSON pointer, so a schema never silently means less than its author wrote.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use regex::Regex;
use serde_json::Value as J;

use crate::dialect::is_self_describing;
use crate::error::{Error, Result};
use crate::resources::{DocId, Location, ResourceId, Resources, child};

/// Index of a node in [`Schema::nodes`].
pub(crate) type NodeId = u32;

/// How a schema is compiled.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Follow the JSON Schema default (undeclared fields allowed) instead of eventlake's closed
    /// objects.
    pub allow_undeclared_fields: bool,
    /// A team's own extension keywords (e.g. `namespace`, `idl`), accepted as annotations.
    pub annotation_keywords: Vec<String>,
}

pub use crate::dialect::Draft;
pub use crate::format::Format;

/// Bit set of JSON types a `type` keyword allows.
pub(crate) mod ty {
    pub(crate) const NULL: u8 = 1;
    pub(crate) const BOOLEAN: u8 = 2;
    pub(crate) const INTEGER: u8 = 4;
    pub(crate) const NUMBER: u8 = 8;
    pub(crate) const STRING: u8 = 16;
    pub(crate) const ARRAY: u8 = 32;
    pub(crate) const OBJECT: u8 = 64;
    pub(crate) const ANY: u8 = 127;

    pub(crate) fn from_name(name: &str) -> Option<u8> {
        Some(match name {
            "null" => NULL,
            "boolean" => BOOLEAN,
            "integer" => INTEGER,
            "number" => NUMBER,
            "string" => STRING,
            "array" => ARRAY,
            "object" => OBJECT,
            _ => return None,
        })
    }

    pub(crate) fn describe(set: u8) -> String {
        let names = ["null", "boolean", "integer", "number", "string", "array", "object"];
        let parts: Vec<&str> = (0..7).filter(|i| set & (1 << i) != 0).map(|i| names[i]).collect();
        parts.join(" or ")
    }
}

/// A numeric bound, kept exact for integers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound {
    Int(i64),
    Float(f64),
}

#[derive(Debug, Clone)]
pub(crate) enum Items {
    None,
    All(NodeId),
    /// draft-07 tuple form: schema `i` applies to element `i`; later elements are unconstrained.
    Tuple(Vec<NodeId>),
}

/// One compiled (sub)schema.
#[derive(Debug, Clone)]
pub(crate) struct SchemaNode {
    /// The document this node is in.
    pub(crate) doc: DocId,
    /// Where this node sits in the document, as a JSON pointer.
    pub(crate) pointer: String,
    /// The schema resource (document or subschema with its own `$id`) it belongs to: the unit of
    /// the dynamic scope.
    pub(crate) resource: ResourceId,
    /// `true`/`false` boolean schemas.
    pub(crate) always: Option<bool>,
    /// Allowed types (`ty::ANY` when no `type` keyword).
    pub(crate) types: u8,
    pub(crate) has_type: bool,
    pub(crate) properties: Vec<(String, NodeId)>,
    pub(crate) declares_properties: bool,
    pub(crate) required: Vec<String>,
    /// Parallel to `properties`: whether each is required.
    pub(crate) required_props: Vec<bool>,
    /// Required names that `properties` does not declare on this node.
    pub(crate) required_undeclared: Vec<String>,
    pub(crate) additional: Option<NodeId>,
    pub(crate) items: Items,
    /// Elements past a tuple (`additionalItems`; in 2020-12, `items` beside `prefixItems`).
    pub(crate) additional_items: Option<NodeId>,
    pub(crate) enum_values: Option<Vec<J>>,
    pub(crate) const_value: Option<Box<J>>,
    pub(crate) minimum: Option<Bound>,
    pub(crate) maximum: Option<Bound>,
    pub(crate) exclusive_minimum: Option<Bound>,
    pub(crate) exclusive_maximum: Option<Bound>,
    pub(crate) min_length: Option<u64>,
    pub(crate) max_length: Option<u64>,
    pub(crate) min_items: Option<u64>,
    pub(crate) max_items: Option<u64>,
    pub(crate) pattern: Option<Regex>,
    pub(crate) format: Option<Format>,
    pub(crate) reference: Option<NodeId>,
    pub(crate) all_of: Vec<NodeId>,
    pub(crate) any_of: Vec<NodeId>,
    pub(crate) one_of: Vec<NodeId>,
    /// Field names an object may carry under eventlake's closed-object rule: the union of
    /// `properties` over this node and its in-place applicators. `None`: no implicit closure.
    pub(crate) closed: Option<Box<[String]>>,
    /// Name patterns an object may also carry under that rule (`patternProperties`).
    pub(crate) closed_patterns: Box<[Regex]>,
    /// Whether any in-place applicator is set (`$ref`, `$dynamicRef`, `allOf`, `anyOf`, `oneOf`,
    /// `not`, `if`, `unevaluated*`): the validator skips them all with one test.
    pub(crate) applicators: bool,
    /// Whether `minProperties`, `maxProperties`, `dependent*` or `propertyNames` is set.
    pub(crate) object_extras: bool,
    /// Keywords most nodes lack, kept apart so the hot fields of a node stay close together.
    pub(crate) more: Box<MoreKeywords>,
}

/// The less common keywords of a [`SchemaNode`].
#[derive(Debug, Clone, Default)]
pub(crate) struct MoreKeywords {
    /// `patternProperties`: members whose name matches apply the schema (and escape `additional`).
    pub(crate) pattern_properties: Vec<(Regex, NodeId)>,
    /// `unevaluatedProperties`: members no adjacent or in-place keyword evaluated.
    pub(crate) unevaluated_properties: Option<NodeId>,
    /// `unevaluatedItems`: elements no adjacent or in-place keyword evaluated.
    pub(crate) unevaluated_items: Option<NodeId>,
    /// `$dynamicRef` (`$recursiveRef` in 2019-09): the static target, and the anchor name to look
    /// up in the dynamic scope when the target declares it (`""`: `$recursiveAnchor`).
    pub(crate) dynamic_ref: Option<(NodeId, Option<String>)>,
    pub(crate) multiple_of: Option<f64>,
    pub(crate) min_properties: Option<u64>,
    pub(crate) max_properties: Option<u64>,
    pub(crate) unique_items: bool,
    pub(crate) not: Option<NodeId>,
    /// `if`, `then`, `else`.
    pub(crate) if_then_else: Option<(NodeId, Option<NodeId>, Option<NodeId>)>,
    /// `contains` with `minContains` (default 1) and `maxContains`.
    pub(crate) contains: Option<(NodeId, u64, Option<u64>)>,
    pub(crate) property_names: Option<NodeId>,
    /// `dependentRequired` (and draft-07 `dependencies` with a list): when the first is present,
    /// the others are required.
    pub(crate) dependent_required: Vec<(String, Vec<String>)>,
    /// `dependentSchemas` (and draft-07 `dependencies` with a schema).
    pub(crate) dependent_schemas: Vec<(String, NodeId)>,
    pub(crate) description: Option<String>,
}

impl SchemaNode {
    fn new(doc: DocId, pointer: String, resource: ResourceId) -> Self {
        SchemaNode {
            doc,
            pointer,
            resource,
            always: None,
            types: ty::ANY,
            has_type: false,
            properties: Vec::new(),
            declares_properties: false,
            required: Vec::new(),
            required_props: Vec::new(),
            required_undeclared: Vec::new(),
            additional: None,
            items: Items::None,
            additional_items: None,
            enum_values: None,
            const_value: None,
            minimum: None,
            maximum: None,
            exclusive_minimum: None,
            exclusive_maximum: None,
            min_length: None,
            max_length: None,
            min_items: None,
            max_items: None,
            pattern: None,
            format: None,
            reference: None,
            all_of: Vec::new(),
            any_of: Vec::new(),
            one_of: Vec::new(),
            closed: None,
            closed_patterns: Box::new([]),
            more: Box::default(),
            applicators: false,
            object_extras: false,
        }
    }

    /// Property `name` declared directly on this node.
    pub(crate) fn property(&self, name: &str) -> Option<NodeId> {
        self.properties.iter().find(|(k, _)| k == name).map(|&(_, id)| id)
    }
}

/// A compiled JSON Schema document.
#[derive(Debug, Clone)]
pub struct Schema {
    pub(crate) source: String,
    pub(crate) draft: Draft,
    pub(crate) nodes: Vec<SchemaNode>,
    pub(crate) options: CompileOptions,
    pub(crate) document: Arc<J>,
    /// Names of the documents the nodes come from, by [`DocId`].
    pub(crate) sources: Vec<String>,
    /// Per resource: its `$dynamicAnchor`s (and `""` for `$recursiveAnchor`), compiled.
    pub(crate) dynamic_anchors: Vec<Vec<(String, NodeId)>>,
    /// Whether any `$dynamicRef`/`$recursiveRef` looks at the dynamic scope (only then is it kept).
    pub(crate) dynamic: bool,
}

const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "examples",
    "default",
    "readOnly",
    "writeOnly",
    "deprecated",
    "contentEncoding",
    "contentMediaType",
    "$defs",
    "definitions",
    "$anchor",
    "$dynamicAnchor",
    "$recursiveAnchor",
    "$vocabulary",
    "contentSchema",
];

impl Schema {
    /// Compiles `document`; `source` names it in errors (usually the file path). Its `$ref`s may
    /// reach its own subschemas and the bundled meta-schemas.
    pub fn compile(document: &J, source: &str, options: &CompileOptions) -> Result<Schema> {
        let mut resources = Resources::new();
        let doc = resources.add(source, document.clone())?;
        Schema::compile_in(&mut resources, doc, options)
    }

    /// Compiles document `doc` of `resources`; its `$ref`s may reach any document there.
    pub fn compile_in(resources: &mut Resources, doc: DocId, options: &CompileOptions) -> Result<Schema> {
        let mut c = Compiler {
            res: resources,
            annotations: &options.annotation_keywords,
            nodes: Vec::new(),
            by_location: HashMap::new(),
            pending_refs: Vec::new(),
            doc,
        };
        let root = c.compile_at(&Location { doc, pointer: String::new() })?;
        debug_assert_eq!(root, 0);
        c.link_refs()?;
        let dynamic = c.nodes.iter().any(|n| matches!(n.more.dynamic_ref, Some((_, Some(_)))));
        let mut dynamic_anchors = vec![Vec::new(); c.res.resources.len()];
        if dynamic {
            // Any resource the walk enters may be where a dynamic reference lands: compile the
            // anchors of every resource that has nodes, until no new resource appears.
            let mut done = 0;
            loop {
                let mut entered: Vec<ResourceId> = c.nodes.iter().map(|n| n.resource).collect();
                entered.sort_unstable();
                entered.dedup();
                if entered.len() == done {
                    break;
                }
                done = entered.len();
                for r in entered {
                    let anchors = c.res.resources[r as usize].dynamic_anchors.clone();
                    let doc = c.res.resources[r as usize].doc;
                    let mut compiled = Vec::with_capacity(anchors.len());
                    for (name, pointer) in anchors {
                        compiled.push((name, c.compile_at(&Location { doc, pointer })?));
                    }
                    dynamic_anchors[r as usize] = compiled;
                }
                c.link_refs()?;
            }
        }
        let mut nodes = c.nodes;
        let bundled: Vec<bool> = c.res.docs.iter().map(|d| d.bundled).collect();
        compute_closure(&mut nodes, &bundled);
        for n in &mut nodes {
            n.applicators = n.reference.is_some()
                || n.more.dynamic_ref.is_some()
                || !n.all_of.is_empty()
                || !n.any_of.is_empty()
                || !n.one_of.is_empty()
                || n.more.not.is_some()
                || n.more.if_then_else.is_some()
                || n.more.unevaluated_properties.is_some()
                || n.more.unevaluated_items.is_some();
            n.object_extras = n.more.min_properties.is_some()
                || n.more.max_properties.is_some()
                || !n.more.dependent_required.is_empty()
                || !n.more.dependent_schemas.is_empty()
                || n.more.property_names.is_some();
        }
        let sources: Vec<String> = c.res.docs.iter().map(|d| d.source.clone()).collect();
        if !options.allow_undeclared_fields {
            for n in &nodes {
                let object_only = n.has_type && n.types & !ty::NULL == ty::OBJECT;
                if let Some(names) = &n.closed
                    && object_only
                    && n.closed_patterns.is_empty()
                    && let Some(missing) = n.required.iter().find(|r| names.binary_search(r).is_err())
                {
                    return Err(Error::InvalidKeyword {
                        file: sources[n.doc as usize].clone(),
                        pointer: n.pointer.clone(),
                        keyword: "required".into(),
                        reason: format!(
                            "{missing:?} is required but not declared in `properties`, so no event could be valid (objects are closed; `--allow-undeclared-fields` opens them)"
                        ),
                    });
                }
            }
        }
        let document = c.res.docs[doc as usize].value.clone();
        let root_resource = c.res.resource_of(&Location { doc, pointer: String::new() });
        let draft = c.res.resources[root_resource as usize].draft;
        Ok(Schema {
            source: sources[doc as usize].clone(),
            draft,
            nodes,
            options: options.clone(),
            document,
            sources,
            dynamic_anchors,
            dynamic,
        })
    }

    /// The file or name this schema was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The dialect the document declared.
    pub fn draft(&self) -> Draft {
        self.draft
    }

    /// The original document.
    pub fn document(&self) -> &J {
        &self.document
    }

    pub(crate) fn node(&self, id: NodeId) -> &SchemaNode {
        &self.nodes[id as usize]
    }

    /// The documents this schema's nodes come from.
    pub fn documents(&self) -> impl Iterator<Item = DocId> + '_ {
        let mut docs: Vec<DocId> = self.nodes.iter().map(|n| n.doc).collect();
        docs.sort_unstable();
        docs.dedup();
        docs.into_iter()
    }

    /// The document node `id` comes from.
    pub(crate) fn source_of(&self, id: NodeId) -> &str {
        &self.sources[self.node(id).doc as usize]
    }
}

/// How a reference keyword resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefKind {
    /// `$ref`.
    Static,
    /// `$dynamicRef`.
    Dynamic,
    /// `$recursiveRef`.
    Recursive,
}

struct Compiler<'r> {
    res: &'r mut Resources,
    annotations: &'r [String],
    nodes: Vec<SchemaNode>,
    by_location: HashMap<Location, NodeId>,
    /// (node, reference, where it is written, its resource, kind)
    pending_refs: Vec<(NodeId, String, Location, ResourceId, RefKind)>,
    /// The document being compiled.
    doc: DocId,
}

impl Compiler<'_> {
    fn source(&self) -> &str {
        &self.res.docs[self.doc as usize].source
    }

    fn invalid(&self, pointer: &str, keyword: &str, reason: impl Into<String>) -> Error {
        Error::InvalidKeyword {
            file: self.source().into(),
            pointer: pointer.into(),
            keyword: keyword.into(),
            reason: reason.into(),
        }
    }

    /// Compiles the subschema at `location` (once; later calls return the same node).
    fn compile_at(&mut self, location: &Location) -> Result<NodeId> {
        if let Some(&id) = self.by_location.get(location) {
            return Ok(id);
        }
        let saved = std::mem::replace(&mut self.doc, location.doc);
        let document = self.res.docs[location.doc as usize].value.clone();
        let out = match document.pointer(&location.pointer) {
            Some(value) => self.compile(value, location.pointer.clone()),
            None => Err(self.invalid(&location.pointer, "$ref", "points to nothing")),
        };
        self.doc = saved;
        out
    }

    /// Resolves every pending reference, compiling what they point to.
    fn link_refs(&mut self) -> Result<()> {
        while let Some((node, reference, at, from, kind)) = self.pending_refs.pop() {
            let resolved = self.res.resolve(&reference, from, &at)?;
            let target = self.compile_at(&resolved.location)?;
            let declares = |name: &str| {
                self.res.resources[resolved.resource as usize]
                    .dynamic_anchors
                    .iter()
                    .any(|(n, p)| n == name && *p == resolved.location.pointer)
            };
            match kind {
                RefKind::Static => self.nodes[node as usize].reference = Some(target),
                RefKind::Dynamic => {
                    // Dynamic only when the static target declares the anchor as `$dynamicAnchor`.
                    let name =
                        reference.rsplit_once('#').map(|(_, f)| f).filter(|f| !f.is_empty() && !f.starts_with('/'));
                    let name = name.filter(|n| declares(n)).map(str::to_owned);
                    self.nodes[node as usize].more.dynamic_ref = Some((target, name));
                }
                RefKind::Recursive => {
                    let name = declares("").then(String::new);
                    self.nodes[node as usize].more.dynamic_ref = Some((target, name));
                }
            }
        }
        Ok(())
    }

    fn compile(&mut self, value: &J, pointer: String) -> Result<NodeId> {
        let location = Location { doc: self.doc, pointer: pointer.clone() };
        if let Some(&id) = self.by_location.get(&location) {
            return Ok(id);
        }
        let resource = self.res.resource_of(&location);
        let draft = self.res.resources[resource as usize].draft;
        let resource_root = self.res.resources[resource as usize].pointer == pointer
            && self.res.resources[resource as usize].doc == self.doc;
        let id = self.nodes.len() as NodeId;
        self.nodes.push(SchemaNode::new(self.doc, pointer.clone(), resource));
        self.by_location.insert(location.clone(), id);
        let obj = match value {
            J::Bool(b) => {
                self.nodes[id as usize].always = Some(*b);
                return Ok(id);
            }
            J::Object(obj) => obj,
            _ => {
                return Err(self.invalid(&pointer, "schema", "a schema must be an object or a boolean"));
            }
        };
        let mut node = SchemaNode::new(self.doc, pointer.clone(), resource);
        // draft-07: `$ref` overrides every sibling keyword.
        let ref_only = draft.legacy() && obj.contains_key("$ref");
        // draft-04: boolean exclusiveMinimum/exclusiveMaximum turn minimum/maximum exclusive.
        let mut exclusive_flags = (false, false);
        // 2020-12: `prefixItems` is the tuple and `items` beside it the schema of the rest.
        let mut prefix_items: Option<Vec<NodeId>> = None;
        for (key, v) in obj {
            let at = child(&pointer, key);
            if !draft.has(key) {
                return Err(self.unsupported(&pointer, key));
            }
            if ref_only && key != "$ref" {
                let annotation = ANNOTATIONS.contains(&key.as_str()) || self.annotations.iter().any(|a| a == key);
                if !annotation && !is_keyword(key) && key != draft.id_keyword() {
                    return Err(self.unsupported(&pointer, key));
                }
                continue;
            }
            match key.as_str() {
                "type" => {
                    node.has_type = true;
                    node.types = self.types(v, &at)?;
                }
                "properties" => {
                    let J::Object(props) = v else {
                        return Err(self.invalid(&at, key, "must be an object"));
                    };
                    node.declares_properties = true;
                    for (name, sub) in props {
                        let sid = self.compile(sub, child(&at, name))?;
                        node.properties.push((name.clone(), sid));
                    }
                }
                "required" => {
                    let J::Array(names) = v else {
                        return Err(self.invalid(&at, key, "must be an array of strings"));
                    };
                    for n in names {
                        let J::String(s) = n else {
                            return Err(self.invalid(&at, key, "must be an array of strings"));
                        };
                        node.required.push(s.clone());
                    }
                }
                "additionalProperties" => node.additional = Some(self.compile(v, at)?),
                "items" => {
                    node.items = match v {
                        J::Array(list) if draft != Draft::Draft2020 => {
                            let mut ids = Vec::with_capacity(list.len());
                            for (i, s) in list.iter().enumerate() {
                                ids.push(self.compile(s, child(&at, &i.to_string()))?);
                            }
                            Items::Tuple(ids)
                        }
                        J::Array(_) => {
                            return Err(self.invalid(
                                &at,
                                key,
                                "array form is for drafts 4 to 2019-09 (2020-12 uses prefixItems)",
                            ));
                        }
                        _ => Items::All(self.compile(v, at)?),
                    }
                }
                "prefixItems" => {
                    let J::Array(list) = v else {
                        return Err(self.invalid(&at, key, "must be an array of schemas"));
                    };
                    let mut ids = Vec::with_capacity(list.len());
                    for (i, s) in list.iter().enumerate() {
                        ids.push(self.compile(s, child(&at, &i.to_string()))?);
                    }
                    prefix_items = Some(ids);
                }
                "additionalItems" => node.additional_items = Some(self.compile(v, at)?),
                "enum" => {
                    let J::Array(list) = v else {
                        return Err(self.invalid(&at, key, "must be an array"));
                    };
                    node.enum_values = Some(list.clone());
                }
                "const" => node.const_value = Some(Box::new(v.clone())),
                "minimum" => node.minimum = Some(self.bound(v, &at, key)?),
                "maximum" => node.maximum = Some(self.bound(v, &at, key)?),
                "exclusiveMinimum" | "exclusiveMaximum" if draft == Draft::Draft4 => {
                    let J::Bool(b) = v else {
                        return Err(self.invalid(&at, key, "must be a boolean in draft-04"));
                    };
                    if key == "exclusiveMinimum" {
                        exclusive_flags.0 = *b;
                    } else {
                        exclusive_flags.1 = *b;
                    }
                }
                "exclusiveMinimum" => node.exclusive_minimum = Some(self.bound(v, &at, key)?),
                "exclusiveMaximum" => node.exclusive_maximum = Some(self.bound(v, &at, key)?),
                "minLength" => node.min_length = Some(self.count(v, &at, key)?),
                "maxLength" => node.max_length = Some(self.count(v, &at, key)?),
                "minItems" => node.min_items = Some(self.count(v, &at, key)?),
                "maxItems" => node.max_items = Some(self.count(v, &at, key)?),
                "pattern" => {
                    let J::String(p) = v else {
                        return Err(self.invalid(&at, key, "must be a string"));
                    };
                    let re = Regex::new(p).map_err(|e| self.invalid(&at, key, e.to_string()))?;
                    node.pattern = Some(re);
                }
                "format" => {
                    let J::String(f) = v else {
                        return Err(self.invalid(&at, key, "must be a string"));
                    };
                    // A format no validator can check (e.g. a team's own) is an annotation.
                    node.format = Format::from_name(f);
                }
                "$ref" | "$dynamicRef" | "$recursiveRef" => {
                    let J::String(r) = v else {
                        return Err(self.invalid(&at, key, "must be a string"));
                    };
                    let kind = match key.as_str() {
                        "$ref" => RefKind::Static,
                        "$dynamicRef" => RefKind::Dynamic,
                        _ if r == "#" => RefKind::Recursive,
                        _ => return Err(self.invalid(&at, key, "must be \"#\"")),
                    };
                    self.pending_refs.push((id, r.clone(), Location { doc: self.doc, pointer: at }, resource, kind));
                }
                "patternProperties" => {
                    let J::Object(patterns) = v else {
                        return Err(self.invalid(&at, key, "must be an object of schemas"));
                    };
                    for (pattern, sub) in patterns {
                        let re = Regex::new(pattern).map_err(|e| self.invalid(&at, key, e.to_string()))?;
                        let sid = self.compile(sub, child(&at, pattern))?;
                        node.more.pattern_properties.push((re, sid));
                    }
                }
                "unevaluatedProperties" => node.more.unevaluated_properties = Some(self.compile(v, at)?),
                "unevaluatedItems" => node.more.unevaluated_items = Some(self.compile(v, at)?),
                "allOf" | "anyOf" | "oneOf" => {
                    let J::Array(list) = v else {
                        return Err(self.invalid(&at, key, "must be a non-empty array of schemas"));
                    };
                    if list.is_empty() {
                        return Err(self.invalid(&at, key, "must be a non-empty array of schemas"));
                    }
                    let mut ids = Vec::with_capacity(list.len());
                    for (i, s) in list.iter().enumerate() {
                        ids.push(self.compile(s, child(&at, &i.to_string()))?);
                    }
                    match key.as_str() {
                        "allOf" => node.all_of = ids,
                        "anyOf" => node.any_of = ids,
                        _ => node.one_of = ids,
                    }
                }
                "multipleOf" => {
                    let m = v.as_f64().filter(|m| *m > 0.0 && m.is_finite());
                    node.more.multiple_of = Some(m.ok_or_else(|| self.invalid(&at, key, "must be a number above 0"))?);
                }
                "minProperties" => node.more.min_properties = Some(self.count(v, &at, key)?),
                "maxProperties" => node.more.max_properties = Some(self.count(v, &at, key)?),
                "uniqueItems" => {
                    let J::Bool(b) = v else {
                        return Err(self.invalid(&at, key, "must be a boolean"));
                    };
                    node.more.unique_items = *b;
                }
                "not" => node.more.not = Some(self.compile(v, at)?),
                "propertyNames" => node.more.property_names = Some(self.compile(v, at)?),
                "if" => {
                    let cond = self.compile(v, at)?;
                    let branch = |c: &mut Self, name: &str| -> Result<Option<NodeId>> {
                        obj.get(name).map(|b| c.compile(b, child(&pointer, name))).transpose()
                    };
                    let then = branch(self, "then")?;
                    let otherwise = branch(self, "else")?;
                    node.more.if_then_else = Some((cond, then, otherwise));
                }
                // Without `if` they mean nothing; with it they are compiled there.
                "then" | "else" => {
                    if !obj.contains_key("if") {
                        self.compile(v, at)?;
                    }
                }
                "contains" => {
                    let sub = self.compile(v, at)?;
                    let (min, max) = node.more.contains.map_or((1, None), |(_, min, max)| (min, max));
                    node.more.contains = Some((sub, min, max));
                }
                "minContains" | "maxContains" => {
                    let n = self.count(v, &at, key)?;
                    let (sub, min, max) = node.more.contains.unwrap_or((NodeId::MAX, 1, None));
                    node.more.contains = Some(if key == "minContains" { (sub, n, max) } else { (sub, min, Some(n)) });
                }
                "dependentRequired" => {
                    let J::Object(deps) = v else {
                        return Err(self.invalid(&at, key, "must be an object of string arrays"));
                    };
                    for (name, list) in deps {
                        node.more.dependent_required.push((name.clone(), self.names(list, &child(&at, name), key)?));
                    }
                }
                "dependentSchemas" => {
                    let J::Object(deps) = v else {
                        return Err(self.invalid(&at, key, "must be an object of schemas"));
                    };
                    for (name, sub) in deps {
                        let sid = self.compile(sub, child(&at, name))?;
                        node.more.dependent_schemas.push((name.clone(), sid));
                    }
                }
                "dependencies" => {
                    let J::Object(deps) = v else {
                        return Err(self.invalid(&at, key, "must be an object"));
                    };
                    for (name, dep) in deps {
                        let at = child(&at, name);
                        match dep {
                            J::Array(_) => {
                                node.more.dependent_required.push((name.clone(), self.names(dep, &at, key)?))
                            }
                            _ => {
                                let sid = self.compile(dep, at)?;
                                node.more.dependent_schemas.push((name.clone(), sid));
                            }
                        }
                    }
                }
                "$defs" | "definitions" => {
                    let J::Object(defs) = v else {
                        return Err(self.invalid(&at, key, "must be an object"));
                    };
                    // Compiled eagerly so an unsupported keyword in an unused definition still fails.
                    for (name, sub) in defs {
                        self.compile(sub, child(&at, name))?;
                    }
                }
                "description" => {
                    if let J::String(d) = v {
                        node.more.description = Some(d.clone());
                    }
                }
                "self"
                    if pointer.is_empty()
                        && self.res.docs[self.doc as usize]
                            .value
                            .get("$schema")
                            .and_then(J::as_str)
                            .is_some_and(is_self_describing) => {}
                // Indexed with the document (crate::resources): they name this resource.
                "$id" | "id" if key == draft.id_keyword() => {
                    if !v.is_string() {
                        return Err(self.invalid(&at, key, "must be a string"));
                    }
                }
                "$schema" if !resource_root => {
                    return Err(self.invalid(
                        &at,
                        key,
                        "only allowed where a schema resource starts (the root or beside `$id`)",
                    ));
                }
                k if ANNOTATIONS.contains(&k) || self.annotations.iter().any(|a| a == k) => {}
                _ => return Err(self.unsupported(&pointer, key)),
            }
        }
        if let Some(tuple) = prefix_items {
            if let Items::All(rest) = node.items {
                node.additional_items = Some(rest);
            }
            node.items = Items::Tuple(tuple);
        } else if !matches!(node.items, Items::Tuple(_)) {
            // `additionalItems` means something only after a tuple.
            node.additional_items = None;
        }
        if exclusive_flags.0 {
            node.exclusive_minimum = node.minimum.take();
        }
        if exclusive_flags.1 {
            node.exclusive_maximum = node.maximum.take();
        }
        // `minContains`/`maxContains` without `contains` constrain nothing.
        if node.more.contains.is_some_and(|(sub, _, _)| sub == NodeId::MAX) {
            node.more.contains = None;
        }
        node.required_props = node.properties.iter().map(|(k, _)| node.required.contains(k)).collect();
        node.required_undeclared = node.required.iter().filter(|r| node.property(r).is_none()).cloned().collect();
        self.nodes[id as usize] = node;
        Ok(id)
    }

    fn names(&self, v: &J, at: &str, key: &str) -> Result<Vec<String>> {
        let J::Array(list) = v else {
            return Err(self.invalid(at, key, "must be an array of strings"));
        };
        list.iter()
            .map(|n| n.as_str().map(str::to_owned).ok_or_else(|| self.invalid(at, key, "must be an array of strings")))
            .collect()
    }

    fn unsupported(&self, pointer: &str, keyword: &str) -> Error {
        let hint = match did_you_mean(keyword) {
            Some(known) => format!(" (did you mean `{known}`? A team's own keywords can be declared as annotations)"),
            None => " (a team's own keywords can be declared as annotations)".into(),
        };
        Error::UnsupportedKeyword { file: self.source().into(), pointer: pointer.into(), keyword: keyword.into(), hint }
    }

    fn types(&self, v: &J, at: &str) -> Result<u8> {
        let one = |name: &J| -> Result<u8> {
            name.as_str()
                .and_then(ty::from_name)
                .ok_or_else(|| self.invalid(at, "type", format!("unknown type {name}")))
        };
        match v {
            J::String(_) => one(v),
            J::Array(list) if !list.is_empty() => list.iter().try_fold(0u8, |acc, n| Ok(acc | one(n)?)),
            _ => Err(self.invalid(at, "type", "must be a type name or a non-empty array of them")),
        }
    }

    fn bound(&self, v: &J, at: &str, key: &str) -> Result<Bound> {
        match v {
            J::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Bound::Int(i))
                } else {
                    n.as_f64().map(Bound::Float).ok_or_else(|| self.invalid(at, key, "must be a number"))
                }
            }
            _ => Err(self.invalid(at, key, "must be a number")),
        }
    }

    fn count(&self, v: &J, at: &str, key: &str) -> Result<u64> {
        match v {
            J::Number(n) => n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0).map(|f| f as u64))
                .ok_or_else(|| self.invalid(at, key, "must be a non-negative integer")),
            _ => Err(self.invalid(at, key, "must be a non-negative integer")),
        }
    }
}

/// Every keyword some dialect enforces.
const KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "format",
    "$ref",
    "allOf",
    "anyOf",
    "oneOf",
    "multipleOf",
    "minProperties",
    "maxProperties",
    "uniqueItems",
    "not",
    "propertyNames",
    "if",
    "then",
    "else",
    "contains",
    "minContains",
    "maxContains",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "prefixItems",
    "additionalItems",
    "patternProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "$dynamicRef",
    "$recursiveRef",
];

fn is_keyword(key: &str) -> bool {
    KEYWORDS.contains(&key)
}

/// The known keyword a misspelt one most likely meant: at most two edits away (`reqired`).
fn did_you_mean(keyword: &str) -> Option<&'static str> {
    KEYWORDS
        .iter()
        .chain(ANNOTATIONS)
        .map(|k| (edit_distance(keyword, k), *k))
        .filter(|(d, _)| *d <= 2 && *d < keyword.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over characters (for "did you mean" hints).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(row[j]).min(cur) };
            prev = cur;
        }
    }
    row[b.len()]
}

/// Fills [`SchemaNode::closed`]: the property names (and name patterns) declared across each
/// node's in-place applicators (`$ref`, `$dynamicRef`, `allOf`, `anyOf`, `oneOf`), unless one of
/// them sets `additionalProperties` or `unevaluatedProperties`, or none declares `properties`.
/// Bundled meta-schemas keep JSON Schema's open objects.
fn compute_closure(nodes: &mut [SchemaNode], bundled: &[bool]) {
    for id in 0..nodes.len() {
        if bundled.get(nodes[id].doc as usize).copied().unwrap_or(false) {
            continue;
        }
        let mut seen = BTreeSet::new();
        let mut stack = vec![id as NodeId];
        let mut names = BTreeSet::new();
        let mut patterns = Vec::new();
        let mut declares = false;
        let mut explicit = false;
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            let node = &nodes[n as usize];
            declares |= node.declares_properties || !node.more.pattern_properties.is_empty();
            explicit |= node.additional.is_some() || node.more.unevaluated_properties.is_some();
            names.extend(node.properties.iter().map(|(k, _)| k.clone()));
            patterns.extend(node.more.pattern_properties.iter().map(|(re, _)| re.clone()));
            stack.extend(node.reference);
            stack.extend(node.more.dynamic_ref.as_ref().map(|(target, _)| *target));
            stack.extend(&node.all_of);
            stack.extend(&node.any_of);
            stack.extend(&node.one_of);
        }
        if declares && !explicit {
            nodes[id].closed = Some(names.into_iter().collect());
            nodes[id].closed_patterns = patterns.into_boxed_slice();
        }
    }
}

#[cfg(test)]
mod dialect_tests {
    use serde_json::json;

    use super::*;
    use crate::json::Tape;

    fn valid(schema: &Schema, record: &str) -> bool {
        let mut tape = Tape::default();
        schema.is_valid(tape.parse(record.as_bytes()).unwrap())
    }

    /// A Snowplow Iglu schema loads as draft-04: its `self` block is metadata, and draft-04's boolean
    /// `exclusiveMaximum` makes `maximum` exclusive.
    #[test]
    fn iglu_self_describing_schemas_load_as_draft_04() {
        let doc = json!({
            "$schema": "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
            "self": {"vendor": "com.acme", "name": "checkout", "format": "jsonschema", "version": "1-0-0"},
            "type": "object",
            "properties": {"items": {"type": "integer", "maximum": 10, "exclusiveMaximum": true, "multipleOf": 2}},
            "additionalProperties": false
        });
        let schema = Schema::compile(&doc, "checkout.json", &CompileOptions::default()).unwrap();
        assert_eq!(schema.draft(), Draft::Draft4);
        assert!(valid(&schema, r#"{"items": 8}"#));
        assert!(!valid(&schema, r#"{"items": 10}"#), "exclusive in draft-04");
        assert!(!valid(&schema, r#"{"items": 7}"#), "multipleOf");
    }

    /// Keywords a dialect does not have are refused, never ignored.
    #[test]
    fn later_keywords_are_refused_in_earlier_dialects() {
        let draft4 = json!({"$schema": "http://json-schema.org/draft-04/schema#", "const": 1});
        let err = Schema::compile(&draft4, "a.json", &CompileOptions::default()).unwrap_err();
        assert!(err.to_string().contains("const"), "{err}");
        let draft6 = json!({"$schema": "http://json-schema.org/draft-06/schema#", "if": true});
        assert!(Schema::compile(&draft6, "b.json", &CompileOptions::default()).is_err());
        let draft7 = json!({"$schema": "http://json-schema.org/draft-07/schema", "dependentRequired": {}});
        assert!(Schema::compile(&draft7, "c.json", &CompileOptions::default()).is_err());
        let self_elsewhere = json!({"$schema": "http://json-schema.org/draft-04/schema#", "self": {}});
        assert!(Schema::compile(&self_elsewhere, "d.json", &CompileOptions::default()).is_err());
    }
}

#[cfg(test)]
mod keyword_tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_misspelt_keyword_is_refused_with_the_likely_one() {
        let doc = json!({"type": "object", "properties": {"a": {"type": "string"}}, "reqired": ["a"]});
        let err = Schema::compile(&doc, "a.json", &CompileOptions::default()).unwrap_err();
        assert!(err.to_string().contains("unsupported keyword `reqired` (did you mean `required`?"), "{err}");
        let far = json!({"namespace": "com.acme"});
        let err = Schema::compile(&far, "b.json", &CompileOptions::default()).unwrap_err();
        assert!(!err.to_string().contains("did you mean"), "{err}");
    }

    #[test]
    fn declared_extension_keywords_are_annotations() {
        let doc = json!({"namespace": "com.acme", "properties": {"a": {"idl": "int", "type": "integer"}}});
        let options =
            CompileOptions { annotation_keywords: vec!["namespace".into(), "idl".into()], ..Default::default() };
        assert!(Schema::compile(&doc, "a.json", &options).is_ok());
        let typo = json!({"namespac": "com.acme"});
        assert!(Schema::compile(&typo, "b.json", &options).is_err(), "only the declared names");
    }
}
