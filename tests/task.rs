//! The generated Task is one Tekton accepts: it validates against Tekton's own v1 CRD
//! schema (v1.15.0), obeys the rules the CRD cannot express, passes shellcheck, and
//! never pastes a param into its script.

mod common;

use common::results::{self as res, Code};
use common::tekton::{StepRun, TaskRun, run_step};
use common::{example, find, items, run};
use serde_json::Value;

fn generated_task(example_file: &str) -> Value {
    common::modes::example_task(example_file)
}

/// Tekton's Task CRD, kept in the repository (tests/fixtures/tekton/README.md says
/// where it comes from and how to refresh it).
const CRD: &str = "tests/fixtures/tekton/task-crd-v1.15.0.yaml";

/// The CRD's v1 schema, with unknown fields refused.
fn v1_schema() -> Value {
    let path = common::root().join(CRD);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{CRD}: {e}"));
    let tree = harbor_buildkit_fn::testing::Tree::parse(&text).expect("CRD parses");
    let crd = tree
        .to_json(tree.root.expect("CRD is a document"))
        .expect("CRD converts");
    assert_eq!(crd["kind"], "CustomResourceDefinition", "{CRD}");
    assert_eq!(crd["metadata"]["name"], "tasks.tekton.dev", "{CRD}");
    let v1 = crd["spec"]["versions"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "v1"))
        .unwrap_or_else(|| panic!("{CRD} has no v1 version"))
        .clone();
    let mut schema = v1["schema"]["openAPIV3Schema"].clone();
    assert!(schema.is_object(), "{CRD}: v1 has no openAPIV3Schema");
    forbid_unknown_fields(&mut schema);
    schema
}

/// The API server prunes fields a structural schema does not name, silently: a typo in
/// a generated field would vanish. Make the schema say so instead.
fn forbid_unknown_fields(schema: &mut Value) {
    match schema {
        Value::Object(m) => {
            let preserves = m
                .get("x-kubernetes-preserve-unknown-fields")
                .is_some_and(|v| v == true);
            if m.contains_key("properties") && !m.contains_key("additionalProperties") && !preserves
            {
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
            for v in m.values_mut() {
                forbid_unknown_fields(v);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(forbid_unknown_fields),
        _ => {}
    }
}

#[test]
fn every_mode_validates_against_tekton_v1_crd_schema() {
    let schema = v1_schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    for (name, task) in every_mode() {
        let errors: Vec<String> = validator
            .iter_errors(&task)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
    // And the check can fail: a misspelled field is caught.
    let mut bad = generated_task("generator.yaml");
    bad["spec"]["steps"][0]["scirpt"] = Value::String("x".into());
    assert!(!validator.is_valid(&bad));
}

#[test]
fn every_mode_obeys_tekton_rules_the_schema_cannot_express() {
    for (name, task) in every_mode() {
        obeys_tekton_rules(&name, &task);
    }
    let task = generated_task("generator.yaml");
    let spec = &task["spec"];
    let declared = |list: &str| -> Vec<String> {
        spec[list]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| p["name"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        declared("params"),
        [
            "IMAGE",
            "CONTEXT",
            "DOCKERFILE",
            "CACHE_IMAGE",
            "BUILDKIT_HOST",
            "BUILDKIT_TLS_SERVER_NAME",
            "BUILDER_IMAGE",
            "PLATFORMS",
            "TARGET",
            "BUILD_ARGS",
            "EXTRA_ARGS"
        ]
    );
    assert_eq!(
        declared("workspaces"),
        [
            "source",
            "dockerconfig",
            "buildkit-client-certs",
            "registry-ca"
        ]
    );
    assert_eq!(declared("results"), ["IMAGE_DIGEST", "IMAGE_URL"]);
    assert_eq!(spec["workspaces"][1]["readOnly"], true);
    assert!(
        spec["workspaces"][1].get("optional").is_none(),
        "dockerconfig is required"
    );
    assert!(
        spec["params"][0].get("default").is_none(),
        "IMAGE is required"
    );
}

fn obeys_tekton_rules(what: &str, task: &Value) {
    assert_eq!(task["apiVersion"], "tekton.dev/v1");
    let spec = &task["spec"];
    let steps = spec["steps"].as_array().expect("steps");
    assert!(!steps.is_empty());
    let declared = |list: &str| -> Vec<String> {
        spec[list]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| p["name"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let params = declared("params");
    let workspaces = declared("workspaces");
    let results = declared("results");
    for step in steps {
        let name = step["name"].as_str().unwrap_or("");
        assert!(
            harbor_buildkit_fn::testing::dns1123_label(name).is_ok(),
            "{what}: {name}"
        );
        assert!(step["image"].is_string());
        assert!(step.get("command").is_none() || step.get("script").is_none());
        for m in step["volumeMounts"].as_array().into_iter().flatten() {
            let path = m["mountPath"].as_str().unwrap_or("");
            assert!(
                !path.starts_with("/tekton/") || path.starts_with("/tekton/home"),
                "{path}"
            );
        }
        assert_eq!(step["securityContext"]["runAsNonRoot"], true);
        // Every $(params.X), $(workspaces.X...), $(results.X...) names something declared.
        let text = serde_json::to_string(step).unwrap_or_default();
        for (prefix, names) in [
            ("$(params.", &params),
            ("$(workspaces.", &workspaces),
            ("$(results.", &results),
        ] {
            for (i, _) in text.match_indices(prefix) {
                let rest = &text[i + prefix.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                assert!(
                    names.contains(&name),
                    "{what}: {prefix}{name} is not declared"
                );
            }
        }
    }
    // Workspace names are unique, and so are mount paths: the workspaces' (at
    // /workspace/<name>) and the steps' volume mounts (tektoncd/pipeline
    // pkg/apis/pipeline/v1/task_validation.go validateDeclaredWorkspaces).
    let mut sorted = workspaces.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), workspaces.len(), "{what}: {workspaces:?}");
    let mut paths: Vec<String> = workspaces
        .iter()
        .map(|w| format!("/workspace/{w}"))
        .collect();
    for step in steps {
        for m in step["volumeMounts"].as_array().into_iter().flatten() {
            paths.push(
                m["mountPath"]
                    .as_str()
                    .unwrap_or("")
                    .trim_end_matches('/')
                    .to_string(),
            );
        }
    }
    let n = paths.len();
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), n, "{what}: a mount path twice");
    // Array params only as whole args elements (validateStepArrayUsage).
    for p in spec["params"].as_array().into_iter().flatten() {
        if p["type"] != "array" {
            continue;
        }
        let name = p["name"].as_str().unwrap_or("");
        let whole = format!("$(params.{name}[*])");
        for step in steps {
            let mut rest = step.clone();
            rest["args"] = Value::Null;
            assert!(
                !serde_json::to_string(&rest)
                    .unwrap_or_default()
                    .contains(&format!("$(params.{name}")),
                "{what}: array param {name} outside args"
            );
            for a in step["args"].as_array().into_iter().flatten() {
                let a = a.as_str().unwrap_or("");
                assert!(
                    !a.contains(&format!("$(params.{name}")) || a == whole,
                    "{what}: {a}"
                );
            }
        }
    }
}

/// The step's script text.
fn script(task: &Value) -> &str {
    task["spec"]["steps"][0]["script"]
        .as_str()
        .expect("a script")
}

/// Tekton pastes `$(params.X)` and its kin into a script's text before the shell reads
/// it, so a param there is code. Here params reach the step only as environment
/// variables and arguments: the script is the same text whatever the spec, holds
/// nothing Tekton substitutes, and no value of the spec appears in it; a spec value
/// that could be read as shell or as a Tekton variable is refused at its field.
#[test]
fn params_never_reach_the_script_text() {
    let mut tasks = every_mode();
    // Every value a spec can put into the Task, each unlike the others'.
    let varied = "registry: weird-registry.example.net:5443\nscheme: https\nnamespace: team-ci\ntaskName: img-build\nbuildkitHost: tcp://my-buildkitd.team-a.svc:4321\nbuildctlImage: registry.example.com/tools/buildkit:v0.26.3-rootless-4242\nbuildkitTlsServerName: buildkitd.team-a\ninsecureSkipVerify: true\nrunAsUser: 4242\ngenerate: [task]\n";
    let task = task_of(&[], varied);
    let text = task.to_string();
    for value in [
        "weird-registry.example.net:5443",
        "tcp://my-buildkitd.team-a.svc:4321",
        "registry.example.com/tools/buildkit:v0.26.3-rootless-4242",
        "buildkitd.team-a",
    ] {
        // It reached the Task (a param's default, an env value) ...
        assert!(text.contains(value), "{value} is not in the Task");
        // ... and not its script.
        assert!(!script(&task).contains(value), "{value} is in the script");
    }
    tasks.push(("varied".to_string(), task));
    let first = script(&tasks[0].1).to_string();
    for (name, task) in &tasks {
        assert_eq!(script(task), first, "{name}: the script differs");
    }
    for var in [
        "$(params.",
        "$(workspaces.",
        "$(results.",
        "$(context.",
        "$(steps.",
        "$(tasks.",
    ] {
        assert!(
            !first.contains(var),
            "Tekton would paste {var}...) into the script:\n{first}"
        );
    }
    // Shell and Tekton syntax in the spec's values is refused where it is written.
    for (field, value, code) in [
        (
            "buildkitHost",
            "tcp://buildkitd:1234/$(id)",
            Code::SpecBuildkitHost,
        ),
        (
            "buildkitHost",
            "tcp://buildkitd:1234;id",
            Code::SpecBuildkitHost,
        ),
        (
            "buildkitHost",
            "unix:///run/$(params.IMAGE)/buildkitd.sock",
            Code::SpecBuildkitHost,
        ),
        (
            "buildctlImage",
            "moby/buildkit:v0.26.3`id`",
            Code::SpecImage,
        ),
        ("buildkitTlsServerName", "buildkitd\\\"x", Code::SpecName),
        ("taskName", "build$(context.taskRun.name)", Code::SpecName),
        ("namespace", "ci'", Code::SpecName),
    ] {
        let out = run(&common::input(
            &[],
            &format!("registry: {HTTPS}\ngenerate: [task]\n{field}: \"{value}\"\n"),
        ));
        assert_eq!(out.exit_code, 1, "{field}: {value} accepted");
        let e = res::one(&out.results, code);
        assert_eq!(
            res::path(e),
            Some(format!("spec.{field}").as_str()),
            "{e:#?}"
        );
        assert!(!out.stdout.contains("kind: Task"), "{field}: {value}");
    }
}

/// A TaskRun's values are data too: shell syntax, Tekton variables and quotes in its
/// params reach buildctl as the very strings given, or are refused before buildctl
/// runs; none of them is ever run.
#[test]
fn hostile_param_values_reach_buildctl_as_given_or_are_refused() {
    let task = task_of(
        &[],
        &format!("registry: {HTTPS}\nscheme: https\ngenerate: [task]\n"),
    );
    let marker = common::TempDir::new("injection");
    let ran = |i: usize| marker.join(format!("ran-{i}")).display().to_string();
    let payloads = [
        format!("$(touch {})", ran(1)),
        format!("`touch {}`", ran(2)),
        format!("x; touch {}", ran(3)),
        format!("x\" && touch {} && \"", ran(4)),
        format!("x' ; touch {} ; '", ran(5)),
        "$(params.IMAGE) $(workspaces.source.path)".to_string(),
        "${HOME} $1 $@ *".to_string(),
        "two\nlines".to_string(),
    ];
    for p in &payloads {
        let run = creds(HTTPS)
            .param("CONTEXT", p.as_str())
            .param("BUILDKIT_HOST", p.as_str())
            .param("BUILD_ARGS", serde_json::json!([format!("A={p}")]))
            .param("EXTRA_ARGS", serde_json::json!([p]));
        let step = run_step(&task, &run);
        assert_ran(&step);
        assert_eq!(step.global(), ["--addr", p.as_str()], "{p}");
        let source = step.path("source");
        assert_eq!(
            step.values("--local")[0],
            format!("context={source}/{p}"),
            "{p}"
        );
        assert!(
            step.values("--opt")
                .contains(&format!("build-arg:A={p}").as_str()),
            "{p}: {:?}",
            step.argv
        );
        assert_eq!(step.argv.last(), Some(p), "{p}");

        // Where a value becomes an option's text, shell syntax is refused before
        // buildctl runs: IMAGE (--output), CACHE_IMAGE, PLATFORMS, TARGET.
        for (param, value) in [
            ("IMAGE", format!("{HTTPS}/app:{p}")),
            ("CACHE_IMAGE", format!("{HTTPS}/app:{p}")),
            ("PLATFORMS", format!("linux/amd64,{p}")),
            ("TARGET", p.clone()),
        ] {
            let step = run_step(&task, &creds(HTTPS).param(param, value.as_str()));
            assert!(!step.ok() && step.tool.is_none(), "{param}={value:?} ran");
        }
    }
    let left: Vec<_> = std::fs::read_dir(marker.path())
        .expect("the marker folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "a param value ran as a command: {left:?}");
}

#[test]
fn script_passes_shellcheck() {
    let dir = common::TempDir::new("shellcheck");
    let file = dir.join("build.sh");
    std::fs::write(&file, harbor_buildkit_fn::testing::task::SCRIPT).expect("write script");
    common::assert_lint_clean("shellcheck", &["--shell=sh", "--severity=style"], &file);
}

use common::modes::{HTTP, HTTPS, every_mode, mtls_daemon, task_of};

fn items_of(stdout: &str) -> Vec<Value> {
    items(stdout)
}

const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB (a test CA)\n-----END CERTIFICATE-----\n";

/// The credentials every run binds: a docker-registry Secret as the kubelet mounts it.
fn creds(registry: &str) -> TaskRun {
    TaskRun::default()
        .param("IMAGE", format!("{registry}/library/app:1"))
        .workspace("source", &[("Dockerfile", "FROM scratch\n")])
        .workspace(
            "dockerconfig",
            &[(
                ".dockerconfigjson",
                &format!("{{\"auths\":{{\"{registry}\":{{\"auth\":\"dTpw\"}}}}}}"),
            )],
        )
}

fn assert_ran(step: &StepRun) {
    assert!(step.ok(), "{}", step.stderr());
    let results = step.dir.join("results");
    assert_eq!(
        std::fs::read_to_string(results.join("IMAGE_DIGEST")).unwrap_or_default(),
        common::tekton::digest()
    );
}

/// The Task declares workspace `name`, and not as optional.
fn assert_required(task: &Value, name: &str) {
    let ws = task["spec"]["workspaces"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["name"] == name))
        .unwrap_or_else(|| panic!("no workspace {name}"));
    assert!(ws.get("optional").is_none(), "{name} is optional: {ws}");
}

/// The argv every build has, for `image` from the source workspace at `source`.
fn build_flags(step: &StepRun, image: &str, output_extra: &str) -> Vec<String> {
    let source = step.path("source");
    let metadata = step
        .values("--metadata-file")
        .first()
        .map(|s| s.to_string())
        .unwrap_or_default();
    [
        "build",
        "--frontend",
        "dockerfile.v0",
        "--local",
        &format!("context={source}/."),
        "--local",
        &format!("dockerfile={source}/."),
        "--opt",
        "filename=Dockerfile",
        "--output",
        &format!("type=image,name={image},push=true{output_extra}"),
        "--metadata-file",
        &metadata,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Plain: a plain-TCP daemon, a plain-HTTP registry, no daemon in the input (so no
/// buildkitd.toml is known to say http = true, and the flag stays).
#[test]
fn step_plain_tcp_daemon_and_http_registry() {
    let task = task_of(
        &[],
        &format!("registry: {HTTP}\nscheme: http\ngenerate: [task]\n"),
    );
    let image = format!("{HTTP}/library/app:1");
    let step = run_step(
        &task,
        &creds(HTTP).param("CACHE_IMAGE", format!("{HTTP}/library/app:cache")),
    );
    assert_ran(&step);
    assert_eq!(step.tool.as_deref(), Some("buildctl"));
    assert_eq!(step.global(), ["--addr", "tcp://buildkitd:1234"]);
    let mut want = build_flags(&step, &image, ",registry.insecure=true");
    want.extend(
        [
            "--import-cache",
            &format!("type=registry,ref={HTTP}/library/app:cache,registry.insecure=true"),
            "--export-cache",
            &format!(
                "type=registry,ref={HTTP}/library/app:cache,mode=max,image-manifest=true,oci-mediatypes=true,registry.insecure=true"
            ),
        ]
        .map(String::from),
    );
    assert_eq!(step.argv[step.global().len()..], want[..]);
    // The metadata file is in the step's own TMPDIR, the emptyDir.
    let tmp = step.dir.join("mnt/tmp").display().to_string();
    assert!(
        step.values("--metadata-file")[0].starts_with(&format!("{tmp}/")),
        "{:?}",
        step.argv
    );
    // The credentials are where buildctl reads them.
    let docker = step.dir.join("mnt/docker-config/config.json");
    assert!(
        std::fs::read_to_string(docker)
            .unwrap_or_default()
            .contains(HTTP)
    );
}

/// With the daemon's manifests in the input, the function wires http = true into the
/// file the daemon reads, so pushes carry no registry.insecure=true (which would
/// replace that table); the daemon demands client certificates, so the workspace is
/// required, and its files reach buildctl as --tlsdir, before `build`.
#[test]
fn step_mtls_daemon() {
    let task = task_of(
        &mtls_daemon(),
        &format!(
            "registry: {HTTP}\nscheme: http\ngenerate: [buildkitdConfig, task]\nbuildkitTlsServerName: buildkitd\n"
        ),
    );
    assert_required(&task, "buildkit-client-certs");
    let files = [("ca.pem", CA), ("cert.pem", CA), ("key.pem", "KEY")];
    let step = run_step(
        &task,
        &creds(HTTP).workspace("buildkit-client-certs", &files),
    );
    assert_ran(&step);
    let dir = step.path("buildkit-client-certs");
    assert_eq!(
        step.global(),
        tls_globals(&dir, ["ca.pem", "cert.pem", "key.pem"])
    );
    let image = format!("{HTTP}/library/app:1");
    assert_eq!(
        step.argv[step.global().len()..],
        build_flags(&step, &image, "")[..]
    );
    // A kubernetes.io/tls Secret's names work too, each file given by name: --tlsdir
    // reads them from v0.21.1 only, and v0.21.0's reads no folder at all (moby/buildkit
    // cmd/buildctl/common/common.go).
    let tls = [("ca.crt", CA), ("tls.crt", CA), ("tls.key", "KEY")];
    let step = run_step(&task, &creds(HTTP).workspace("buildkit-client-certs", &tls));
    assert_ran(&step);
    let dir = step.path("buildkit-client-certs");
    assert_eq!(
        step.global(),
        tls_globals(&dir, ["ca.crt", "tls.crt", "tls.key"])
    );
    assert!(
        !step.argv.iter().any(|a| a == "--tlsdir"),
        "{:?}",
        step.argv
    );
    // A Secret without the key: said before buildctl runs.
    let step = run_step(
        &task,
        &creds(HTTP).workspace("buildkit-client-certs", &files[..2]),
    );
    assert!(!step.ok());
    assert!(step.tool.is_none());
    assert!(
        step.stderr().contains("holds neither key.pem nor tls.key"),
        "{}",
        step.stderr()
    );
}

/// buildctl's global flags for the mTLS daemon of [`mtls_daemon`], with the CA,
/// certificate and key files `files` of the client-cert workspace at `dir`.
fn tls_globals(dir: &str, files: [&str; 3]) -> Vec<String> {
    let mut flags = vec![
        "--addr".to_string(),
        "tcp://buildkitd.buildkit.svc:1234".to_string(),
    ];
    for (flag, file) in ["--tlscacert", "--tlscert", "--tlskey"]
        .into_iter()
        .zip(files)
    {
        flags.extend([flag.to_string(), format!("{dir}/{file}")]);
    }
    flags.extend(["--tlsservername".to_string(), "buildkitd".to_string()]);
    flags
}

/// https with a private CA: buildctl fetches the token itself, so the CA reaches it
/// from the (required) registry-ca workspace, keyed by the registry's host without a
/// scheme, which is what buildctl matches (moby/buildkit
/// session/auth/authprovider/authprovider.go: `tlsConfigs[host]`).
#[test]
fn step_https_with_a_private_ca() {
    let task = task_of(
        &[],
        &format!("registry: {HTTPS}\nscheme: https\nca: [/certs/ca.crt]\ngenerate: [task]\n"),
    );
    assert_required(&task, "registry-ca");
    let step = run_step(
        &task,
        &creds(HTTPS).workspace("registry-ca", &[("ca.crt", CA)]),
    );
    assert_ran(&step);
    let ca = format!("{}/ca.crt", step.path("registry-ca"));
    assert_eq!(step.global(), ["--addr", "tcp://buildkitd:1234"]);
    let mut want = build_flags(&step, &format!("{HTTPS}/library/app:1"), "");
    want.extend([
        "--registry-auth-tlscontext".to_string(),
        format!("host={HTTPS},ca={ca}"),
    ]);
    assert_eq!(step.argv[step.global().len()..], want[..]);
    // A workspace with no CA in it is refused before buildctl runs.
    let step = run_step(
        &task,
        &creds(HTTPS).workspace("registry-ca", &[("README", "x")]),
    );
    assert!(!step.ok() && step.tool.is_none());
    assert!(
        step.stderr().contains("holds no *.crt or *.pem file"),
        "{}",
        step.stderr()
    );
}

/// insecureSkipVerify reaches buildctl's token fetch as insecure=true.
#[test]
fn step_https_skip_verify() {
    let task = task_of(
        &[],
        &format!("registry: {HTTPS}\nscheme: https\ninsecureSkipVerify: true\ngenerate: [task]\n"),
    );
    let step = run_step(&task, &creds(HTTPS));
    assert_ran(&step);
    assert_eq!(
        step.values("--registry-auth-tlscontext"),
        [format!("host={HTTPS},insecure=true").as_str()]
    );
    assert!(
        !step.argv.iter().any(|a| a.contains("registry.insecure")),
        "{:?}",
        step.argv
    );
}

/// Daemonless: buildctl-daemonless.sh with the rootless flags and the generated file,
/// mounted from the Task's namespace; no address, no TLS, and http = true is in place
/// in the step's own buildkitd, so no registry.insecure=true.
#[test]
fn step_daemonless() {
    let out = run(&common::input(
        &mtls_daemon(),
        &format!(
            "registry: {HTTP}\nscheme: http\nnamespace: ci\ndaemonless: true\ngenerate: [buildkitdConfig, task]\n"
        ),
    ));
    assert_eq!(out.exit_code, 0, "{}", out.stderr);
    let items = items_of(&out.stdout);
    // The file is in the Task's namespace; the daemon in the input is left alone.
    let cm = find(&items, "ConfigMap", "buildkitd-config");
    assert_eq!(cm["metadata"]["namespace"], "ci");
    assert!(
        !out.stdout.contains("harbor-buildkit-config"),
        "the daemon was wired"
    );
    let task = find(&items, "Task", "buildkit-build").clone();
    let step_spec = &task["spec"]["steps"][0];
    assert_eq!(
        step_spec["securityContext"]["seccompProfile"]["type"],
        "Unconfined"
    );
    // AppArmor as the Task's annotation only, which Tekton carries to the pod: the
    // securityContext field is refused by every Tekton before v0.69
    // (tests/tekton_versions.rs).
    assert!(
        step_spec["securityContext"]
            .get("appArmorProfile")
            .is_none(),
        "{step_spec}"
    );
    assert_eq!(step_spec["securityContext"]["runAsUser"], 1000);
    assert_eq!(
        task["metadata"]["annotations"]["container.apparmor.security.beta.kubernetes.io/step-build-and-push"],
        "unconfined"
    );
    let volumes = task["spec"]["volumes"].to_string();
    assert!(
        volumes.contains("\"name\":\"buildkitd-config\""),
        "{volumes}"
    );
    for absent in ["BUILDKIT_HOST", "BUILDKIT_TLS_SERVER_NAME"] {
        assert!(!task["spec"]["params"].to_string().contains(absent));
    }
    let step = run_step(&task, &creds(HTTP));
    assert_ran(&step);
    assert_eq!(step.tool.as_deref(), Some("buildctl-daemonless.sh"));
    // The config path is the mount's (its folder here, as the harness maps mounts).
    let config = step.dir.join("mnt/buildkit-config/buildkitd.toml");
    assert_eq!(
        step.buildkitd_flags,
        format!(
            "--oci-worker-no-process-sandbox --config={}",
            config.display()
        )
    );
    assert_eq!(
        step.argv,
        build_flags(&step, &format!("{HTTP}/library/app:1"), "")
    );
    // What the cluster must allow is said, in the results: the step's buildkitd reads
    // the generated file, and the namespace must admit it.
    res::one(&out.results, Code::BuildkitDaemonless);
    let allow = res::one(&out.results, Code::TektonDaemonless);
    assert_eq!(
        allow.severity,
        harbor_buildkit_fn::Severity::Info,
        "{allow:#?}"
    );
}

/// The catalog's knobs: a multi-platform push, build args (an array), a target,
/// another builder image; EXTRA_ARGS still last.
#[test]
fn step_multi_platform_with_build_args_and_target() {
    let task = task_of(
        &[],
        &format!("registry: {HTTPS}\nscheme: https\ngenerate: [task]\n"),
    );
    let run = creds(HTTPS)
        .param("PLATFORMS", "linux/amd64,linux/arm64")
        .param("TARGET", "runtime")
        .param(
            "BUILD_ARGS",
            serde_json::json!(["VERSION=1.2", "NOTE=two words", "EMPTY="]),
        )
        .param("EXTRA_ARGS", serde_json::json!(["--no-cache"]));
    let step = run_step(&task, &run);
    assert_ran(&step);
    let mut want = build_flags(&step, &format!("{HTTPS}/library/app:1"), "");
    want.extend(
        [
            "--opt",
            "platform=linux/amd64,linux/arm64",
            "--opt",
            "target=runtime",
            "--opt",
            "build-arg:VERSION=1.2",
            "--opt",
            "build-arg:NOTE=two words",
            "--opt",
            "build-arg:EMPTY=",
            "--no-cache",
        ]
        .map(String::from),
    );
    assert_eq!(step.argv[step.global().len()..], want[..]);
    assert_eq!(task["spec"]["steps"][0]["image"], "$(params.BUILDER_IMAGE)");
}

/// What the step refuses before buildctl runs, each with a message that says why.
#[test]
fn step_refuses_what_would_fail_later() {
    let task = task_of(
        &[],
        &format!("registry: {HTTPS}\nscheme: https\ngenerate: [task]\n"),
    );
    let refused = |run: TaskRun, needle: &str| {
        let step = run_step(&task, &run);
        assert!(!step.ok(), "{needle}: ran");
        assert!(step.tool.is_none(), "{needle}: buildctl ran");
        assert!(
            step.stderr().contains(needle),
            "{needle}: {}",
            step.stderr()
        );
    };
    // An empty Secret, or one of another kind: the push would be anonymous (401).
    refused(
        creds(HTTPS).workspace("dockerconfig", &[(".dockerconfigjson", "")]),
        "holds no \"auths\"",
    );
    refused(
        creds(HTTPS).workspace("dockerconfig", &[("token", "x")]),
        "holds neither .dockerconfigjson nor config.json",
    );
    // A comma in IMAGE would smuggle in buildctl options.
    refused(
        creds(HTTPS).param("IMAGE", format!("{HTTPS}/app:1,push=false")),
        "is not an image reference",
    );
    refused(
        creds(HTTPS).param("BUILD_ARGS", serde_json::json!(["--secret"])),
        "BUILD_ARGS entry --secret is not KEY=VALUE",
    );
    refused(
        creds(HTTPS).param("PLATFORMS", "linux/amd64 linux/arm64"),
        "PLATFORMS",
    );
    refused(
        creds(HTTPS).param("TARGET", "a,b"),
        "TARGET a,b is not a build stage name",
    );
}

/// The step's uid: the rootless image's by default, another, or the platform's.
#[test]
fn step_uid_is_configurable_or_left_to_the_platform() {
    let sc = |extra: &str| {
        let task = task_of(
            &[],
            &format!("registry: {HTTPS}\ngenerate: [task]\n{extra}"),
        );
        task["spec"]["steps"][0]["securityContext"].clone()
    };
    assert_eq!(sc("")["runAsUser"], 1000);
    assert_eq!(sc("runAsUser: 1001\n")["runAsGroup"], 1001);
    let platform = sc("runAsUser: platform\n");
    assert!(platform.get("runAsUser").is_none() && platform.get("runAsGroup").is_none());
    assert_eq!(platform["runAsNonRoot"], true);
    // The ConfigMap form gives it as a string.
    let out = run(&common::ResourceList::new()
        .function_config("functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n  data: {registry: harbor.example.com, generate: task, runAsUser: \"2000\"}\n")
        .build());
    assert_eq!(out.exit_code, 0, "{}", out.stderr);
    assert_eq!(
        find(&items(&out.stdout), "Task", "buildkit-build")["spec"]["steps"][0]["securityContext"]
            ["runAsUser"],
        2000
    );
}

/// Keys BuildKit reads from a `[registry."host"]` table; anything else BuildKit would
/// ignore without a word.
use common::buildkit_examples::REGISTRY_KEYS;

#[test]
fn buildkitd_toml_parses_and_uses_only_keys_buildkit_knows() {
    for file in [
        "generator.yaml",
        "https-kpt-package.yaml",
        "configmap-function-config.yaml",
        "existing-buildkitd-toml.yaml",
    ] {
        let out = run(&example(file));
        let cm = find(&items(&out.stdout), "ConfigMap", "buildkitd-config").clone();
        let text = cm["data"]["buildkitd.toml"].as_str().expect("toml text");
        let doc: toml_edit::DocumentMut = text.parse().expect("toml parses");
        let registry = doc["registry"].as_table_like().expect("registry table");
        for (host, table) in registry.iter() {
            let table = table.as_table_like().expect("host table");
            for (key, _) in table.iter() {
                assert!(
                    REGISTRY_KEYS.contains(&key),
                    "{file}: registry.{host:?}.{key} is not a BuildKit key"
                );
            }
        }
        let ours = registry
            .get("harbor-core.default.svc.cluster.local")
            .or_else(|| registry.get("harbor.clusters.zjusct.io"))
            .or_else(|| registry.get("harbor-core.harbor.svc.cluster.local"))
            .and_then(|t| t.as_table_like())
            .expect("our table");
        let http = ours.get("http").and_then(|v| v.as_bool());
        let insecure = ours.get("insecure").and_then(|v| v.as_bool());
        assert!(
            !(http == Some(true) && insecure == Some(true)),
            "{file}: http and insecure together"
        );
    }
}

/// A clone tests itself: no test, benchmark or CI step reads a file outside the
/// repository (the Tekton CRD once came from a folder beside the clone).
#[test]
fn nothing_reads_outside_the_repository() {
    let root = common::root();
    assert!(root.join(CRD).is_file(), "{CRD} is committed");
    let mut stack = vec![
        root.join("tests"),
        root.join("src"),
        root.join("benches"),
        root.join("bench"),
        root.join(".ci"),
        root.join("examples/ci"),
    ];
    let mut offenders = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                if !p.ends_with("snapshots") && !p.ends_with("fixtures") {
                    stack.push(p);
                }
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            for (n, line) in text.lines().enumerate() {
                // The needles are split so that this file does not match itself.
                if line.contains(concat!("../", "shared"))
                    || line.contains(concat!("root().join(\"", ".."))
                {
                    offenders.push(format!("{}:{}: {line}", p.display(), n + 1));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "reads outside the clone:\n{}",
        offenders.join("\n")
    );
}

/// The HTTPS example as committed (examples/https/expected.yaml, what kustomize
/// prints): its Task pushes with the private CA given to buildctl, and refuses a run
/// without it.
#[test]
fn https_example_pushes_with_the_ca_given_to_buildctl() {
    let expected = std::fs::read_to_string(common::root().join("examples/https/expected.yaml"))
        .expect("examples/https/expected.yaml");
    let task = expected
        .split("\n---\n")
        .map(common::parse_json)
        .find(|v| v["kind"] == "Task")
        .expect("a Task in the example's output");
    let host = "harbor.clusters.zjusct.io";
    assert_required(&task, "registry-ca");
    let step = run_step(
        &task,
        &creds(host).workspace("registry-ca", &[("zjusct-ca.pem", CA)]),
    );
    assert_ran(&step);
    let ca = format!("{}/zjusct-ca.pem", step.path("registry-ca"));
    assert_eq!(
        step.values("--registry-auth-tlscontext"),
        [format!("host={host},ca={ca}").as_str()]
    );
    assert!(!step.argv.iter().any(|a| a.contains("registry.insecure")));
}

/// The new fields' mistakes, each named at its field: daemonless with what it cannot
/// use, a uid the rootless image cannot run daemonless, root, a uid of the wrong type.
#[test]
fn task_fields_refuse_what_cannot_work() {
    let one = |spec: &str, field: &str, code: Code| {
        let out = run(&common::input(
            &[],
            &format!("registry: {HTTPS}\ngenerate: [task]\n{spec}"),
        ));
        assert_eq!(out.exit_code, 1, "accepted: {spec}");
        assert_eq!(out.results.len(), 1, "{spec}: {:#?}", out.results);
        let e = &out.results[0];
        let path = format!("spec.{field}");
        assert_eq!(
            (e.code, res::path(e)),
            (code, Some(path.as_str())),
            "{spec}: {e:#?}"
        );
        // stderr says it as the result's line.
        assert_eq!(out.stderr, format!("{}\n", e.to_line()), "{spec}");
    };
    one(
        "daemonless: true\nbuildkitHost: tcp://buildkitd:1235\n",
        "buildkitHost",
        Code::SpecConflict,
    );
    one(
        "daemonless: true\nbuildkitTlsServerName: buildkitd\n",
        "buildkitTlsServerName",
        Code::SpecConflict,
    );
    one(
        "daemonless: true\nbuildkitDaemon: buildkitd\n",
        "buildkitDaemon",
        Code::SpecConflict,
    );
    one(
        "daemonless: true\nrunAsUser: platform\n",
        "runAsUser",
        Code::SpecConflict,
    );
    one(
        "daemonless: true\nrunAsUser: 1001\n",
        "runAsUser",
        Code::SpecConflict,
    );
    one("runAsUser: 0\n", "runAsUser", Code::SpecRunAsUser);
    one("runAsUser: root\n", "runAsUser", Code::SpecRunAsUser);
    one("runAsUser: true\n", "runAsUser", Code::SpecWrongType);
    one("runAsUser: 4294967296\n", "runAsUser", Code::SpecRunAsUser);
    one("runAsUser:\n", "runAsUser", Code::SpecWrongType);
    one(
        "buildkitTlsServerName: Build_Kit\n",
        "buildkitTlsServerName",
        Code::SpecName,
    );
    // Another image built for that uid may run daemonless as it.
    let out = run(&common::input(
        &[],
        &format!(
            "registry: {HTTPS}\ngenerate: [task]\ndaemonless: true\nrunAsUser: 2000\nbuildctlImage: registry.example.com/buildkit:v0.26.3-rootless-2000\n"
        ),
    ));
    assert_eq!(out.exit_code, 0, "{}", out.stderr);
}

/// Whether the tests run as root (`id -u`).
fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A uid other than the rootless image's (1000), owning nothing here.
const OTHER_UID: u32 = 1234;

/// `run` as a uid that cannot write the image's TMPDIR (the rootless image's
/// `/home/user/.local/tmp` belongs to uid 1000 alone: moby/buildkit `Dockerfile`,
/// `rootless` stage): as root, the step runs as [`OTHER_UID`] through `setpriv`; as
/// another user, the folder is made read-only. `None` (after a SKIPPED line, or a
/// failure under CI=true) when neither can be arranged.
fn as_a_stranger(run: TaskRun, image_tmp: &std::path::Path) -> Option<TaskRun> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(image_tmp).expect("the image's TMPDIR");
    let run = run
        .image_env("TMPDIR", image_tmp.display().to_string())
        .image_env("HOME", image_tmp.display().to_string());
    if running_as_root() {
        common::required_tool("setpriv")?;
        return Some(run.uid(OTHER_UID));
    }
    std::fs::set_permissions(image_tmp, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    Some(run)
}

/// Any uid (runAsUser other than 1000, or OpenShift's): the step's TMPDIR is an
/// emptyDir of its own, so `mktemp` works where the image's TMPDIR is not writable.
/// Without it (the Task as it was), mktemp fails and the step exits 1.
#[test]
fn step_runs_as_a_uid_that_owns_nothing() {
    let task = task_of(
        &[],
        &format!("registry: {HTTPS}\nrunAsUser: platform\ngenerate: [task]\n"),
    );
    let image_tmp = common::TempDir::new("image-tmp");
    let Some(run) = as_a_stranger(creds(HTTPS), &image_tmp.join("home/user/.local/tmp")) else {
        return;
    };
    let step = run_step(&task, &run);
    assert_ran(&step);
    let tmp = step.dir.join("mnt/tmp").display().to_string();
    assert!(
        step.values("--metadata-file")[0].starts_with(&format!("{tmp}/")),
        "{:?}",
        step.argv
    );
    // The same run without the step's TMPDIR: the image's is all it has.
    let mut without = task.clone();
    let env = without["spec"]["steps"][0]["env"]
        .as_array_mut()
        .expect("env");
    env.retain(|e| e["name"] != "TMPDIR");
    let Some(run) = as_a_stranger(creds(HTTPS), &image_tmp.join("home/user/.local/tmp")) else {
        return;
    };
    let step = run_step(&without, &run);
    assert!(!step.ok(), "mktemp wrote where it should not be able to");
    assert!(step.tool.is_none());
    assert!(
        step.stderr().contains("mktemp") || step.stderr().contains("Permission denied"),
        "{}",
        step.stderr()
    );
}

/// buildctl's own words for a daemon that wants a client certificate are terse
/// ("error reading server preface: EOF"): when the build fails and listing the
/// daemon's workers fails too, the step says what to check.
#[test]
fn step_says_what_to_check_when_the_daemon_is_unreachable() {
    use common::tekton::Buildctl;
    let task = task_of(
        &[],
        &format!(
            "registry: {HTTPS}\nbuildkitHost: tcp://buildkitd.buildkit.svc:1234\ngenerate: [task]\n"
        ),
    );
    let preface = "error: listing workers for Build: failed to list workers: Unavailable: connection error: desc = \"error reading server preface: EOF\"";
    let step = run_step(
        &task,
        &creds(HTTPS).buildctl(Buildctl::Unreachable(preface.into())),
    );
    assert!(!step.ok());
    let err = step.stderr();
    assert!(
        err.contains(preface),
        "buildctl's own words are kept: {err}"
    );
    for what in [
        "tcp://buildkitd.buildkit.svc:1234",
        "buildkit-client-certs",
        "--tlscacert",
        "not bound",
    ] {
        assert!(err.contains(what), "{what}: {err}");
    }
    assert_eq!(step.calls.len(), 2, "{:?}", step.calls);
    assert!(step.calls[1].ends_with("debug workers"), "{:?}", step.calls);
    // With the certificates bound, and a daemon certificate for another name.
    let files = [("ca.pem", CA), ("cert.pem", CA), ("key.pem", "KEY")];
    let name = "error: failed to list workers: Unavailable: connection error: desc = \"transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate is valid for localhost, buildkitd, not buildkitd.buildkit.svc\"";
    let step = run_step(
        &task,
        &creds(HTTPS)
            .workspace("buildkit-client-certs", &files)
            .buildctl(Buildctl::Unreachable(name.into())),
    );
    assert!(!step.ok());
    let err = step.stderr();
    assert!(err.contains("BUILDKIT_TLS_SERVER_NAME"), "{err}");
    assert!(!err.contains("not bound"), "{err}");
    // The daemon answers and the build itself fails: buildctl said it all.
    let step = run_step(
        &task,
        &creds(HTTPS).buildctl(Buildctl::BuildFails(
            "error: failed to solve: target stage \"nope\" could not be found".into(),
        )),
    );
    assert!(!step.ok());
    assert!(!step.stderr().contains("cannot talk"), "{}", step.stderr());
    assert!(step.stderr().contains("could not be found"));
}

/// A DOCKER_AUTH_CONFIG from a pod template would replace the workspace's
/// credentials in buildctl v0.24 and later (docker/cli cli/config/configfile/file.go
/// reads it before config.json): the step unsets it, and says so.
#[test]
fn step_unsets_docker_auth_config() {
    let task = task_of(&[], &format!("registry: {HTTPS}\ngenerate: [task]\n"));
    let other = format!("{{\"auths\":{{\"{HTTPS}\":{{\"auth\":\"b3RoZXI6dXNlcg==\"}}}}}}");
    let step = run_step(&task, &creds(HTTPS).pod_env("DOCKER_AUTH_CONFIG", other));
    assert_ran(&step);
    assert_eq!(step.docker_auth_config, "unset");
    assert!(
        step.stderr().contains("DOCKER_AUTH_CONFIG"),
        "{}",
        step.stderr()
    );
    // Without it, nothing is said.
    let step = run_step(&task, &creds(HTTPS));
    assert_ran(&step);
    assert!(
        !step.stderr().contains("DOCKER_AUTH_CONFIG"),
        "{}",
        step.stderr()
    );
}

/// What the README says of the Task is what it does: its daemonless mode is not the
/// catalog's task (tektoncd/catalog buildkit-daemonless 0.1 runs the rootful image
/// `privileged: true`, 0.2 sets no seccomp or AppArmor profile), and `config.json` is
/// not the only name buildctl reads (`DOCKER_AUTH_CONFIG` from v0.24.0).
#[test]
fn readme_says_what_is_true_of_the_task() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README.md");
    for false_claim in [
        "as the\ncatalog's buildkit-daemonless task and Shipwright's buildkit strategy do",
        "the only name buildctl reads",
        "The flag makes buildctl replace",
    ] {
        assert!(
            !readme.contains(false_claim),
            "README.md still says {false_claim:?}"
        );
    }
    for said in [
        "DOCKER_AUTH_CONFIG",
        "privileged: true",
        "registryInsecure",
        "set-security-context",
    ] {
        assert!(readme.contains(said), "README.md does not say {said}");
    }
}
