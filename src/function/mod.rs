//! The pipeline: from a ResourceList in to a ResourceList out.
//!
//! ```text
//! read      krm::ResourceList          the items (identity + text), the functionConfig
//! spec      spec::parse                the validated Spec, all its problems at once
//! detect    <system>::detect           read-only: what the input holds of each system
//! plan      <system>::plan             each system's changes, from spec + topology
//! apply     function::apply            one applier: edits in place, refuses conflicts
//! check     <system>::check::run       findings on the output, generated items included
//! write     krm::write                 the items, the functionConfig, the results
//! ```
//!
//! Every step that can fail returns a [`Failure`] (at least one error result); a
//! failure stops before the first byte is written, and the output is then the error
//! results alone, never half an answer. Running the function on its own output
//! changes nothing: patched values are compared before they are written, and a
//! resource this function generated earlier is regenerated in place.

pub(crate) mod apply;
mod pending;

use crate::codes::Code;
use crate::krm::{self, Failure, FnResult, Mode, ResourceList, Severity};
use crate::output::Output;
use crate::plan::Plan;
use crate::spec::{self, Spec};
use crate::{buildkit, harbor, tekton};

/// What the process prints and how it exits.
#[derive(Debug)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
    /// The results written in `stdout`, for callers that show them another way.
    pub results: Vec<FnResult>,
}

/// The same, for [`run_to`], whose stdout went to a writer.
#[derive(Debug)]
pub struct Status {
    pub stderr: String,
    pub exit_code: i32,
    pub results: Vec<FnResult>,
}

/// Runs the function on `input` and returns everything it prints.
pub fn run(input: &[u8]) -> Outcome {
    let mut stdout = Vec::with_capacity(input.len() + 8192);
    // Writing to a Vec cannot fail.
    let status = run_to(input, &mut stdout).unwrap_or_else(|e| Status {
        stderr: e.to_string(),
        exit_code: 1,
        results: Vec::new(),
    });
    Outcome {
        stdout: String::from_utf8(stdout).unwrap_or_default(),
        stderr: status.stderr,
        exit_code: status.exit_code,
        results: status.results,
    }
}

/// Runs the function on `input`, streaming the output ResourceList to `out` (the
/// output is not held in memory). Everything that can fail is decided before the
/// first byte is written, so `out` never receives half an answer.
pub fn run_to(input: &[u8], out: &mut dyn std::io::Write) -> std::io::Result<Status> {
    let text = match krm::decode(input) {
        Ok(t) => t,
        Err(e) => return failure(input_error(e), Stderr::Lines, out),
    };
    let rl = match ResourceList::parse(&text) {
        Ok(rl) => rl,
        Err(e) => return failure(input_error(e), Stderr::Lines, out),
    };
    let mode = Mode::of_list(&rl);
    let stderr = Stderr::for_caller(mode);
    let done = match transform(&rl, mode) {
        Ok(done) => done,
        Err(f) => return failure(f, stderr, out),
    };
    if let Some(f) = Failure::from_results(done.findings.clone()) {
        return failure(f, stderr, out);
    }
    let mut results = done.results;
    results.extend(done.findings);
    krm::write(out, Some(&rl), &done.output.items, &results)?;
    Ok(Status {
        stderr: stderr.lines(&results, Severity::Warning),
        exit_code: 0,
        results,
    })
}

/// What goes to stderr besides the results. kustomize never shows a function's
/// `results`, only its stderr (kyaml `fn/runtime/exec`, `cmd.Stderr = os.Stderr`), so
/// errors and warnings are written there too; kpt prints both `results` and stderr
/// (`pkg/fn/runtime/runner.go`), so there the results alone say it, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stderr {
    Lines,
    Quiet,
}

impl Stderr {
    fn for_caller(mode: Mode) -> Stderr {
        if mode.shows_results() {
            Stderr::Quiet
        } else {
            Stderr::Lines
        }
    }

    /// One line per result of `at_least` this severity.
    fn lines(self, results: &[FnResult], at_least: Severity) -> String {
        let mut stderr = String::new();
        if self == Stderr::Lines {
            for r in results.iter().filter(|r| r.severity <= at_least) {
                stderr.push_str(&r.to_line());
                stderr.push('\n');
            }
        }
        stderr
    }
}

/// What `harbor-buildkit-fn check` reports: the findings of the checks on the output
/// this input would give, or the errors that stop the function before it gets there.
#[derive(Debug)]
pub struct Checked {
    pub results: Vec<FnResult>,
    pub exit_code: i32,
}

/// What `check` judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judge {
    /// The manifests as they are: a change the function would make is an error
    /// (`HBF600`), and the checks run on the manifests with it made.
    AsTheyAre,
    /// The manifests as the function would leave them (`check --planned`).
    Planned,
}

/// Runs the function on `input` for its checks alone; the output items are dropped.
pub fn check(input: &[u8], judge: Judge) -> Checked {
    let results = match krm::decode(input) {
        Err(e) => input_error(e).into_results(),
        Ok(text) => match ResourceList::parse(&text) {
            Err(e) => input_error(e).into_results(),
            Ok(rl) => match transform(&rl, Mode::of_list(&rl)) {
                Ok(done) => match judge {
                    Judge::AsTheyAre => {
                        let mut results = pending::changes(&done.output);
                        results.extend(done.findings);
                        results
                    }
                    Judge::Planned => done.findings,
                },
                Err(f) => f.into_results(),
            },
        },
    };
    let failed = results.iter().any(|r| r.severity == krm::Severity::Error);
    Checked {
        results,
        exit_code: i32::from(failed),
    }
}

fn input_error(e: krm::InputError) -> Failure {
    Failure::new(e.into())
}

/// An error outcome: the error results, no items (nothing half-made), exit 1.
fn failure(f: Failure, stderr: Stderr, out: &mut dyn std::io::Write) -> std::io::Result<Status> {
    let results = f.into_results();
    krm::write(out, None, &[], &results)?;
    Ok(Status {
        stderr: stderr.lines(&results, Severity::Error),
        exit_code: 1,
        results,
    })
}

/// A run that got as far as the checks.
struct Done<'r, 's> {
    output: Output<'r, 's>,
    /// What the spec and the plans say (warnings, what was generated or patched).
    results: Vec<FnResult>,
    /// The checks' findings on the output.
    findings: Vec<FnResult>,
}

/// What the input holds of the systems whose checks need it (Tekton's check reads
/// the output alone), found once.
struct Topology {
    harbor: harbor::Topology,
    buildkit: buildkit::Topology,
}

/// Read the spec, detect, plan, apply, check.
fn transform<'r, 's>(rl: &'r ResourceList<'s>, mode: Mode) -> Result<Done<'r, 's>, Failure> {
    let parsed = read_spec(rl)?;
    let spec = &parsed.spec;
    let (topology, plans) = detect_and_plan(rl, spec, mode)?;
    let mut results = parsed.warnings;
    for plan in &plans {
        results.extend(plan.results.iter().cloned());
    }
    let output = apply::apply(rl, plans)?;
    let mut findings = Vec::new();
    harbor::check::run(spec, &topology.harbor, &output, &mut findings);
    buildkit::check::run(spec, &topology.buildkit, &output, &mut findings);
    tekton::check::run(&spec.cluster, &output, &mut findings);
    tekton::auths::run(spec, &output, &mut findings);
    tekton::chain::run(spec, &topology.buildkit, &output, &mut findings);
    tekton::params::run(spec, &output, &mut findings);
    Ok(Done {
        output,
        results,
        findings,
    })
}

/// The functionConfig, validated.
fn read_spec(rl: &ResourceList) -> Result<spec::Parsed, Failure> {
    let Some(fc_span) = rl.function_config else {
        return Err(Failure::new(
            FnResult::error(
                Code::SpecMissing,
                format!(
                    "no functionConfig: give a {} ({}) with at least spec.registry",
                    spec::KIND,
                    spec::API_VERSION
                ),
            )
            .at("functionConfig"),
        ));
    };
    // Read again in full, from the whole document when it aliases an item's anchor.
    let namespaces = rl.namespaces();
    rl.read(&fc_span, |tree, fc| spec::parse(tree, fc, &namespaces))
        .map_err(|e| {
            Failure::new(
                // The whole input read before: a node of it that no longer reads is a bug.
                FnResult::error(
                    Code::Internal,
                    format!("internal: the functionConfig does not read again: {e}"),
                )
                .at("functionConfig"),
            )
        })?
}

/// Each system's topology and, for those the spec generates, its plan. Every
/// system's errors are reported together, in system order.
fn detect_and_plan(
    rl: &ResourceList,
    spec: &Spec,
    mode: Mode,
) -> Result<(Topology, Vec<Plan>), Failure> {
    let generate = spec.generate;
    let harbor = harbor::detect(rl, spec).and_then(|t| {
        let plan = match generate.harbor_core {
            true => Some(harbor::plan(rl, spec, &t, mode)?),
            false => None,
        };
        Ok((t, plan))
    });
    let buildkit = buildkit::detect(rl, spec).and_then(|t| {
        let plan = match generate.buildkitd_config {
            true => Some(buildkit::plan(rl, spec, &t, mode)?),
            false => None,
        };
        Ok((t, plan))
    });
    let tekton = tekton::detect(rl, spec).and_then(|t| {
        let plan = match (generate.task, &buildkit) {
            (true, Ok((b, _))) => Some(tekton::plan(rl, spec, &t, b)?),
            // BuildKit's failure is reported with its own errors.
            (true, Err(_)) | (false, _) => None,
        };
        Ok((t, plan))
    });
    let ((harbor, buildkit), tekton) = Failure::both(Failure::both(harbor, buildkit), tekton)?;
    let plans = [harbor.1, buildkit.1, tekton.1]
        .into_iter()
        .flatten()
        .collect();
    Ok((
        Topology {
            harbor: harbor.0,
            buildkit: buildkit.0,
        },
        plans,
    ))
}
