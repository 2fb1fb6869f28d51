//! The whole stdin-to-stdout path: any bytes give a ResourceList (items on success,
//! error results otherwise), never a panic; and a successful output is itself a
//! ResourceList the function accepts, with the same items after a second run.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harbor_buildkit_fn::testing::fuzzing::check_function(data);
});
