//! The `harbor-buildkit-fn` binary: stdin to [`harbor_buildkit_fn::run`] to stdout.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

const USAGE: &str = "\
harbor-buildkit-fn: a KRM function that wires BuildKit in Tekton to a Harbor registry.

It reads a ResourceList on stdin and writes it back with:
  - Harbor's core ConfigMap patched (CORE_URL, TOKEN_SERVICE_URL) so that Harbor's
    Bearer realm carries the scheme and host BuildKit uses;
  - a ConfigMap with buildkitd.toml holding [registry.\"<host>\"];
  - a Tekton Task that copies .dockerconfigjson to $DOCKER_CONFIG/config.json and
    runs buildctl build with push and registry-cache options.

USAGE:
  harbor-buildkit-fn < resource-list.yaml
  kustomize build --enable-alpha-plugins --enable-exec DIR   (as a generator)
  kpt fn render --allow-exec PKG                            (in a Kptfile pipeline)
  kpt fn eval PKG --exec harbor-buildkit-fn -- registry=HOST scheme=http namespace=ci

functionConfig:
  apiVersion: fn.harbor-buildkit.dev/v1alpha1
  kind: HarborBuildkit
  metadata: {name: harbor-buildkit}
  spec:
    registry: harbor-core.default.svc.cluster.local   # required
    scheme: http                                       # http | https (default)
    namespace: ci                                      # default: default

See README.md for every field.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("-V" | "--version") => {
            println!("harbor-buildkit-fn {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("harbor-buildkit-fn: unknown argument {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
        None => {}
    }
    if std::io::stdin().is_terminal() {
        eprint!("harbor-buildkit-fn reads a ResourceList on stdin.\n\n{USAGE}");
        return ExitCode::from(2);
    }
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("harbor-buildkit-fn: cannot read stdin: {e}");
        return ExitCode::FAILURE;
    }
    let outcome = harbor_buildkit_fn::run(&input);
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(outcome.stdout.as_bytes())
        .and_then(|()| stdout.flush());
    if !outcome.stderr.is_empty() {
        eprint!("{}", outcome.stderr);
    }
    if let Err(e) = written {
        eprintln!("harbor-buildkit-fn: cannot write stdout: {e}");
        return ExitCode::FAILURE;
    }
    match outcome.exit_code {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}
