//! What every target checks (`crates/contract/tests/fuzz_checks`), over the sample schemas.

#[path = "../../crates/contract/tests/fuzz_checks/mod.rs"]
#[allow(dead_code)]
mod fuzz_checks;

use std::sync::LazyLock;

pub(crate) use fuzz_checks::Checks;

pub(crate) static CHECKS: LazyLock<Checks> = LazyLock::new(|| {
    let schemas = "../crates/contract/tests/fixtures/seeds/babbel/schemas";
    Checks::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(schemas))
});
