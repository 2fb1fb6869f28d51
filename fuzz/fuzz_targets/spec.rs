//! The functionConfig parser: any YAML as a functionConfig gives a spec or error
//! results naming fields, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harbor_buildkit_fn::testing::fuzzing::check_spec(data);
});
