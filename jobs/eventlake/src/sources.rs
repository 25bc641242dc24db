//! The sources a command works on: the default one the flags describe (its outputs at the lake
//! root, as always) and those a project file declares (each in `sources/<name>/`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use eventlake_contract::Registry;
use eventlake_contract::records::RecordFormat;
use eventlake_lake::Lake;
use eventlake_lake::bronze::BronzeListing;
use eventlake_lake::catalog::{CatalogTable, project_catalog};
use eventlake_lake::layout::source_root;
use eventlake_lake::project::load_project;

use crate::bronze::BronzeOpts;
use crate::schemas::{ContractOpts, load_registry};

/// The name `--source` gives the flags' source.
const DEFAULT_SOURCE: &str = "default";

/// Which sources a command reads: the flags' and a project file's.
#[derive(Debug, Clone, Args)]
pub(crate) struct SourceOpts {
    /// Folder of event schemas (scanned recursively for *.json): the default source, at the lake
    /// root. Optional with --config.
    #[arg(long, env = "EVENTLAKE_SCHEMAS", required_unless_present = "config")]
    pub(crate) schemas: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) contract: ContractOpts,

    /// Project file declaring the lake's sources (`eventlake.toml`, `[sources.<name>]` tables).
    #[arg(long, env = "EVENTLAKE_CONFIG")]
    pub(crate) config: Option<PathBuf>,

    /// Only these sources (comma separated; `default` is the one --schemas describes).
    #[arg(long = "source", env = "EVENTLAKE_SOURCE", value_delimiter = ',')]
    pub(crate) only: Vec<String>,
}

/// One source, ready to run.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// `None` for the flags' source.
    pub(crate) name: Option<String>,
    /// Where its outputs, manifests, leases and quarantine go.
    pub(crate) lake: Lake,
    pub(crate) registry: Arc<Registry>,
    pub(crate) bronze: BronzeListing,
    /// The bronze store when it is not the lake root's.
    pub(crate) bronze_store: Option<Lake>,
    pub(crate) format: RecordFormat,
}

impl Source {
    /// `source paidy` or `default source`, for messages.
    pub(crate) fn label(&self) -> String {
        self.name.as_ref().map_or_else(|| "default source".to_owned(), |n| format!("source {n}"))
    }
}

impl SourceOpts {
    /// Loads the selected sources; `bronze` (hourly and daily) describes the default source's.
    pub(crate) fn load(&self, lake: &Lake, bronze: Option<&BronzeOpts>) -> anyhow::Result<Vec<Source>> {
        let default = match &self.schemas {
            Some(dir) if self.only.is_empty() || self.only.iter().any(|o| o == DEFAULT_SOURCE) => Some(Source {
                name: None,
                lake: lake.clone(),
                registry: Arc::new(load_registry(dir, &self.contract.registry_options()?)?),
                bronze: bronze.map(BronzeOpts::listing).unwrap_or_default(),
                bronze_store: None,
                format: RecordFormat::Json,
            }),
            _ => None,
        };
        load_sources(lake, default, self.config.as_deref(), &self.only)
    }
}

/// The default source (if any) and the project file's sources that `only` selects (all when empty).
pub(crate) fn load_sources(
    lake: &Lake,
    default: Option<Source>,
    config: Option<&Path>,
    only: &[String],
) -> anyhow::Result<Vec<Source>> {
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let mut sources: Vec<Source> = default.into_iter().collect();
    let mut declared = Vec::new();
    if let Some(path) = config {
        for spec in load_project(path)? {
            declared.push(spec.name.clone());
            if !wanted(&spec.name) {
                continue;
            }
            let registry = load_registry(&spec.schemas, &spec.options)
                .with_context(|| format!("{}: source {:?}", path.display(), spec.name))?;
            // Bronze in the lake is read through the lake root; elsewhere, through its own store.
            let bronze_store = match &spec.bronze_url {
                Some(url) => Lake::open(url).with_context(|| format!("source {:?}: bronze", spec.name))?,
                None => lake.clone(),
            };
            sources.push(Source {
                lake: lake.scoped(&source_root(&spec.name)),
                registry: Arc::new(registry),
                bronze: spec.bronze,
                bronze_store: Some(bronze_store),
                format: spec.format,
                name: Some(spec.name),
            });
        }
    }
    let config_name = config.map_or_else(|| "the flags".to_owned(), |p| p.display().to_string());
    for o in only {
        if o != DEFAULT_SOURCE && !declared.contains(o) {
            bail!("--source {o:?}: no such source in {config_name}");
        }
    }
    if sources.is_empty() {
        bail!("no source selected: {config_name} declares none that --source names");
    }
    // Fails when two sources name one table.
    catalog_of(&sources)?;
    Ok(sources)
}

/// Every table of `sources`, with the names Athena and `eventlake query` use.
pub(crate) fn catalog_of(sources: &[Source]) -> anyhow::Result<Vec<CatalogTable>> {
    project_catalog(sources.iter().map(|s| (s.name.as_deref(), s.registry.as_ref()))).map_err(anyhow::Error::msg)
}
