//! `row_hash(col, ...)`: one 64-bit hash of a row's values, any types (structs and lists too).
//! The daily job compares it between deliveries of one event id to tell identical re-deliveries
//! from conflicting ones.

use std::sync::Arc;

use arrow::array::{ArrayRef, UInt64Array};
use arrow::datatypes::DataType;
use datafusion::common::hash_utils::{RandomState, create_hashes};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

/// The `row_hash` scalar function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct RowHash {
    signature: Signature,
}

impl RowHash {
    pub(crate) fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(RowHash { signature: Signature::variadic_any(Volatility::Immutable) })
    }
}

impl ScalarUDFImpl for RowHash {
    fn name(&self) -> &str {
        "row_hash"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::UInt64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays: Vec<ArrayRef> = args.args.iter().map(|a| a.clone().into_array(rows)).collect::<Result<Vec<_>>>()?;
        let mut hashes = vec![0u64; rows];
        create_hashes(&arrays, &RandomState::default(), &mut hashes)?;
        Ok(ColumnarValue::Array(Arc::new(UInt64Array::from(hashes))))
    }
}
