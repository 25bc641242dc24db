//! The bronze flags the hourly job reads with and the daily job checks completeness with.

use clap::Args;
use eventlake_lake::bronze::{ArrivalLayout, BronzeListing};

#[derive(Debug, Clone, Args)]
pub(crate) struct BronzeOpts {
    /// Bronze prefix under the lake root.
    #[arg(long, env = "EVENTLAKE_BRONZE_PREFIX", default_value_t = BronzeListing::default().prefix, value_parser = non_empty)]
    bronze_prefix: String,

    /// How arrival-hour folders are named under the prefix: `firehose` (`{YYYY}/{MM}/{DD}/{HH}`),
    /// `hive` (`yyyy={YYYY}/mm={MM}/dd={DD}/hh={HH}`), `dt-hour` (`dt={YYYY}-{MM}-{DD}/hour={HH}`), or
    /// any template with `{YYYY}`, `{MM}`, `{DD}` and `{HH}`.
    #[arg(long, env = "EVENTLAKE_BRONZE_LAYOUT", default_value = "firehose")]
    bronze_layout: ArrivalLayout,

    /// Folder names under an hour holding Firehose error output, not events (repeatable).
    #[arg(long = "error-prefix", env = "EVENTLAKE_ERROR_PREFIXES", value_delimiter = ',')]
    error_prefixes: Vec<String>,
}

impl BronzeOpts {
    pub(crate) fn listing(&self) -> BronzeListing {
        let error_prefixes: Vec<String> =
            self.error_prefixes.iter().filter(|p| !p.trim().is_empty()).cloned().collect();
        BronzeListing {
            prefix: self.bronze_prefix.clone(),
            layout: self.bronze_layout.clone(),
            error_prefixes: if error_prefixes.is_empty() {
                BronzeListing::default().error_prefixes
            } else {
                error_prefixes
            },
        }
    }
}

fn non_empty(s: &str) -> Result<String, String> {
    let t = s.trim().trim_matches('/');
    if t.is_empty() { Err("must not be empty".into()) } else { Ok(t.to_owned()) }
}
