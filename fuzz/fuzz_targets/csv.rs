//! libFuzzer target: see `crates/contract/tests/fuzz_checks` for what must hold.
#![no_main]

mod checks;

use checks::CHECKS;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    CHECKS.csv(data);
});
