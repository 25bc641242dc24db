//! libFuzzer target: see `crates/contract/tests/fuzz_checks` for what must hold.
#![no_main]

#[path = "../../crates/contract/tests/fuzz_checks/mod.rs"]
#[allow(dead_code)]
mod fuzz_checks;

use std::sync::LazyLock;

use fuzz_checks::Checks;

static CHECKS: LazyLock<Checks> = LazyLock::new(|| {
    Checks::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/contract/tests/fixtures/seeds/babbel/schemas"))
});

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    CHECKS.verdicts(data);
});
