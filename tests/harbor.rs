//! Harbor's side against the chart's real shapes (goharbor/harbor-helm v1.19.1, see
//! tests/common/harbor_chart.rs): harbor-core is found by what it is, `CORE_URL` is
//! patched only when it is needed and safe, and a fix that cannot land is never an
//! exit 0.

mod common;

use common::harbor_chart::{self as chart, Values};
use common::results::{self as res, Code};
use harbor_buildkit_fn::{FnResult, Severity};
use serde_json::Value;

const FQDN: &str = "harbor-core.harbor.svc.cluster.local";
const EXTERNAL: &str = "https://harbor.example.com";

use common::input;

fn errors(results: &[FnResult]) -> Vec<&FnResult> {
    results
        .iter()
        .filter(|r| r.severity == Severity::Error)
        .collect()
}

/// The one error of a failed run, which `check` reports too.
fn the_error(input: &str) -> FnResult {
    let out = common::run(input);
    assert_eq!(out.exit_code, 1, "the run should fail:\n{}", out.stdout);
    assert!(out.stdout.contains("items: []"), "{}", out.stdout);
    let errs = errors(&out.results);
    assert_eq!(errs.len(), 1, "{:#?}", out.results);
    let e = errs[0].clone();
    assert_eq!(
        res::line_codes(&out.stderr),
        [(Severity::Error, e.code)],
        "stderr lacks it:\n{}",
        out.stderr
    );
    let checked = harbor_buildkit_fn::check(input.as_bytes(), harbor_buildkit_fn::Judge::Planned);
    assert_eq!(checked.exit_code, 1);
    assert!(checked.results.contains(&e), "{:#?}", checked.results);
    e
}

fn passes(input: &str) -> harbor_buildkit_fn::Outcome {
    let out = common::run(input);
    assert_eq!(out.exit_code, 0, "{}{}", out.stderr, out.stdout);
    out
}

fn core_cm(out: &str) -> Value {
    common::find(&common::items(out), "ConfigMap", "harbor-core").clone()
}

/// The error of a failed run, which must have `code`.
fn the_error_of(input: &str, code: Code) -> FnResult {
    let e = the_error(input);
    assert_eq!(e.code, code, "{e:#?}");
    e
}

// ---------------------------------------------------------------------------------
// Finding Harbor by what it is

/// The registry names nginx's front Service (`expose.type: clusterIP` calls it
/// `harbor`): not harbor-core. The core ConfigMap is still found by its content.
#[test]
fn the_nginx_front_service_as_registry_is_an_error_naming_harbor_core() {
    let spec = "registry: harbor.harbor.svc.cluster.local\nscheme: http\nnamespace: ci\ngenerate: [harborCore]\n";
    let e = the_error_of(
        &input(&chart::plain(EXTERNAL, "v2.15.1"), spec),
        Code::HarborNotCore,
    );
    let field = e.field.as_ref().expect("a field");
    assert_eq!(field.path, "spec.registry");
    assert_eq!(field.proposed.as_deref(), Some(FQDN));

    // Without the Service in the input the name says nothing either way: an error too.
    let items = vec![chart::core_config_map(Values::default(), EXTERNAL)];
    let e = the_error_of(&input(&items, spec), Code::HarborNotCore);
    assert_eq!(res::path(&e), Some("spec.registry"));
}

#[test]
fn the_core_configmap_is_found_by_content_whatever_the_registry_says() {
    // A release named otherwise: the ConfigMap is `<fullname>-core` all the same.
    let items: Vec<String> = chart::plain(EXTERNAL, "v2.15.1")
        .into_iter()
        .map(|i| i.replace("harbor-core", "ci-harbor-core"))
        .collect();
    let spec = "registry: ci-harbor-core.harbor.svc.cluster.local\nscheme: http\nnamespace: ci\ngenerate: [harborCore]\n";
    let out = passes(&input(&items, spec));
    let items_out = common::items(&out.stdout);
    let cm = common::find(&items_out, "ConfigMap", "ci-harbor-core");
    assert_eq!(
        cm["data"]["CORE_URL"],
        "http://ci-harbor-core.harbor.svc.cluster.local"
    );
    // jobservice's ConfigMap (no EXT_ENDPOINT) is not mistaken for it, and is left alone.
    let js = common::find(&items_out, "ConfigMap", "harbor-jobservice-env");
    assert_eq!(js["data"]["CORE_URL"], "http://ci-harbor-core:80");
}

#[test]
fn two_core_configmaps_are_an_error_naming_both() {
    let v = Values::default();
    let other =
        chart::core_config_map(v, EXTERNAL).replace("name: harbor-core", "name: other-core");
    let items = vec![chart::core_config_map(v, EXTERNAL), other];
    let e = the_error_of(
        &input(
            &items,
            &format!("registry: {FQDN}\nscheme: http\ngenerate: [harborCore]\n"),
        ),
        Code::HarborAmbiguous,
    );
    // The choice is the user's: the message names both, to choose from.
    for both in ["harbor/harbor-core", "harbor/other-core"] {
        assert!(e.message.contains(both), "{}", e.message);
    }
    // Naming one settles it.
    let spec = format!(
        "registry: {FQDN}\nscheme: http\nharborConfigMap: harbor-core\ngenerate: [harborCore]\n"
    );
    let out = passes(&input(&items, &spec));
    assert_eq!(
        core_cm(&out.stdout)["data"]["CORE_URL"],
        format!("http://{FQDN}")
    );
}

// ---------------------------------------------------------------------------------
// Ports

#[test]
fn a_port_the_core_service_does_not_expose_is_an_error() {
    let spec = format!("registry: {FQDN}:8080\nscheme: http\ngenerate: [harborCore]\n");
    // The Service in the input: its ports are read.
    let e = the_error_of(
        &input(&chart::plain(EXTERNAL, "v2.15.1"), &spec),
        Code::HarborPort,
    );
    assert_eq!(res::path(&e), Some("spec.registry"), "{e:#?}");
    // Only the ConfigMap: the chart renders CORE_URL with the Service's port.
    let items = vec![chart::core_config_map(Values::default(), EXTERNAL)];
    the_error_of(&input(&items, &spec), Code::HarborPort);
    // https on a plain chart: 443 is not there either.
    let spec = format!("registry: {FQDN}\nscheme: https\ngenerate: [harborCore]\n");
    let e = the_error_of(
        &input(&chart::plain(EXTERNAL, "v2.15.1"), &spec),
        Code::HarborPort,
    );
    assert_eq!(res::path(&e), Some("spec.registry"), "{e:#?}");
}

// ---------------------------------------------------------------------------------
// Internal TLS

fn internal_tls(secret_names: Option<&[&str]>) -> Vec<String> {
    let v = Values { internal_tls: true };
    let mut items = vec![
        chart::core_config_map(v, EXTERNAL),
        chart::core_deployment(v, "v2.13.1", ""),
        chart::core_service(v),
    ];
    if let Some(names) = secret_names {
        items.push(chart::internal_tls_secret(names));
    }
    items
}

#[test]
fn internal_tls_keeps_https_and_refuses_http() {
    let spec = format!("registry: {FQDN}\nscheme: http\ngenerate: [harborCore]\n");
    let e = the_error_of(
        &input(&internal_tls(None), &spec),
        Code::HarborInternalTlsHttp,
    );
    assert_eq!(
        e.field.as_ref().map(|f| f.path.as_str()),
        Some("spec.scheme")
    );
}

/// The chart's `certSource: auto` certificate is for 127.0.0.1, localhost and
/// harbor-core only (templates/internal/auto-tls.yaml).
#[test]
fn internal_tls_certificate_must_cover_the_fqdn() {
    let spec = format!(
        "registry: {FQDN}\nscheme: https\nca: [/certs/harbor-ca.crt]\ngenerate: [harborCore]\n"
    );
    let chart_names: &[&str] = &["127.0.0.1", "localhost", "harbor-core"];
    for items in [internal_tls(None), internal_tls(Some(chart_names))] {
        the_error_of(&input(&items, &spec), Code::HarborCertificate);
    }
    // A certificate that lists the FQDN: CORE_URL becomes https on it, port 443.
    let items = internal_tls(Some(&["harbor-core", "localhost", FQDN]));
    let out = passes(&input(&items, &spec));
    assert_eq!(
        core_cm(&out.stdout)["data"]["CORE_URL"],
        format!("https://{FQDN}")
    );
}

// ---------------------------------------------------------------------------------
// Only when needed

/// The registry is EXT_ENDPOINT's host over https: every Harbor version already answers
/// with the registry's scheme and host, so CORE_URL (which also routes Trivy,
/// replication and job hooks) stays as the chart renders it.
#[test]
fn no_patch_when_the_realm_is_already_right() {
    let items = chart::plain(EXTERNAL, "v2.13.1");
    let spec =
        "registry: harbor.example.com\nscheme: https\nnamespace: ci\ngenerate: [harborCore]\n";
    let out = passes(&input(&items, spec));
    let cm = core_cm(&out.stdout);
    assert_eq!(cm["data"]["CORE_URL"], "http://harbor-core:80");
    let items_out = common::items(&out.stdout);
    let d = common::find(&items_out, "Deployment", "harbor-core");
    assert!(
        d["spec"]["template"]["metadata"]["annotations"]
            .get("harbor-buildkit.dev/core-config-checksum")
            .is_none()
    );
    let left = res::one(&out.results, Code::HarborAlreadyRight);
    assert_eq!(left.severity, Severity::Info);
    assert!(res::all(&out.results, Code::HarborCoreUrlSet).is_empty());

    // Harbor v2.14+ answers with the request's Host and EXT_ENDPOINT's scheme: an https
    // registry in the cluster needs no patch there either (with internal TLS and a
    // certificate for the name).
    let v = Values { internal_tls: true };
    let items = vec![
        chart::core_config_map(v, EXTERNAL),
        chart::core_deployment(v, "v2.14.0", ""),
        chart::core_service(v),
        chart::internal_tls_secret(&["harbor-core", FQDN]),
    ];
    let spec = format!("registry: {FQDN}\nscheme: https\ngenerate: [harborCore]\n");
    let out = passes(&input(&items, &spec));
    assert_eq!(
        core_cm(&out.stdout)["data"]["CORE_URL"],
        "https://harbor-core:443"
    );
    // Under v2.13 the same is patched: it answers with EXT_ENDPOINT.
    let items: Vec<String> = items
        .into_iter()
        .map(|i| i.replace("v2.14.0", "v2.13.1"))
        .collect();
    let out = passes(&input(&items, &spec));
    assert_eq!(
        core_cm(&out.stdout)["data"]["CORE_URL"],
        format!("https://{FQDN}")
    );
}

// ---------------------------------------------------------------------------------
// env overrides (core.extraEnvVars)

#[test]
fn core_url_in_the_containers_env_is_patched_there() {
    let v = Values::default();
    let extra = "- name: CORE_URL\n  value: http://harbor-core:80\n";
    let items = vec![
        chart::core_config_map(v, EXTERNAL),
        chart::core_deployment(v, "v2.13.1", extra),
        chart::core_service(v),
    ];
    let spec = format!("registry: {FQDN}\nscheme: http\ngenerate: [harborCore]\n");
    let out = passes(&input(&items, &spec));
    let items_out = common::items(&out.stdout);
    let d = common::find(&items_out, "Deployment", "harbor-core");
    let env = d["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env");
    let core_url = env
        .iter()
        .find(|e| e["name"] == "CORE_URL")
        .expect("CORE_URL");
    assert_eq!(core_url["value"], format!("http://{FQDN}"));
    // The ConfigMap's copy is not what harbor-core reads: left alone.
    assert_eq!(
        core_cm(&out.stdout)["data"]["CORE_URL"],
        "http://harbor-core:80"
    );
    // TOKEN_SERVICE_URL, which harbor-core reads from the ConfigMap, follows it there:
    // the pair stays one (no Harbor code reads it, but users expect the pair).
    assert_eq!(
        core_cm(&out.stdout)["data"]["TOKEN_SERVICE_URL"],
        format!("http://{FQDN}/service/token")
    );
    // Said on the Deployment, at the env entry it set; on the ConfigMap only for
    // TOKEN_SERVICE_URL.
    let set = res::all(&out.results, Code::HarborCoreUrlSet);
    assert!(
        set.iter()
            .any(|r| res::on(r) == "Deployment harbor/harbor-core"
                && res::path(r).is_some_and(|p| p.contains(".env[")))
            && set
                .iter()
                .filter(|r| res::on(r) == "ConfigMap harbor/harbor-core")
                .all(|r| res::path(r) == Some("data.TOKEN_SERVICE_URL")),
        "{}",
        res::dump(&out.results)
    );
    // The check reads the env too: the realm is right.
    let realm = res::one(&out.results, Code::HarborRealmWorks);
    assert_eq!(realm.severity, Severity::Info, "{}", realm.message);

    // Set with valueFrom: not knowable here, an error.
    let extra =
        "- name: CORE_URL\n  valueFrom:\n    configMapKeyRef:\n      name: urls\n      key: core\n";
    let items = vec![
        chart::core_config_map(v, EXTERNAL),
        chart::core_deployment(v, "v2.13.1", extra),
    ];
    let e = the_error_of(&input(&items, &spec), Code::HarborCoreUrlValueFrom);
    assert_eq!(res::on(&e), "Deployment harbor/harbor-core");
}

/// `check` models the env override when the patch is left out: the ConfigMap's value
/// would be fine, but harbor-core reads the env's.
#[test]
fn check_reads_the_env_over_the_configmap() {
    let v = Values::default();
    let cm = chart::core_config_map(v, EXTERNAL).replace(&v.core_url(), &format!("http://{FQDN}"));
    let extra = "- name: CORE_URL\n  value: http://harbor-core:80\n";
    let items = vec![cm, chart::core_deployment(v, "v2.13.1", extra)];
    let spec = format!("registry: {FQDN}\nscheme: http\ngenerate: [task]\n");
    let checked = harbor_buildkit_fn::check(
        input(&items, &spec).as_bytes(),
        harbor_buildkit_fn::Judge::Planned,
    );
    assert_eq!(checked.exit_code, 1, "{:#?}", checked.results);
    let realm = res::one(&checked.results, Code::HarborRealm);
    assert_eq!(realm.severity, Severity::Error);
    // The env's value is the one judged, and the one to change.
    assert_eq!(
        res::values(realm),
        (
            Some("http://harbor-core:80"),
            Some(format!("http://{FQDN}").as_str())
        )
    );
    assert_eq!(
        realm.resource.as_ref().map(|r| r.kind.as_str()),
        Some("Deployment")
    );
}

// ---------------------------------------------------------------------------------
// A fix that cannot land

/// kustomize hands a transformer its resources with `kustomize.config.k8s.io/id`, and
/// drops local-config items: without Harbor's ConfigMap there, an error, not exit 0.
#[test]
fn a_kustomize_transformer_without_harbor_is_an_error() {
    let ns = r#"- apiVersion: v1
  kind: Namespace
  metadata:
    name: ci
    annotations:
      config.kubernetes.io/index: '0'
      kustomize.config.k8s.io/id: |
        kind: Namespace
        name: ci
        version: v1
"#;
    let spec = format!("registry: {FQDN}\nscheme: http\nnamespace: ci\ngenerate: [harborCore]\n");
    the_error_of(&input(&[ns.to_string()], &spec), Code::HarborNotInInput);
}

#[test]
fn harbor_v1_10_does_not_read_core_url_for_the_realm() {
    let v = Values::default();
    let items = vec![
        chart::core_config_map(v, EXTERNAL),
        chart::core_deployment(v, "v1.10.0", ""),
    ];
    the_error_of(
        &input(
            &items,
            &format!("registry: {FQDN}\nscheme: http\ngenerate: [harborCore]\n"),
        ),
        Code::HarborStaticRealm,
    );
}

/// Every warning reaches a kustomize user (stderr), while kpt, which prints results
/// and stderr both, gets each once: in the results.
#[test]
fn warnings_go_to_stderr_except_under_kpt() {
    let spec = format!("registry: {FQDN}:8080\nscheme: http\nnamespace: ci\n");
    let fc = serde_json::json!({
        "apiVersion": "fn.harbor-buildkit.dev/v1alpha1",
        "kind": "HarborBuildkit",
        "metadata": {"name": "harbor-buildkit"},
        "spec": {"registry": format!("{FQDN}:8080"), "scheme": "http", "namespace": "ci"},
    });
    // A kustomize generator: the functionConfig is the only item.
    let generator = common::ResourceList::new()
        .resource(&fc)
        .spec("harbor-buildkit", &spec)
        .build();
    let out = passes(&generator);
    let warning = res::line(&out.stderr, Code::HarborPort);
    assert_eq!(warning.severity, Severity::Warning, "{}", out.stderr);
    // Every warning of the results is on stderr, and nothing else.
    let warnings: Vec<(Severity, Code)> = out
        .results
        .iter()
        .filter(|r| r.severity == Severity::Warning)
        .map(|r| (r.severity, r.code))
        .collect();
    assert_eq!(res::line_codes(&out.stderr), warnings);
    // The same in a kpt package: the results only.
    let kptfile =
        "- apiVersion: kpt.dev/v1\n  kind: Kptfile\n  metadata:\n    name: pkg\n".to_string();
    let out = passes(&input(std::slice::from_ref(&kptfile), &spec));
    assert!(res::has(&out.results, Code::HarborPort, Severity::Warning));
    assert_eq!(out.stderr, "");
    // And an error under kpt is said once, in the results.
    let out = common::run(&input(&[kptfile], "registry: Bad\n"));
    assert_eq!(out.exit_code, 1);
    assert_eq!(out.stderr, "");
    assert_eq!(res::codes(&out.results), [Code::SpecRegistry]);
    let written = common::parse_json(&out.stdout)["results"].clone();
    assert_eq!(
        res::code_of_json(&written[0]),
        Some(Code::SpecRegistry),
        "{}",
        out.stdout
    );
    assert_eq!(written[0]["severity"], "error");
}

#[test]
fn a_second_run_changes_nothing_on_the_chart() {
    use common::buildkit_examples::{Mode, deployment, service};
    let spec = format!("registry: {FQDN}\nscheme: http\nnamespace: ci\n");
    let mut items = chart::plain(EXTERNAL, "v2.13.1");
    items.extend([
        deployment(Mode::Rootless, "buildkit", &[]),
        service("buildkit"),
    ]);
    let first = passes(&input(&items, &spec));
    let second = passes(&first.stdout);
    let items = |s: &str| {
        s.split("\nfunctionConfig:")
            .next()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(items(&first.stdout), items(&second.stdout));
    assert_eq!(
        res::one(&second.results, Code::HarborAlreadyRight).severity,
        Severity::Info
    );
}

// ---------------------------------------------------------------------------------
// helm

/// helm 3's `--post-renderer harbor-buildkit-fn --post-renderer-args run
/// --post-renderer-args CONFIG` runs `harbor-buildkit-fn run CONFIG` with the rendered
/// chart on stdin (helm `pkg/postrender/exec.go`; the stream is `---\n# Source: ...\n`
/// before each manifest, `pkg/action/action.go`) and installs what it prints.
#[test]
fn run_works_as_a_helm_post_renderer() {
    let tmp = common::TempDir::new("helm");
    let config = tmp.write(
        "harbor-buildkit.yaml",
        &format!(
            "apiVersion: fn.harbor-buildkit.dev/v1alpha1\nkind: HarborBuildkit\nmetadata:\n  name: harbor-buildkit\nspec:\n  registry: {FQDN}\n  scheme: http\n  generate: [harborCore]\n"
        ),
    );
    let mut stream = String::new();
    let sources = [
        "harbor/templates/core/core-cm.yaml",
        "harbor/templates/core/core-dpl.yaml",
        "harbor/templates/core/core-svc.yaml",
        "harbor/templates/nginx/service.yaml",
        "harbor/templates/jobservice/jobservice-cm-env.yaml",
    ];
    for (source, entry) in sources.iter().zip(chart::plain(EXTERNAL, "v2.15.1")) {
        // A ResourceList entry back to a document: drop the `- ` and the indent.
        let doc: String = entry
            .lines()
            .map(|l| l.get(2..).unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        stream.push_str(&format!("---\n# Source: {source}\n{doc}\n"));
    }
    let args = ["run", &config.to_string_lossy()];
    let (code, stdout, stderr) = common::run_bin(&args, stream.as_bytes());
    assert_eq!(code, 0, "{stderr}");
    let docs: Vec<&str> = stdout.split("\n---\n").collect();
    assert_eq!(docs.len(), 5, "{stdout}");
    assert!(
        stdout.contains(&format!("  CORE_URL: \"http://{FQDN}\"\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains("harbor-buildkit.dev/core-config-checksum"),
        "{stdout}"
    );
    // Everything else as helm rendered it: jobservice's ConfigMap, the Services.
    assert!(
        stdout.contains("  CORE_URL: \"http://harbor-core:80\"\n"),
        "{stdout}"
    );
    assert!(stdout.contains("component: nginx"), "{stdout}");
    // helm's `# Source:` lines stay with their documents, as every comment does.
    for source in sources {
        assert!(
            stdout.contains(&format!("# Source: {source}\n")),
            "{source}: {stdout}"
        );
    }

    // An error fails the install with the reason on stderr, and nothing on stdout.
    let bad = stream.replace(FQDN, "x");
    let config = tmp.write(
        "bad.yaml",
        "apiVersion: fn.harbor-buildkit.dev/v1alpha1\nkind: HarborBuildkit\nmetadata:\n  name: hb\nspec:\n  registry: harbor.harbor.svc.cluster.local\n  scheme: http\n  generate: [harborCore]\n",
    );
    let (code, stdout, stderr) =
        common::run_bin(&["run", &config.to_string_lossy()], bad.as_bytes());
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(
        res::line_codes(&stderr),
        [(Severity::Error, Code::HarborNotCore)],
        "{stderr}"
    );
}
