//! Validating a parsed record against a compiled [`Schema`].
//!
//! Validation first runs in a fast mode that stops at the first failure and allocates nothing; only
//! an invalid record is walked again to collect every error with its JSON pointer.

use std::fmt;

use serde::Serialize;
use serde_json::Value as J;

use crate::json::{Kind, Value, push_pointer_token};
use crate::resources::ResourceId;
use crate::schema::{Bound, Items, NodeId, Schema, SchemaNode, ty};

/// Schema evaluation deeper than this (e.g. a `$ref` loop that consumes no input) is rejected.
const MAX_EVAL_DEPTH: u32 = 512;

/// Errors kept per record: a huge invalid instance must not build a huge quarantine line.
pub const MAX_ERRORS: usize = 100;

/// One reason a record does not satisfy its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationError {
    /// JSON pointer to the offending value (`""` is the whole record).
    pub pointer: String,
    /// The keyword that failed (`type`, `required`, `additionalProperties`, ...).
    pub keyword: &'static str,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() { "/" } else { &self.pointer };
        write!(f, "{at}: {}", self.message)
    }
}

impl Schema {
    /// Every reason `value` is invalid; empty when it is valid.
    pub fn validate(&self, value: Value<'_>) -> Vec<ValidationError> {
        if self.is_valid(value) {
            return Vec::new();
        }
        let mut errors = Vec::new();
        let mut w = Walker::new(self, Some(&mut errors), 0, Vec::new());
        w.node(0, value, false);
        if errors.len() >= MAX_ERRORS {
            errors.push(ValidationError {
                pointer: String::new(),
                keyword: "schema",
                message: format!("errors after the first {MAX_ERRORS} are not listed"),
            });
        }
        if errors.is_empty() {
            // Both walks evaluate the same rules; keep the verdict honest even if they ever diverge.
            errors.push(ValidationError {
                pointer: String::new(),
                keyword: "schema",
                message: "record does not satisfy the schema".into(),
            });
        }
        errors
    }

    /// Whether `value` is valid, without collecting errors.
    pub fn is_valid(&self, value: Value<'_>) -> bool {
        Walker::new(self, None, 0, Vec::new()).node(0, value, false)
    }

    /// Validates `value` against the subschema for property `name` of the root (used by callers
    /// that check one envelope field on its own).
    pub fn root_property_allows(&self, name: &str, value: Value<'_>) -> bool {
        let root = self.node(0);
        match root.property(name) {
            Some(id) => Walker::new(self, None, 0, Vec::new()).node(id, value, false),
            None => true,
        }
    }
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

struct Walker<'s, 'e, 'a> {
    schema: &'s Schema,
    path: Vec<Seg<'a>>,
    /// `None`: fast mode, stop at the first failure.
    errors: Option<&'e mut Vec<ValidationError>>,
    depth: u32,
    /// The dynamic scope: resources entered, outermost first (kept only for `$dynamicRef`).
    scope: Vec<ResourceId>,
}

impl<'s, 'e, 'a> Walker<'s, 'e, 'a> {
    fn new(
        schema: &'s Schema,
        errors: Option<&'e mut Vec<ValidationError>>,
        depth: u32,
        scope: Vec<ResourceId>,
    ) -> Self {
        Walker { schema, path: Vec::new(), errors, depth, scope }
    }

    /// The dynamic scope for a nested walk (empty unless a dynamic reference needs it).
    fn scope(&self) -> Vec<ResourceId> {
        if self.schema.dynamic { self.scope.clone() } else { Vec::new() }
    }

    /// Enters `n`'s resource into the dynamic scope; returns whether to leave it afterwards.
    fn enter(&mut self, n: &SchemaNode) -> bool {
        let entered = self.schema.dynamic && self.scope.last() != Some(&n.resource);
        if entered {
            self.scope.push(n.resource);
        }
        entered
    }

    /// Where a `$dynamicRef` lands: the outermost resource in scope that declares its anchor,
    /// else its static target.
    fn dynamic_target(&self, target: NodeId, name: Option<&str>) -> NodeId {
        let Some(name) = name else { return target };
        for r in &self.scope {
            if let Some((_, id)) = self.schema.dynamic_anchors[*r as usize].iter().find(|(n, _)| n == name) {
                return *id;
            }
        }
        target
    }
    fn pointer(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            s.push('/');
            match seg {
                Seg::Key(k) => push_pointer_token(&mut s, k),
                Seg::Index(i) => s.push_str(&i.to_string()),
            }
        }
        s
    }

    /// Whether the walk should stop at a failure: in fast mode, or once [`MAX_ERRORS`] are kept.
    fn stop(&self) -> bool {
        self.errors.as_ref().is_none_or(|errors| errors.len() >= MAX_ERRORS)
    }

    /// Records a failure; returns `true` when the walk should stop.
    #[cold]
    #[inline(never)]
    fn fail(&mut self, keyword: &'static str, message: impl FnOnce() -> String) -> bool {
        if self.stop() {
            return true;
        }
        let pointer = self.pointer();
        if let Some(errors) = &mut self.errors {
            errors.push(ValidationError { pointer, keyword, message: message() });
        }
        self.stop()
    }

    /// Records a failure at member `name` of the current value (which may not exist).
    #[cold]
    #[inline(never)]
    fn fail_member(&mut self, name: &str, keyword: &'static str, message: impl FnOnce() -> String) -> bool {
        if self.stop() {
            return true;
        }
        let mut pointer = self.pointer();
        pointer.push('/');
        push_pointer_token(&mut pointer, name);
        if let Some(errors) = &mut self.errors {
            errors.push(ValidationError { pointer, keyword, message: message() });
        }
        self.stop()
    }

    /// Whether `v` satisfies node `id`. `in_place`: reached through `$ref`/`allOf`/`anyOf`/`oneOf`,
    /// so the caller's node already applies the closed-object rule.
    fn node(&mut self, id: NodeId, v: Value<'a>, in_place: bool) -> bool {
        let schema = self.schema;
        let n = schema.node(id);
        if let Some(always) = n.always {
            return always || !self.fail("false", || "no value is allowed here (schema `false`)".into());
        }
        if self.depth >= MAX_EVAL_DEPTH {
            self.fail("$ref", || "schema evaluation too deep (a `$ref` cycle?)".into());
            return false;
        }
        self.depth += 1;
        let ok = if schema.dynamic {
            let entered = self.enter(n);
            let ok = self.node_body(n, v, in_place);
            if entered {
                self.scope.pop();
            }
            ok
        } else {
            self.node_body(n, v, in_place)
        };
        self.depth -= 1;
        ok
    }

    fn node_body(&mut self, n: &SchemaNode, v: Value<'a>, in_place: bool) -> bool {
        let mut ok = true;
        macro_rules! check {
            ($cond:expr, $kw:expr, $msg:expr) => {
                if !$cond {
                    ok = false;
                    if self.fail($kw, $msg) {
                        return false;
                    }
                }
            };
        }
        let kind = v.kind();
        if n.has_type {
            check!(type_matches(n.types, kind), "type", || {
                if kind == Kind::BigInt && n.types & ty::INTEGER != 0 {
                    format!("integer {} is outside the 64-bit range and cannot be stored", v.raw())
                } else {
                    format!("expected {}, got {}", ty::describe(n.types), describe_value(v))
                }
            });
            if !ok {
                // Other keywords would only restate the type mismatch.
                return false;
            }
        }
        if let Some(values) = &n.enum_values {
            check!(values.iter().any(|e| json_eq(v, e)), "enum", || {
                format!("{} is not one of {}", describe_value(v), J::Array(values.clone()))
            });
        }
        if let Some(c) = &n.const_value {
            check!(json_eq(v, c), "const", || format!("expected {c}, got {}", describe_value(v)));
        }
        match kind {
            Kind::Int | Kind::Float | Kind::BigInt => {
                if let Some(b) = n.minimum {
                    check!(cmp_num(v, b).is_some_and(|o| o.is_ge()), "minimum", || {
                        format!("{} is less than the minimum {}", v.raw(), show(b))
                    });
                }
                if let Some(b) = n.maximum {
                    check!(cmp_num(v, b).is_some_and(|o| o.is_le()), "maximum", || {
                        format!("{} is greater than the maximum {}", v.raw(), show(b))
                    });
                }
                if let Some(b) = n.exclusive_minimum {
                    check!(cmp_num(v, b).is_some_and(|o| o.is_gt()), "exclusiveMinimum", || {
                        format!("{} must be greater than {}", v.raw(), show(b))
                    });
                }
                if let Some(b) = n.exclusive_maximum {
                    check!(cmp_num(v, b).is_some_and(|o| o.is_lt()), "exclusiveMaximum", || {
                        format!("{} must be less than {}", v.raw(), show(b))
                    });
                }
                if let Some(m) = n.more.multiple_of {
                    check!(is_multiple(v, m), "multipleOf", || format!("{} is not a multiple of {m}", v.raw()));
                }
            }
            Kind::String => {
                let s = v.as_str().unwrap_or_default();
                if n.min_length.is_some() || n.max_length.is_some() {
                    let len = s.chars().count() as u64;
                    if let Some(min) = n.min_length {
                        check!(len >= min, "minLength", || format!("string of {len} characters is shorter than {min}"));
                    }
                    if let Some(max) = n.max_length {
                        check!(len <= max, "maxLength", || format!("string of {len} characters is longer than {max}"));
                    }
                }
                if let Some(re) = &n.pattern {
                    check!(re.is_match(s), "pattern", || format!(
                        "{} does not match /{}/",
                        describe_value(v),
                        re.as_str()
                    ));
                }
                if let Some(f) = n.format {
                    check!(f.is_valid(s), "format", || format!("{} is not a valid {}", describe_value(v), f.name()));
                }
            }
            Kind::Array => {
                let len = v.len() as u64;
                if let Some(min) = n.min_items {
                    check!(len >= min, "minItems", || format!("array of {len} items is shorter than {min}"));
                }
                if let Some(max) = n.max_items {
                    check!(len <= max, "maxItems", || format!("array of {len} items is longer than {max}"));
                }
                if n.more.unique_items {
                    check!(all_unique(v), "uniqueItems", || "array items are not unique".into());
                }
                if let Some((sub, min, max)) = n.more.contains {
                    let matched = v.elements().filter(|&e| self.probe(sub, e)).count() as u64;
                    check!(matched >= min, "contains", || {
                        format!("{matched} item(s) match `contains`, at least {min} must")
                    });
                    if let Some(max) = max {
                        check!(matched <= max, "maxContains", || {
                            format!("{matched} item(s) match `contains`, at most {max} may")
                        });
                    }
                }
                match &n.items {
                    Items::None => {}
                    Items::All(item) => {
                        for (i, e) in v.elements().enumerate() {
                            self.path.push(Seg::Index(i));
                            let good = self.node(*item, e, false);
                            self.path.pop();
                            if !good {
                                ok = false;
                                if self.stop() {
                                    return false;
                                }
                            }
                        }
                    }
                    Items::Tuple(list) => {
                        for (i, e) in v.elements().enumerate() {
                            let Some(&item) = list.get(i).or(n.additional_items.as_ref()) else { break };
                            self.path.push(Seg::Index(i));
                            let good = self.node(item, e, false);
                            self.path.pop();
                            if !good {
                                ok = false;
                                if self.stop() {
                                    return false;
                                }
                            }
                        }
                    }
                }
            }
            Kind::Object => {
                let closed =
                    if in_place || self.schema.options.allow_undeclared_fields { None } else { n.closed.as_deref() };
                // Records usually list fields in schema order: try the next property first.
                let mut hint = 0usize;
                let mut found_required = 0usize;
                for (key, member) in v.members() {
                    let declared = match n.properties.get(hint) {
                        Some((k, _)) if k == key => {
                            hint += 1;
                            Some(hint - 1)
                        }
                        _ => n.properties.iter().position(|(k, _)| k == key).inspect(|i| hint = i + 1),
                    };
                    if let Some(i) = declared
                        && n.required_props[i]
                    {
                        found_required += 1;
                    }
                    self.path.push(Seg::Key(key));
                    let mut by_pattern = false;
                    for (re, sub) in n.more.pattern_properties.iter() {
                        if re.is_match(key) {
                            by_pattern = true;
                            if !self.node(*sub, member, false) {
                                ok = false;
                                if self.stop() {
                                    self.path.pop();
                                    return false;
                                }
                            }
                        }
                    }
                    let verdict = match declared {
                        Some(i) => Some(n.properties[i].1),
                        None if by_pattern => None,
                        None => n.additional,
                    };
                    if let Some(sub) = verdict {
                        if !self.node(sub, member, false) {
                            ok = false;
                            if self.stop() {
                                self.path.pop();
                                return false;
                            }
                        }
                    } else if let Some(names) = closed
                        && !by_pattern
                        && names.binary_search_by(|x| x.as_str().cmp(key)).is_err()
                        && !n.closed_patterns.iter().any(|re| re.is_match(key))
                    {
                        ok = false;
                        if self.fail("additionalProperties", || "field is not declared in the schema".into()) {
                            self.path.pop();
                            return false;
                        }
                    }
                    self.path.pop();
                }
                let declared_required = n.required.len() - n.required_undeclared.len();
                if found_required < declared_required {
                    for (i, (name, _)) in n.properties.iter().enumerate() {
                        if n.required_props[i] && v.get(name).is_none() {
                            ok = false;
                            if self.fail_member(name, "required", || "required field is missing".into()) {
                                return false;
                            }
                        }
                    }
                }
                for name in &n.required_undeclared {
                    if v.get(name).is_none() {
                        ok = false;
                        if self.fail_member(name, "required", || "required field is missing".into()) {
                            return false;
                        }
                    }
                }
                if n.object_extras {
                    if n.more.min_properties.is_some() || n.more.max_properties.is_some() {
                        let count = v.members().count() as u64;
                        if let Some(min) = n.more.min_properties {
                            check!(count >= min, "minProperties", || format!(
                                "object of {count} fields has fewer than {min}"
                            ));
                        }
                        if let Some(max) = n.more.max_properties {
                            check!(count <= max, "maxProperties", || format!(
                                "object of {count} fields has more than {max}"
                            ));
                        }
                    }
                    for (trigger, names) in &n.more.dependent_required {
                        if v.get(trigger).is_some() {
                            for name in names {
                                if v.get(name).is_none() {
                                    ok = false;
                                    if self.fail_member(name, "dependentRequired", || {
                                        format!("required when {trigger:?} is present")
                                    }) {
                                        return false;
                                    }
                                }
                            }
                        }
                    }
                    for (trigger, sub) in &n.more.dependent_schemas {
                        if v.get(trigger).is_some() && !self.node(*sub, v, true) {
                            ok = false;
                            if self.stop() {
                                return false;
                            }
                        }
                    }
                    if let Some(sub) = n.more.property_names {
                        for (key, _) in v.members() {
                            check!(
                                name_allowed(self.schema, sub, key, self.depth, self.scope()),
                                "propertyNames",
                                || { format!("field name {key:?} does not match `propertyNames`") }
                            );
                        }
                    }
                }
            }
            _ => {}
        }
        // One test skips every applicator for the (usual) node that has none.
        if n.applicators {
            if let Some(target) = n.reference
                && !self.node(target, v, true)
            {
                ok = false;
                if self.stop() {
                    return false;
                }
            }
            if let Some((target, name)) = &n.more.dynamic_ref {
                let target = self.dynamic_target(*target, name.as_deref());
                if !self.node(target, v, true) {
                    ok = false;
                    if self.stop() {
                        return false;
                    }
                }
            }
            for &sub in &n.all_of {
                if !self.node(sub, v, true) {
                    ok = false;
                    if self.stop() {
                        return false;
                    }
                }
            }
            if let Some(sub) = n.more.not
                && self.probe(sub, v)
            {
                ok = false;
                if self.fail("not", || "matches the schema under `not`".into()) {
                    return false;
                }
            }
            if let Some((cond, then, otherwise)) = n.more.if_then_else {
                let branch = if self.probe(cond, v) { then } else { otherwise };
                if let Some(b) = branch
                    && !self.node(b, v, true)
                {
                    ok = false;
                    if self.stop() {
                        return false;
                    }
                }
            }
            if !n.any_of.is_empty() {
                let matched = n.any_of.iter().any(|&sub| self.probe(sub, v));
                if !matched {
                    ok = false;
                    let detail = self.branch_detail(&n.any_of, v);
                    if self
                        .fail("anyOf", || format!("matches none of the {} anyOf alternatives{detail}", n.any_of.len()))
                    {
                        return false;
                    }
                }
            }
            if !n.one_of.is_empty() {
                let matched = n.one_of.iter().filter(|&&sub| self.probe(sub, v)).count();
                if matched != 1 {
                    ok = false;
                    let detail = if matched == 0 { self.branch_detail(&n.one_of, v) } else { String::new() };
                    let count = n.one_of.len();
                    if self.fail("oneOf", || {
                        format!("matches {matched} of the {count} oneOf alternatives, expected exactly one{detail}")
                    }) {
                        return false;
                    }
                }
            }
            if n.more.unevaluated_properties.is_some() || n.more.unevaluated_items.is_some() {
                ok &= self.unevaluated(n, v);
            }
        }
        ok
    }

    /// `unevaluatedProperties`/`unevaluatedItems`: the members or elements that neither `n`'s own
    /// keywords nor its passing in-place applicators evaluated must satisfy the keyword's schema.
    /// The annotation walk runs only for schemas that use these keywords.
    #[inline(never)]
    fn unevaluated(&mut self, n: &SchemaNode, v: Value<'a>) -> bool {
        let (sub, keyword, message) = match v.kind() {
            Kind::Object => match n.more.unevaluated_properties {
                Some(sub) => (sub, "unevaluatedProperties", "field is not evaluated by any subschema"),
                None => return true,
            },
            Kind::Array => match n.more.unevaluated_items {
                Some(sub) => (sub, "unevaluatedItems", "item is not evaluated by any subschema"),
                None => return true,
            },
            _ => return true,
        };
        let mut marks = vec![false; v.len()];
        self.evaluated_by(n, v, &mut marks, false);
        let forbidden = self.schema.node(sub).always == Some(false);
        let mut ok = true;
        let children: Vec<(Seg<'a>, Value<'a>)> = if v.kind() == Kind::Object {
            v.members().map(|(k, m)| (Seg::Key(k), m)).collect()
        } else {
            v.elements().enumerate().map(|(i, e)| (Seg::Index(i), e)).collect()
        };
        for ((seg, child), done) in children.into_iter().zip(marks) {
            if done {
                continue;
            }
            self.path.push(seg);
            let good = if forbidden {
                self.fail(keyword, || message.into());
                false
            } else {
                self.node(sub, child, false)
            };
            self.path.pop();
            if !good {
                ok = false;
                if self.stop() {
                    return false;
                }
            }
        }
        ok
    }

    /// Marks the members (of an object) or elements (of an array) `n` evaluates: its own keywords,
    /// then the in-place applicators that pass. `nested`: whether `n`'s own `unevaluated*` counts
    /// (it does for subschemas, not for the node asking).
    #[inline(never)]
    fn evaluated_by(&mut self, n: &SchemaNode, v: Value<'a>, marks: &mut [bool], nested: bool) {
        match v.kind() {
            Kind::Object => {
                if n.additional.is_some() || (nested && n.more.unevaluated_properties.is_some()) {
                    marks.fill(true);
                    return;
                }
                for ((key, _), mark) in v.members().zip(marks.iter_mut()) {
                    if n.property(key).is_some() || n.more.pattern_properties.iter().any(|(re, _)| re.is_match(key)) {
                        *mark = true;
                    }
                }
            }
            Kind::Array => {
                let all = match &n.items {
                    Items::All(_) => true,
                    Items::Tuple(list) => {
                        marks.iter_mut().take(list.len()).for_each(|m| *m = true);
                        n.additional_items.is_some()
                    }
                    Items::None => false,
                };
                if all || (nested && n.more.unevaluated_items.is_some()) {
                    marks.fill(true);
                    return;
                }
                if let Some((sub, _, _)) = n.more.contains {
                    for (e, mark) in v.elements().zip(marks.iter_mut()) {
                        if !*mark && self.probe(sub, e) {
                            *mark = true;
                        }
                    }
                }
            }
            _ => return,
        }
        // In-place applicators whose annotations count when they pass (`if` is probed once, below).
        let mut passing: Vec<NodeId> = Vec::new();
        let mut candidates: Vec<NodeId> = Vec::new();
        candidates.extend(n.reference);
        if let Some((target, name)) = &n.more.dynamic_ref {
            candidates.push(self.dynamic_target(*target, name.as_deref()));
        }
        candidates.extend(n.all_of.iter().chain(&n.any_of).chain(&n.one_of));
        if let Some((cond, then, otherwise)) = n.more.if_then_else {
            if self.probe(cond, v) {
                passing.push(cond);
                candidates.extend(then);
            } else {
                candidates.extend(otherwise);
            }
        }
        for (trigger, sub) in &n.more.dependent_schemas {
            if v.get(trigger).is_some() {
                candidates.push(*sub);
            }
        }
        for sub in candidates {
            if self.probe(sub, v) {
                passing.push(sub);
            }
        }
        for sub in passing {
            let node = self.schema.node(sub);
            if node.always.is_some() {
                continue;
            }
            let entered = self.enter(node);
            self.evaluated_by(node, v, marks, true);
            if entered {
                self.scope.pop();
            }
        }
    }

    /// Evaluates a branch in fast mode, whatever mode this walk is in.
    fn probe(&mut self, id: NodeId, v: Value<'a>) -> bool {
        Walker::new(self.schema, None, self.depth, self.scope()).node(id, v, true)
    }

    /// The first error of each failed branch, for the anyOf/oneOf message.
    #[cold]
    #[inline(never)]
    fn branch_detail(&mut self, branches: &[NodeId], v: Value<'a>) -> String {
        if self.errors.is_none() {
            return String::new();
        }
        let mut parts = Vec::new();
        for (i, &b) in branches.iter().enumerate() {
            let mut errs = Vec::new();
            let mut w = Walker::new(self.schema, Some(&mut errs), self.depth, self.scope());
            w.path = self.path.clone();
            w.node(b, v, true);
            if let Some(e) = errs.first() {
                parts.push(format!("#{i}: {e}"));
            }
        }
        if parts.is_empty() { String::new() } else { format!(" ({})", parts.join("; ")) }
    }
}

/// Whether a number is an integral multiple of `m` (exact for integers; for fractions, up to the
/// rounding of the division, so 0.0075 is a multiple of 0.0001).
fn is_multiple(v: Value<'_>, m: f64) -> bool {
    if let Some(i) = v.as_i64()
        && m.fract() == 0.0
        && m <= i64::MAX as f64
    {
        return i % (m as i64) == 0;
    }
    let Some(x) = v.as_f64() else { return false };
    let q = x / m;
    q.is_finite() && (q - q.round()).abs() <= 1e-9 * q.abs().max(1.0)
}

/// Whether no two elements of an array are equal as JSON values (`1` equals `1.0`).
fn all_unique(v: Value<'_>) -> bool {
    let items: Vec<Value<'_>> = v.elements().collect();
    for (i, a) in items.iter().enumerate() {
        let Ok(a) = serde_json::from_str::<J>(a.raw()) else { return false };
        if items[i + 1..].iter().any(|b| json_eq(*b, &a)) {
            return false;
        }
    }
    true
}

/// Whether a field name satisfies the `propertyNames` schema `sub` (names are strings).
fn name_allowed(schema: &Schema, sub: NodeId, name: &str, depth: u32, scope: Vec<ResourceId>) -> bool {
    let mut tape = crate::json::Tape::default();
    let Ok(text) = serde_json::to_vec(name) else { return false };
    match tape.parse(&text) {
        Ok(value) => Walker::new(schema, None, depth, scope).node(sub, value, true),
        Err(_) => false,
    }
}

fn type_matches(types: u8, kind: Kind) -> bool {
    let bit = match kind {
        Kind::Null => ty::NULL,
        Kind::Bool => ty::BOOLEAN,
        Kind::Int => ty::INTEGER | ty::NUMBER,
        // An integer outside i64 cannot be stored as one; as a number it is a double.
        Kind::BigInt => ty::NUMBER,
        Kind::Float => ty::NUMBER,
        Kind::String => ty::STRING,
        Kind::Array => ty::ARRAY,
        Kind::Object => ty::OBJECT,
    };
    types & bit != 0
}

fn cmp_num(v: Value<'_>, b: Bound) -> Option<std::cmp::Ordering> {
    match (v.as_i64(), b) {
        (Some(i), Bound::Int(j)) => Some(i.cmp(&j)),
        _ => {
            let x = v.as_f64()?;
            let y = match b {
                Bound::Int(j) => j as f64,
                Bound::Float(f) => f,
            };
            x.partial_cmp(&y)
        }
    }
}

fn show(b: Bound) -> String {
    match b {
        Bound::Int(i) => i.to_string(),
        Bound::Float(f) => f.to_string(),
    }
}

/// JSON equality: numbers by value (`1 == 1.0`), objects regardless of member order.
pub(crate) fn json_eq(v: Value<'_>, e: &J) -> bool {
    match (v.kind(), e) {
        (Kind::Null, J::Null) => true,
        (Kind::Bool, J::Bool(b)) => v.as_bool() == Some(*b),
        (Kind::Int | Kind::Float | Kind::BigInt, J::Number(n)) => match (v.as_i64(), n.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => match (v.as_f64(), n.as_f64()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        },
        (Kind::String, J::String(s)) => v.as_str() == Some(s.as_str()),
        (Kind::Array, J::Array(list)) => v.len() == list.len() && v.elements().zip(list).all(|(a, b)| json_eq(a, b)),
        (Kind::Object, J::Object(map)) => {
            v.len() == map.len() && v.members().all(|(k, val)| map.get(k).is_some_and(|x| json_eq(val, x)))
        }
        _ => false,
    }
}

/// `string "3"`, `integer 3`, `object` — short enough for a log line.
pub(crate) fn describe_value(v: Value<'_>) -> String {
    let kind = v.kind().json_type();
    match v.kind() {
        Kind::Object | Kind::Array => kind.to_owned(),
        _ => {
            let raw = v.raw();
            if raw.chars().count() > 60 {
                let cut: String = raw.chars().take(57).collect();
                format!("{kind} {cut}...")
            } else {
                format!("{kind} {raw}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::json::Tape;
    use crate::schema::CompileOptions;

    /// A huge invalid record keeps at most [`MAX_ERRORS`] errors (plus a note), whatever the keyword.
    #[test]
    fn error_lists_are_bounded() {
        let doc = json!({
            "type": "object",
            "properties": {
                "xs": {"type": "array", "items": {"type": "integer"}},
                "m": {"type": "object", "patternProperties": {"^k": {"type": "integer"}}, "unevaluatedProperties": false}
            }
        });
        let schema = Schema::compile(&doc, "big.json", &CompileOptions::default()).unwrap();
        let items: Vec<String> = (0..10_000).map(|i| format!("\"{i}\"")).collect();
        let members: Vec<String> = (0..10_000).map(|i| format!("\"x{i}\": 1")).collect();
        let record = format!(r#"{{"xs": [{}], "m": {{{}}}}}"#, items.join(","), members.join(","));
        let mut tape = Tape::default();
        let errors = schema.validate(tape.parse(record.as_bytes()).unwrap());
        assert_eq!(errors.len(), MAX_ERRORS + 1);
        assert_eq!(errors[0].to_string(), r#"/xs/0: expected integer, got string "0""#);
        assert!(errors[MAX_ERRORS].message.contains("not listed"));
        let record = format!(r#"{{"m": {{{}}}}}"#, members.join(","));
        let errors = schema.validate(tape.parse(record.as_bytes()).unwrap());
        assert_eq!(errors.len(), MAX_ERRORS + 1);
        assert_eq!(errors[0].to_string(), "/m/x0: field is not evaluated by any subschema");
        assert_eq!(errors[0].keyword, "unevaluatedProperties");
    }
}
