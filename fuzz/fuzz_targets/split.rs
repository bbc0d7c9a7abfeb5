#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| retort_fuzz::core_checks::split_statements(data));
