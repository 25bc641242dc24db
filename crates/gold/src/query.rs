//! Local SQL over a lake: the catalog's tables, with the names Athena uses, in a DataFusion session.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow_schema::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig};
use eventlake_contract::Registry;
use eventlake_lake::Lake;

use crate::error::Result;
use crate::session::{LakeSession, SessionOptions};
use eventlake_lake::catalog::{CatalogTable, TableFormat, catalog};

/// A session with every table of the lake registered.
pub async fn lake_session(lake: &Lake, registry: &Registry, options: SessionOptions) -> Result<LakeSession> {
    lake_session_of(lake, &catalog(registry), options).await
}

/// A session with `tables` registered (a project's tables, from every source).
pub async fn lake_session_of(lake: &Lake, tables: &[CatalogTable], options: SessionOptions) -> Result<LakeSession> {
    let session = LakeSession::new(lake, options)?;
    for table in tables {
        register(&session, lake, table).await?;
    }
    Ok(session)
}

pub(crate) async fn register(session: &LakeSession, lake: &Lake, table: &CatalogTable) -> Result<()> {
    let mut fields: Vec<Field> = table.columns.iter().map(|c| c.arrow_field()).collect();
    // A table without files yet still answers queries (with no rows).
    if lake.list(&table.dir).await?.is_empty() {
        fields.extend(table.partitions.iter().map(|p| Field::new(p.name, DataType::Utf8, false)));
        let schema = Arc::new(Schema::new(fields));
        let empty = MemTable::try_new(schema.clone(), vec![vec![RecordBatch::new_empty(schema)]])?;
        session.ctx.register_table(table.name.as_str(), Arc::new(empty))?;
        return Ok(());
    }
    let partitions: Vec<(String, DataType)> =
        table.partitions.iter().map(|p| (p.name.to_owned(), DataType::Utf8)).collect();
    let options = match table.format {
        TableFormat::Parquet => ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet"),
        TableFormat::JsonLines => ListingOptions::new(Arc::new(JsonFormat::default())).with_file_extension(".jsonl"),
    }
    .with_table_partition_cols(partitions);
    let config = ListingTableConfig::new(session.folder_url(&table.dir)?)
        .with_listing_options(options)
        .with_schema(Arc::new(Schema::new(fields)));
    session.ctx.register_table(table.name.as_str(), Arc::new(ListingTable::try_new(config)?))?;
    Ok(())
}
