//! `doctor` against a registry and a second port on 127.0.0.1 that answer what the
//! input scripts (hostile realms, redirects, echoed passwords, malformed and large
//! headers, bytes that are not HTTP): it ends, never prints the password in any form,
//! and sends the credentials elsewhere only where it judged the realm right.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harbor_buildkit_fn::testing::fuzzing::check_doctor_server(data);
});
