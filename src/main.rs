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

Every run also predicts the Bearer realm Harbor will answer BuildKit with and checks
buildkitd.toml and Tekton's DOCKER_CONFIG (`check` runs these checks alone); `doctor`
probes a running registry the way buildctl authenticates to it.";

/// clap's default help layout, then `$tail` as written. clap wraps the rest of the
/// help to the terminal's width (at most 100 columns), after_help included, which
/// breaks a long example command in two; a template's literal text is never wrapped,
/// so examples and YAML print whole, one per line, ready to copy. (`$tail` must hold
/// no `{`: clap would read it as a template tag.)
macro_rules! help_with {
    ($($tail:expr),+) => {
        concat!(
            "{before-help}{about-with-newline}\n{usage-heading} {usage}\n\n{all-args}{after-help}\n\n",
            $($tail),+
        )
    };
}

#[derive(Parser)]
#[command(
    name = "harbor-buildkit-fn",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    help_template = help_with!("\
The functionConfig, in brief (README.md documents every field):

  apiVersion: fn.harbor-buildkit.dev/v1alpha1
  kind: HarborBuildkit
  metadata:
    name: harbor-buildkit
  spec:
    registry: harbor-core.default.svc.cluster.local  # required: host[:port] as images name it
    scheme: http                                      # http | https (default)
    namespace: ci                                     # for the BuildKit ConfigMap and the Task

Examples:
  # As kustomize runs it (generators: or transformers: with an exec function config):
  kustomize build --enable-alpha-plugins --enable-exec examples/kustomize/production/default

  # In a kpt package whose Kptfile pipeline has `- exec: harbor-buildkit-fn`:
  kpt fn render --allow-exec examples/kpt/ci-build

  # Once, on a kpt package, with the spec as key=value:
  kpt fn eval PKG --exec harbor-buildkit-fn -- registry=harbor-core.default.svc.cluster.local scheme=http namespace=ci

  # Without kustomize or kpt: a functionConfig file and resource files:
  harbor-buildkit-fn run examples/kpt/ci-build/harbor-buildkit.yaml examples/kpt/ci-build/harbor examples/kpt/ci-build/buildkit

  # A ResourceList by hand:
  harbor-buildkit-fn < examples/resource-lists/generator.yaml

  # Before deploy, the checks alone; after, a live probe:
  harbor-buildkit-fn check --planned examples/kpt/ci-build/harbor-buildkit.yaml examples/kpt/ci-build/harbor examples/kpt/ci-build/buildkit
  harbor-buildkit-fn doctor harbor-core.harbor.svc.cluster.local --scheme http"),
    propagate_version = true
)]
struct Cli {
    /// Explain a result code (HBF201, printed on every result) and exit; `all` prints
    /// the whole table (CODES.md).
    #[arg(long, value_name = "CODE", global = true)]
    explain: Option<String>,
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
stdin (also with `-` as the only PATH). Prints the resulting resources as a
multi-document YAML stream on stdout; warnings and errors print as lines on stderr,
and an error exits 1.

What is read:
  - regular files only: a FIFO, a device (/dev/zero) or a socket is refused (HBF012);
  - at most --max-input-size bytes in all, CONFIG, files and stdin together
    (HBF013);
  - in a folder, a symlink is followed only when its target, every link resolved,
    is in or below that folder (HBF014), as kustomize's loader allows; a path named
    on the command line is read wherever it is;
  - each folder and each file once: a link back to a folder already walked
    (a -> .), or to a file already read, is not followed again; the walk is in
    name order, so every run reads the same files in the same order.",
        help_template = help_with!("\
Examples:
  # Patch Harbor's rendered chart and add the BuildKit ConfigMap and the Task:
  harbor-buildkit-fn run examples/kpt/ci-build/harbor-buildkit.yaml examples/kpt/ci-build/harbor examples/kpt/ci-build/buildkit

  # Resources from a pipe, with a functionConfig that patches Harbor alone:
  kustomize build examples/kustomize/base/harbor | harbor-buildkit-fn run examples/kustomize/production/default/harbor-buildkit.yaml -

  # BuildKit's side alone (buildkitd.toml and the Task), wired into the daemon's manifests:
  harbor-buildkit-fn run examples/kustomize/dev/harbor-buildkit.yaml examples/kpt/ci-build/buildkit")
    )]
    Run {
        /// The functionConfig file.
        config: PathBuf,
        /// Resource files or folders; `-` (alone) or none: stdin.
        paths: Vec<PathBuf>,
        /// Also print info results (what was generated or patched).
        #[arg(short, long)]
        verbose: bool,
        /// The most bytes to read in all (CONFIG, the files, stdin); K, M and G are
        /// powers of 1024.
        #[arg(long, value_name = "SIZE", default_value = "128M", value_parser = max_input_size)]
        max_input_size: u64,
    },
    /// Check what Harbor and BuildKit will do with these manifests, without writing them.
    #[command(
        long_about = "\
Check what Harbor and BuildKit will do with these manifests, without writing them.

Runs the function and prints only its checks (the same ones every run adds to its
results). It judges the manifests in front of it: a change the function would make to
them is an error (HBF600, one per value: a render that skipped the function fails
here), and the checks below run on them as the function would leave them. With
--planned, only the checks: for a package's sources, before they are rendered.

  realm       the Bearer realm Harbor will answer BuildKit with, from CORE_URL and
              EXT_ENDPOINT in Harbor's core ConfigMap, by Harbor's match and
              tokenSvcURL (v2.14+ and v2.2-v2.13; the harbor-core image picks one);
  jobservice  jobservice's CORE_URL (its env, or <fullname>-jobservice-env) where it is
              not harbor-core's string: replication then misses the local Harbor;
  buildkitd   [registry.\"host\"] tables keyed with another port, http with insecure,
              http = true for an https registry or its absence for an http one;
  Tekton      a Task or TaskRun whose DOCKER_CONFIG is a Secret mount without
              config.json (a dockerconfigjson Secret holds .dockerconfigjson).

Input as for the function (a ResourceList on stdin) or as for `run` (CONFIG and
resource files). Exits 1 when a finding is an error. To probe a running registry
instead, see `harbor-buildkit-fn doctor`.",
        help_template = help_with!("\
Examples:
  # CI on what will be deployed: the rendered overlay, with the overlay's spec
  kustomize build --enable-alpha-plugins --enable-exec examples/kustomize/production/default | harbor-buildkit-fn check examples/kustomize/production/default/harbor-buildkit.yaml

  # A package's sources, before rendering: as the function would leave them
  harbor-buildkit-fn check --planned examples/kpt/ci-build/harbor-buildkit.yaml examples/kpt/ci-build/harbor examples/kpt/ci-build/buildkit

  # A kpt package, through kpt's own reader:
  kpt fn source examples/kpt/ci-build --fn-config examples/kpt/ci-build/harbor-buildkit.yaml | harbor-buildkit-fn check --planned

  # As KRM results (YAML), for CI annotations:
  harbor-buildkit-fn check --planned --format yaml < examples/resource-lists/harbor-chart.yaml")
    )]
    Check {
        /// The functionConfig file (default: a whole ResourceList on stdin).
        config: Option<PathBuf>,
        /// Resource files or folders; `-` (alone) or none: stdin, when CONFIG is given.
        paths: Vec<PathBuf>,
        /// How to print the findings.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Judge the manifests as the function would leave them: a change it would
        /// make is not an error (for a package's sources, before rendering).
        #[arg(long)]
        planned: bool,
        /// The most bytes to read in all (CONFIG, the files, stdin), as for `run`.
        #[arg(long, value_name = "SIZE", default_value = "128M", value_parser = max_input_size)]
        max_input_size: u64,
    },
    /// Probe a running registry the way buildctl authenticates to it.
    #[command(
        long_about = "\
Probe a running registry the way buildctl authenticates to it.

Four steps, each printed with its outcome, and the fix when it fails:

  1. GET /v2/ without credentials: 200 (no auth), or 401 with a Www-Authenticate
     challenge, or an answer that is not a registry's;
  2. the Bearer realm against the registry: buildctl fetches its token from the
     realm exactly as written, so its scheme and host must be the registry's.
     A mismatch is explained with the Harbor rule behind it (CORE_URL, EXT_ENDPOINT);
  3. a token from the realm, with the registry's credentials from the docker config
     (never printed: passwords, auth strings and tokens are masked everywhere, in
     every encoding); when step 2 judged the realm wrong (another host or port of
     Harbor, another scheme, https to plain http), without them: buildctl would
     send them there, doctor does not; a realm with user:password@ is refused;
  4. /v2/ (or the repository's tags list) again, with the token.

Redirects are followed (up to 10, as buildctl) and printed; the Authorization
header goes on to the same host only, never from https to http.

Run it where BuildKit runs (a pod in the cluster, as the last example shows) to see
what BuildKit sees; from a laptop, in-cluster names do not resolve. Exits 1 when a
step fails, 2 for bad arguments. No data is written to the registry.",
        help_template = help_with!("\
Examples:
  # The in-cluster Harbor the function was configured for:
  harbor-buildkit-fn doctor harbor-core.harbor.svc.cluster.local --scheme http

  # With the Task's Secret, and a repository to check pull/push rights on:
  kubectl -n ci get secret harbor-push -o yaml |
    harbor-buildkit-fn doctor harbor.example.com --docker-config - --repository library/app

  # A private CA:
  harbor-buildkit-fn doctor harbor.internal:8443 --ca-file ca.pem

  # From a pod in the cluster, where BuildKit runs (this tool's image; see README.md):
  kubectl run -n ci hbfn-doctor --rm -i --restart=Never --image=localhost/harbor-buildkit-fn:",
            env!("CARGO_PKG_VERSION"),
            " -- doctor harbor-core.harbor.svc.cluster.local --scheme http")
    )]
    Doctor {
        /// The registry as image references name it: host or host:port (no scheme).
        registry: String,
        /// How BuildKit reaches the registry (spec.scheme).
        #[arg(long, value_parser = ["http", "https"], default_value = "https")]
        scheme: String,
        /// A docker config (config.json, a folder holding one, or the Task's
        /// docker-registry Secret as `kubectl get secret -o yaml` prints it); `-` reads
        /// it from stdin. Default: $DOCKER_CONFIG, then ~/.docker. A regular file (or
        /// stdin) of at most 4 MiB.
        #[arg(long, value_name = "PATH")]
        docker_config: Option<PathBuf>,
        /// A repository (project/name) whose tags to list, asking for pull,push.
        #[arg(long, value_name = "NAME")]
        repository: Option<String>,
        /// Seconds to wait for each request (1 to 600).
        #[arg(long, default_value_t = 10, value_name = "SECS", allow_negative_numbers = true, value_parser = timeout_secs)]
        timeout: u64,
        /// PEM file with the CA(s) to trust for https, for the registry and its token
        /// realm alike, added to the system's roots (as buildctl and buildkitd add theirs);
        /// a regular file of at most 4 MiB.
        #[arg(long, value_name = "PATH")]
        ca_file: Option<PathBuf>,
        /// Skip TLS certificate checks (spec.insecureSkipVerify).
        #[arg(long)]
        insecure_skip_verify: bool,
    },
    /// Print the functionConfig's OpenAPI v3 schema (usable as a CRD's openAPIV3Schema).
    #[command(help_template = help_with!(
        "Example:\n  harbor-buildkit-fn schema --json > harbor-buildkit.schema.json"
    ))]
    Schema {
        /// JSON instead of YAML.
        #[arg(long)]
        json: bool,
    },
    /// Print the KRMFunctionDefinition that krm-fn.yaml holds.
    #[command(help_template = help_with!("Example:\n  harbor-buildkit-fn definition > krm-fn.yaml"))]
    Definition,
}

/// Why a `--timeout` is refused: its text, and whether it was a number at all.
#[derive(Debug)]
struct BadTimeout {
    text: String,
    number: bool,
}

impl std::fmt::Display for BadTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.text;
        if self.number {
            write!(f, "{s} is not in 1..=600 (seconds)")
        } else {
            write!(f, "{s:?} is not a whole number of seconds (1 to 600)")
        }
    }
}

impl std::error::Error for BadTimeout {}

/// `--timeout`: whole seconds from 1 to 600. Negative numbers reach this parser (not
/// clap's "to pass '-1' as a value, use '-- -1'" tip), so they get the range too.
fn timeout_secs(s: &str) -> Result<u64, BadTimeout> {
    let bad = |number| BadTimeout {
        text: s.to_string(),
        number,
    };
    match s.parse::<i64>() {
        Ok(n) if (1..=600).contains(&n) => u64::try_from(n).map_err(|_| bad(true)),
        Ok(_) => Err(bad(true)),
        Err(_) => Err(bad(false)),
    }
}

/// `--max-input-size`: a size of at least one byte.
fn max_input_size(s: &str) -> Result<u64, harbor_buildkit_fn::standalone::BadSize> {
    harbor_buildkit_fn::standalone::parse_size(s)
}

/// All of stdin, at most `limit` bytes. A terminal there, unless `-` asked for it
/// (`dash`), is refused with `on_terminal` (exit 2): the user most likely forgot the
/// input.
fn read_stdin(dash: bool, on_terminal: &str, limit: u64) -> Result<String, ExitCode> {
    if !dash && std::io::stdin().is_terminal() {
        eprintln!("{on_terminal}");
        return Err(ExitCode::from(2));
    }
    let bytes = match harbor_buildkit_fn::standalone::read_stdin(limit) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error[{}]: {e}", e.code());
            return Err(ExitCode::FAILURE);
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            eprintln!("error: cannot read stdin: {e}");
            Err(ExitCode::FAILURE)
        }
    }
}

/// `-` as the only resource path means stdin, as with no path; with other paths, or
/// as CONFIG, it is refused (stdin can be read once, and only for the resources).
fn stdin_paths(cmd: &str, config: Option<&PathBuf>, paths: &[PathBuf]) -> Result<bool, ExitCode> {
    let dash = |p: &PathBuf| p.as_os_str() == "-";
    if config.is_some_and(dash) {
        eprintln!(
            "harbor-buildkit-fn {cmd}: CONFIG must be a file; `-` (stdin) is for the resources: harbor-buildkit-fn {cmd} CONFIG -"
        );
        return Err(ExitCode::from(2));
    }
    match paths {
        [] => Ok(true),
        [p] if dash(p) => Ok(true),
        _ if paths.iter().any(dash) => {
            eprintln!(
                "harbor-buildkit-fn {cmd}: `-` (stdin) must be the only resource path; give either - or FILE and DIR arguments"
            );
            Err(ExitCode::from(2))
        }
        _ => Ok(false),
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// One line per finding, with the field and its proposed value.
    Text,
    /// A ResourceList whose results are the findings.
    Yaml,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(id) = cli.explain {
        return explain(&id);
    }
    match cli.command {
        None => function(),
        Some(Command::Run {
            config,
            paths,
            verbose,
            max_input_size,
        }) => {
            let from_stdin = match stdin_paths("run", Some(&config), &paths) {
                Ok(b) => b,
                Err(code) => return code,
            };
            let input = if from_stdin {
                match read_stdin(
                    !paths.is_empty(),
                    "harbor-buildkit-fn run: no resource paths given and stdin is a terminal; give FILE or DIR arguments, or pipe resources in (< /dev/null for none)",
                    max_input_size,
                ) {
                    Ok(text) => harbor_buildkit_fn::standalone::Input::Text(text),
                    Err(code) => return code,
                }
            } else {
                harbor_buildkit_fn::standalone::Input::Paths(paths)
            };
            let report = harbor_buildkit_fn::standalone::run_bounded(
                &config,
                input,
                verbose,
                max_input_size,
            );
            emit(&report.stdout, &report.stderr, report.exit_code)
        }
        Some(Command::Check {
            config,
            paths,
            format,
            planned,
            max_input_size,
        }) => check(config, paths, format, planned, max_input_size),
        Some(Command::Doctor {
            registry,
            scheme,
            docker_config,
            repository,
            timeout,
            ca_file,
            insecure_skip_verify,
        }) => {
            let registry =
                match harbor_buildkit_fn::registry(&registry, harbor_buildkit_fn::Via::Flag) {
                    Ok(r) => r,
                    Err(e) => {
                        let line = format!("error: REGISTRY {e}");
                        return emit("", &format!("{}\n", harbor_buildkit_fn::visible(&line)), 2);
                    }
                };
            if let Some(r) = &repository {
                if let Err(e) = harbor_buildkit_fn::repository(r) {
                    let line = format!("error: --repository {r:?} {e}");
                    return emit("", &format!("{}\n", harbor_buildkit_fn::visible(&line)), 2);
                }
            }
            let opts = harbor_buildkit_fn::doctor::Options {
                registry,
                scheme: if scheme == "http" {
                    harbor_buildkit_fn::Scheme::Http
                } else {
                    harbor_buildkit_fn::Scheme::Https
                },
                docker_config,
                repository,
                timeout: std::time::Duration::from_secs(timeout),
                ca_file,
                insecure_skip_verify,
            };
            let report = harbor_buildkit_fn::doctor::run(&opts);
            emit(&report.render(), "", i32::from(!report.passed()))
        }
        Some(Command::Schema { json }) => {
            let schema = harbor_buildkit_fn::describe::function_config_schema();
            let text = if json {
                serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
            } else {
                harbor_buildkit_fn::describe::yaml(&schema)
            };
            emit(&text, "", 0)
        }
        Some(Command::Definition) => emit(&harbor_buildkit_fn::describe::definition_yaml(), "", 0),
    }
}

/// `--explain CODE`: the code's entry; `all`: the whole table.
fn explain(id: &str) -> ExitCode {
    use harbor_buildkit_fn::codes;
    if id.eq_ignore_ascii_case("all") {
        return emit(&codes::markdown(), "", 0);
    }
    match codes::Code::parse(id) {
        Some(code) => emit(&codes::explain(code), "", 0),
        None => {
            let known: Vec<&str> = codes::TABLE.iter().map(|e| e.id).collect();
            emit(
                "",
                &format!(
                    "error: --explain {id:?} is not a result code; the codes are {} (or all)\n",
                    known.join(", ")
                ),
                2,
            )
        }
    }
}

/// `check`: the function's findings without its output.
fn check(
    config: Option<PathBuf>,
    paths: Vec<PathBuf>,
    format: Format,
    planned: bool,
    limit: u64,
) -> ExitCode {
    use harbor_buildkit_fn::standalone::{self, Input};
    let from_stdin = match stdin_paths("check", config.as_ref(), &paths) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let stdin_text = || {
        read_stdin(
            !paths.is_empty(),
            "harbor-buildkit-fn check: stdin is a terminal; pipe a ResourceList in, or give CONFIG [FILE|DIR ...] (see --help)",
            limit,
        )
    };
    let input = match config {
        None => match stdin_text() {
            Ok(t) => t,
            Err(code) => return code,
        },
        Some(config) => {
            let resources = if from_stdin {
                match stdin_text() {
                    Ok(t) => Input::Text(t),
                    Err(code) => return code,
                }
            } else {
                Input::Paths(paths)
            };
            match standalone::resource_list(&config, resources, limit) {
                Ok(rl) => rl,
                Err(e) => return emit("", &format!("error[{}]: {e}\n", e.code()), 1),
            }
        }
    };
    let judge = match planned {
        true => harbor_buildkit_fn::Judge::Planned,
        false => harbor_buildkit_fn::Judge::AsTheyAre,
    };
    let checked = harbor_buildkit_fn::check(input.as_bytes(), judge);
    let text = match format {
        Format::Yaml => harbor_buildkit_fn::results_yaml(&checked.results),
        Format::Text => harbor_buildkit_fn::report(&checked.results),
    };
    emit(&text, "", checked.exit_code)
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
    match harbor_buildkit_fn::run_to(&input, &mut out) {
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
