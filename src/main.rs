//! The `harbor-buildkit-fn` binary: a thin command line over the library.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

const ABOUT: &str = "A KRM function that wires BuildKit in Tekton to a Harbor registry.";

const LONG_ABOUT: &str = "\
A KRM function that wires BuildKit in Tekton to a Harbor registry.

With no command it is the function itself: a ResourceList on stdin, a ResourceList on
stdout, as kustomize and kpt call it. From a HarborBuildkit functionConfig it adds or
patches three things:

  1. Harbor's core ConfigMap: CORE_URL and TOKEN_SERVICE_URL = <scheme>://<registry>,
     so Harbor's Bearer realm carries the scheme and host BuildKit uses (buildctl
     fetches tokens from that realm as written, outside buildkitd.toml);
  2. a ConfigMap with buildkitd.toml holding [registry.\"<registry>\"]: http = true
     for plain HTTP, ca = [...] for a private CA;
  3. a Tekton Task that copies the docker-registry Secret's .dockerconfigjson to
     $DOCKER_CONFIG/config.json and runs buildctl build with push and cache options.

Every other item leaves byte for byte as it came. Errors are results with
severity: error, the same lines on stderr, and exit code 1.

The functionConfig, in brief (README.md documents every field):

  apiVersion: fn.harbor-buildkit.dev/v1alpha1
  kind: HarborBuildkit
  metadata:
    name: harbor-buildkit
  spec:
    registry: harbor-core.default.svc.cluster.local  # required: host[:port] as images name it
    scheme: http                                      # http | https (default)
    namespace: ci                                     # for the BuildKit ConfigMap and the Task";

const EXAMPLES: &str = "\
Examples:
  # As kustomize runs it (generators: or transformers: with an exec function config):
  kustomize build --enable-alpha-plugins --enable-exec examples/kustomize/production/default

  # In a kpt package whose Kptfile pipeline has `- exec: harbor-buildkit-fn`:
  kpt fn render --allow-exec examples/kpt/ci-build

  # Once, on a kpt package, with the spec as key=value:
  kpt fn eval PKG --exec harbor-buildkit-fn -- registry=harbor-core.default.svc.cluster.local scheme=http namespace=ci

  # Without kustomize or kpt: a functionConfig file and resource files:
  harbor-buildkit-fn run examples/kpt/ci-build/harbor-buildkit.yaml examples/kpt/ci-build/harbor

  # A ResourceList by hand:
  harbor-buildkit-fn < examples/resource-lists/generator.yaml";

#[derive(Parser)]
#[command(
    name = "harbor-buildkit-fn",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run on a functionConfig file and plain resource files, without kustomize or kpt.
    #[command(
        long_about = "\
Run on a functionConfig file and plain resource files, without kustomize or kpt.

Reads CONFIG (a HarborBuildkit, or a ConfigMap with the same keys in data) and the
resources in each PATH: a YAML file (several documents allowed) or a folder, walked
for *.yaml and *.yml (dot-folders skipped). With no PATH, resources are read from
stdin. Prints the resulting resources as a multi-document YAML stream on stdout;
warnings and errors print as lines on stderr, and an error exits 1.",
        after_help = "\
Examples:
  # Patch Harbor's rendered chart and add the BuildKit ConfigMap and the Task:
  harbor-buildkit-fn run examples/kpt/ci-build/harbor-buildkit.yaml examples/kpt/ci-build/harbor

  # Only the generated resources (no input resources):
  harbor-buildkit-fn run functions/harbor-buildkit.yaml < /dev/null"
    )]
    Run {
        /// The functionConfig file.
        config: PathBuf,
        /// Resource files or folders (default: stdin).
        paths: Vec<PathBuf>,
        /// Also print info results (what was generated or patched).
        #[arg(short, long)]
        verbose: bool,
    },
    /// Print the functionConfig's OpenAPI v3 schema (usable as a CRD's openAPIV3Schema).
    #[command(
        after_help = "Example:\n  harbor-buildkit-fn schema --json > harbor-buildkit.schema.json"
    )]
    Schema {
        /// JSON instead of YAML.
        #[arg(long)]
        json: bool,
    },
    /// Print the KRMFunctionDefinition that krm-fn.yaml holds.
    #[command(after_help = "Example:\n  harbor-buildkit-fn definition > krm-fn.yaml")]
    Definition,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => function(),
        Some(Command::Run {
            config,
            paths,
            verbose,
        }) => {
            let input = if paths.is_empty() {
                if std::io::stdin().is_terminal() {
                    eprintln!(
                        "harbor-buildkit-fn run: no resource paths given and stdin is a terminal; give FILE or DIR arguments, or pipe resources in (< /dev/null for none)"
                    );
                    return ExitCode::from(2);
                }
                let mut text = String::new();
                if let Err(e) = std::io::stdin().read_to_string(&mut text) {
                    eprintln!("error: cannot read stdin: {e}");
                    return ExitCode::FAILURE;
                }
                harbor_buildkit_fn::standalone::Input::Text(text)
            } else {
                harbor_buildkit_fn::standalone::Input::Paths(paths)
            };
            let report = harbor_buildkit_fn::standalone::run(&config, input, verbose);
            emit(&report.stdout, &report.stderr, report.exit_code)
        }
        Some(Command::Schema { json }) => {
            let schema = harbor_buildkit_fn::describe::function_config_schema();
            let text = if json {
                serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
            } else {
                harbor_buildkit_fn::yaml::emit::document(&schema)
            };
            emit(&text, "", 0)
        }
        Some(Command::Definition) => emit(&harbor_buildkit_fn::describe::definition_yaml(), "", 0),
    }
}

/// The KRM function: ResourceList in, ResourceList out.
fn function() -> ExitCode {
    if std::io::stdin().is_terminal() {
        eprintln!(
            "harbor-buildkit-fn reads a ResourceList on stdin (as kustomize and kpt send it).\n\
             Try: harbor-buildkit-fn < examples/resource-lists/generator.yaml\n\
             or:  harbor-buildkit-fn run CONFIG [FILE|DIR ...]\n\
             See: harbor-buildkit-fn --help"
        );
        return ExitCode::from(2);
    }
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("harbor-buildkit-fn: cannot read stdin: {e}");
        return ExitCode::FAILURE;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    match harbor_buildkit_fn::function::run_to(&input, &mut out) {
        Ok(status) => emit("", &status.stderr, status.exit_code),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("harbor-buildkit-fn: cannot write stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

fn emit(stdout: &str, stderr: &str, code: i32) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let written = out.write_all(stdout.as_bytes()).and_then(|()| out.flush());
    if !stderr.is_empty() {
        eprint!("{stderr}");
    }
    if let Err(e) = written {
        // A closed pipe (`| head`) is not worth a second error.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("harbor-buildkit-fn: cannot write stdout: {e}");
            return ExitCode::FAILURE;
        }
    }
    match code {
        0 => ExitCode::SUCCESS,
        2 => ExitCode::from(2),
        _ => ExitCode::FAILURE,
    }
}
