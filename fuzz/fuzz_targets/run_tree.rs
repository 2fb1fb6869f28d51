//! `run` over folder trees the input describes (folders, resource files, junk,
//! symlinks to `.`, to a parent, out of the folder, to /dev/zero, into loops, FIFOs,
//! sparse files past the bound): it ends, reads nothing from outside the folder, reads
//! each file once, and a second run says the same.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harbor_buildkit_fn::testing::fuzzing::check_run_tree(data);
});
