//! A DataFusion session over a lake: the same object store the jobs write to, a memory limit with
//! spilling to disk, and eventlake's SQL functions.

use std::sync::Arc;

use arrow_schema::{DataType, SchemaRef};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use eventlake_lake::Lake;
use object_store::path::Path;

use crate::error::{Error, Result};

/// How a session is sized.
#[derive(Debug, Clone, Copy)]
pub struct SessionOptions {
    /// Memory the engine may use before it spills to disk (`None`: unbounded).
    pub memory_limit: Option<usize>,
    /// Parallelism of plans.
    pub target_partitions: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            memory_limit: None,
            target_partitions: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// A DataFusion session that can read `lake`.
pub struct LakeSession {
    pub ctx: SessionContext,
    lake: Lake,
}

impl LakeSession {
    pub fn new(lake: &Lake, options: SessionOptions) -> Result<LakeSession> {
        let mut runtime = RuntimeEnvBuilder::new();
        if let Some(limit) = options.memory_limit {
            runtime = runtime.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
        }
        let runtime = runtime.build_arc()?;
        let partitions = options.target_partitions.max(1);
        let mut config = SessionConfig::new()
            .with_target_partitions(partitions)
            .with_information_schema(true)
            .set_bool("datafusion.execution.parquet.pushdown_filters", true)
            // Plain Utf8, as the writers produce, also for tables whose schema is inferred.
            .set_bool("datafusion.execution.parquet.schema_force_view_types", false);
        if let Some(limit) = options.memory_limit {
            // Each sort reserves memory for its merge up front; keep that a fraction of the limit
            // so small limits spill instead of failing.
            let reservation = (limit / (4 * partitions)).clamp(64 << 10, 10 << 20);
            config = config
                .set_usize("datafusion.execution.sort_spill_reservation_bytes", reservation)
                .set_usize("datafusion.execution.sort_in_place_threshold_bytes", reservation);
            // Smaller batches let a small budget hold the batches a merge keeps per spill file.
            if limit < (1 << 30) {
                config = config.with_batch_size(1024);
            }
        }
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        // The engine reads through the lake's own store: one S3 client and credential chain.
        if let Some(bucket) = lake.bucket_url() {
            let url = url::Url::parse(bucket)
                .map_err(|e| Error::Unqueryable { url: lake.url().into(), reason: e.to_string() })?;
            ctx.register_object_store(&url, lake.store().clone());
        }
        Ok(LakeSession { ctx, lake: lake.clone() })
    }

    /// The engine's URL of a lake folder.
    pub fn folder_url(&self, dir: &Path) -> Result<ListingTableUrl> {
        let url = format!("{}/", self.lake.url_of(dir));
        ListingTableUrl::parse(&url).map_err(Error::Engine)
    }

    /// Registers the Parquet files under `dir` (Hive partition folders `partition_cols`, all
    /// strings) as table `name`; `schema` is the data columns, `None` to infer it.
    pub async fn register_parquet(
        &self,
        name: &str,
        dir: &Path,
        schema: Option<SchemaRef>,
        partition_cols: &[&str],
    ) -> Result<()> {
        let url = self.folder_url(dir)?;
        // Plain Utf8 also when the schema is inferred (silver of a retired event schema).
        let format = ParquetFormat::default().with_force_view_types(false);
        let options = ListingOptions::new(Arc::new(format))
            .with_file_extension(".parquet")
            .with_table_partition_cols(partition_cols.iter().map(|c| ((*c).to_owned(), DataType::Utf8)).collect());
        let schema = match schema {
            Some(s) => s,
            None => options.infer_schema(&self.ctx.state(), &url).await?,
        };
        let config = ListingTableConfig::new(url).with_listing_options(options).with_schema(schema);
        let table = ListingTable::try_new(config)?;
        self.ctx.deregister_table(name)?;
        self.ctx.register_table(name, Arc::new(table))?;
        Ok(())
    }
}

/// Quotes an identifier for DataFusion SQL.
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}
