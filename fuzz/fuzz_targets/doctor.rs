//! What `doctor` reads from outside: a Www-Authenticate header and a docker config
//! never panic it, and parsed challenges read back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harbor_buildkit_fn::testing::fuzzing::check_doctor_input(data);
});
