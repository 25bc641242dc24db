//! The contract flags every command that reads events shares: the schema folder, the envelope
//! field names and closed or open objects.

use anyhow::Context;
use clap::Args;
use eventlake_contract::{CompileOptions, Envelope, Registry, RegistryOptions, TimeFormat};

/// How schemas are compiled and which envelope fields an event carries.
#[derive(Debug, Clone, Args)]
pub(crate) struct ContractOpts {
    /// Follow the JSON Schema default (undeclared fields allowed) instead of closed objects.
    #[arg(long, env = "EVENTLAKE_ALLOW_UNDECLARED_FIELDS")]
    pub(crate) allow_undeclared_fields: bool,

    /// Your own schema keywords, accepted as annotations (e.g. `namespace,idl`); any other unknown
    /// keyword fails the load, so a typo never weakens a contract.
    #[arg(long, env = "EVENTLAKE_ANNOTATION_KEYWORDS", value_delimiter = ',')]
    pub(crate) annotation_keywords: Vec<String>,

    /// Envelope field holding the event id.
    #[arg(long, env = "EVENTLAKE_EVENT_ID_FIELD", default_value_t = Envelope::default().id)]
    pub(crate) event_id_field: String,

    /// The events carry no id: derive column `event_id` from each record's content (SHA-256 of
    /// the record with sorted keys and no whitespace), so the daily job still removes exact
    /// re-deliveries.
    #[arg(long, env = "EVENTLAKE_CONTENT_ID", conflicts_with = "event_id_field")]
    pub(crate) content_id: bool,

    /// Envelope field holding the event name.
    #[arg(long, env = "EVENTLAKE_EVENT_NAME_FIELD", default_value_t = Envelope::default().name)]
    pub(crate) event_name_field: String,

    /// Envelope field holding the creation time.
    #[arg(long, env = "EVENTLAKE_CREATED_AT_FIELD", default_value = "created_at")]
    pub(crate) created_at_field: String,

    /// How the creation time is spelled: `unix-seconds` (integer or float), `unix-millis`,
    /// `unix-micros`, `rfc3339`, or a strftime pattern such as `%Y-%m-%d %H:%M:%S`.
    #[arg(long, env = "EVENTLAKE_CREATED_AT_FORMAT", default_value = "unix-seconds")]
    pub(crate) created_at_format: String,

    /// Time zone of a pattern without `%z` (an IANA name such as `Europe/Berlin`; default UTC).
    #[arg(long, env = "EVENTLAKE_CREATED_AT_TIMEZONE")]
    pub(crate) created_at_timezone: Option<String>,
}

impl ContractOpts {
    pub(crate) fn registry_options(&self) -> anyhow::Result<RegistryOptions> {
        let time = TimeFormat::parse(&self.created_at_format, self.created_at_timezone.as_deref())
            .map_err(anyhow::Error::msg)
            .context("--created-at-format")?;
        Ok(RegistryOptions {
            compile: self.compile_options(),
            envelope: Envelope {
                id: if self.content_id { Envelope::DERIVED_ID.into() } else { self.event_id_field.clone() },
                name: self.event_name_field.clone(),
                created_at: Some(self.created_at_field.clone()),
                time,
                content_id: self.content_id,
            },
            entity: None,
        })
    }

    pub(crate) fn compile_options(&self) -> CompileOptions {
        CompileOptions {
            allow_undeclared_fields: self.allow_undeclared_fields,
            annotation_keywords: self
                .annotation_keywords
                .iter()
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .collect(),
        }
    }
}

/// Loads the registry of `dir`, naming the folder on failure.
pub(crate) fn load_registry(dir: &std::path::Path, options: &RegistryOptions) -> anyhow::Result<Registry> {
    Registry::load_dir(dir, options).with_context(|| format!("loading schemas from {}", dir.display()))
}
