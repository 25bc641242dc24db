//! Which bronze objects of an arrival hour are events: the listing the hourly job reads, records in
//! its manifest, and later compares against to find hours whose bronze changed after their run.

use crate::error::Result;
use crate::layout::{BronzeHour, Hour};
use crate::manifest::InputObject;
use crate::store::Lake;

/// Folder names Firehose uses for records it could not deliver; objects below them are not events.
pub const DEFAULT_ERROR_PREFIXES: &[&str] =
    &["processing-failed", "format-conversion-failed", "errors", "error", "http-endpoint-failed", "splunk-failed"];

/// Where a lake's bronze is and which of its folders are not events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BronzeListing {
    /// Prefix under the lake root (Firehose's `YYYY/MM/DD/HH/` follows it).
    pub prefix: String,
    /// Folder names under an hour whose objects are not events (Firehose error output).
    pub error_prefixes: Vec<String>,
}

impl Default for BronzeListing {
    fn default() -> Self {
        BronzeListing {
            prefix: crate::layout::DEFAULT_BRONZE_PREFIX.into(),
            error_prefixes: DEFAULT_ERROR_PREFIXES.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl BronzeListing {
    /// The event objects of one arrival hour, sorted by key.
    pub async fn list_hour(&self, lake: &Lake, hour: Hour) -> Result<Vec<InputObject>> {
        let dir = BronzeHour { prefix: &self.prefix, hour }.path();
        let objects = lake.list(&dir).await?;
        let mut out = Vec::new();
        for meta in objects {
            let rel: Vec<String> = meta
                .location
                .prefix_match(&dir)
                .map(|p| p.map(|x| x.as_ref().to_owned()).collect())
                .unwrap_or_default();
            let in_error_folder =
                rel.len() > 1 && rel[..rel.len() - 1].iter().any(|seg| self.error_prefixes.iter().any(|e| e == seg));
            // Temporary or hidden objects (`.staging/…`, `_temporary/…`, `.x.swp`) at any depth.
            let hidden = rel.iter().any(|seg| seg.starts_with('.') || seg.starts_with('_'));
            if in_error_folder || hidden {
                tracing::debug!(key = %meta.location, "skipping non-event object");
                continue;
            }
            out.push(InputObject { key: meta.location.to_string(), size: meta.size, etag: meta.e_tag.clone() });
        }
        Ok(out)
    }
}
