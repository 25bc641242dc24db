//! The JSON Schema dialects that load, chosen by `$schema` (none: 2020-12), and which keywords
//! each one has.

/// A JSON Schema dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draft {
    /// draft-04, and Snowplow Iglu's self-describing schemas (draft-04 plus a `self` block).
    Draft4,
    Draft6,
    Draft7,
    Draft2019,
    Draft2020,
}

impl Draft {
    /// draft-04 to draft-07: `$ref` overrides its siblings, `dependencies`, array-form `items`,
    /// plain-name fragments in `$id` instead of `$anchor`.
    pub(crate) fn legacy(self) -> bool {
        matches!(self, Draft::Draft4 | Draft::Draft6 | Draft::Draft7)
    }

    /// The keyword that gives a schema resource its URI.
    pub(crate) fn id_keyword(self) -> &'static str {
        if self == Draft::Draft4 { "id" } else { "$id" }
    }

    /// Whether `keyword` belongs to this dialect (keywords that came later are unknown to earlier
    /// ones, and the few that were replaced are unknown to later ones).
    pub(crate) fn has(self, keyword: &str) -> bool {
        match keyword {
            "const" | "contains" | "propertyNames" => self != Draft::Draft4,
            "if" | "then" | "else" => !matches!(self, Draft::Draft4 | Draft::Draft6),
            "dependencies" => self.legacy(),
            "prefixItems" | "$dynamicRef" | "$dynamicAnchor" => self == Draft::Draft2020,
            "$recursiveRef" | "$recursiveAnchor" => self == Draft::Draft2019,
            "additionalItems" => self != Draft::Draft2020,
            "minContains"
            | "maxContains"
            | "dependentRequired"
            | "dependentSchemas"
            | "unevaluatedProperties"
            | "unevaluatedItems"
            | "$anchor"
            | "$vocabulary"
            | "contentSchema" => !self.legacy(),
            _ => true,
        }
    }

    /// The `$schema` URI of this dialect's meta-schema.
    pub fn uri(self) -> &'static str {
        match self {
            Draft::Draft4 => "http://json-schema.org/draft-04/schema#",
            Draft::Draft6 => "http://json-schema.org/draft-06/schema#",
            Draft::Draft7 => "http://json-schema.org/draft-07/schema#",
            Draft::Draft2019 => "https://json-schema.org/draft/2019-09/schema",
            Draft::Draft2020 => "https://json-schema.org/draft/2020-12/schema",
        }
    }
}

/// `$schema` URIs of each dialect (compared without the empty fragment).
const DIALECTS: &[(&str, Draft)] = &[
    ("http://json-schema.org/draft-04/schema", Draft::Draft4),
    (IGLU_SELF_DESCRIBING, Draft::Draft4),
    ("http://json-schema.org/draft-06/schema", Draft::Draft6),
    ("http://json-schema.org/draft-07/schema", Draft::Draft7),
    ("https://json-schema.org/draft/2019-09/schema", Draft::Draft2019),
    ("https://json-schema.org/draft/2020-12/schema", Draft::Draft2020),
];

/// The Iglu self-describing meta-schema: its `self` block (vendor, name, format, version) is metadata.
pub(crate) const IGLU_SELF_DESCRIBING: &str =
    "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0";

/// The dialect a `$schema` URI names.
pub(crate) fn dialect_of(uri: &str) -> Option<Draft> {
    let uri = uri.strip_suffix('#').unwrap_or(uri);
    DIALECTS.iter().find(|(u, _)| *u == uri).map(|(_, d)| *d)
}

/// Whether a `$schema` URI is Iglu's self-describing meta-schema.
pub(crate) fn is_self_describing(uri: &str) -> bool {
    uri.strip_suffix('#').unwrap_or(uri) == IGLU_SELF_DESCRIBING
}
