//! The static checks (`src/check.rs`) as users meet them: findings in every function
//! run, and alone through `harbor-buildkit-fn check`. Each test builds its input as
//! literal YAML, picks findings by their code, and asserts on their fields (severity,
//! resourceRef, field.path, currentValue, proposedValue). Messages are read for values
//! that no field carries (the realm a finding predicts), and where the wording is the
//! point, each such place saying why.

mod common;

use std::path::Path;

use common::results::Code;
use harbor_buildkit_fn::{FnResult, Severity};
use serde_json::Value;

/// The in-cluster registry of most tests, and the CORE_URL that matches it.
const FQDN: &str = "harbor-core.default.svc.cluster.local";
const FIXED_CORE_URL: &str = "http://harbor-core.default.svc.cluster.local";
const CHART_CORE_URL: &str = "http://harbor-core:80";

/// The push Secret's `.dockerconfigjson` as `data` holds it: base64 of
/// `{"auths":{"harbor-core.default.svc.cluster.local":{"auth":"<SECRET_AUTH>"}}}`. It,
/// [`SECRET_AUTH`] and [`SECRET_PASSWORD`] must appear in no finding.
const SECRET_VALUE: &str = "eyJhdXRocyI6eyJoYXJib3ItY29yZS5kZWZhdWx0LnN2Yy5jbHVzdGVyLmxvY2FsIjp7ImF1dGgiOiJZMmt0WW05ME9uTmxZM0psZEMxMGFHRjBMVzExYzNRdGJtVjJaWEl0WW1VdGNISnBiblJsWkMwME56RXgifX19";
/// base64 of `ci-bot:<SECRET_PASSWORD>`.
const SECRET_AUTH: &str = "Y2ktYm90OnNlY3JldC10aGF0LW11c3QtbmV2ZXItYmUtcHJpbnRlZC00NzEx";
const SECRET_PASSWORD: &str = "secret-that-must-never-be-printed-4711";

// ---------------------------------------------------------------------------------
// Inputs

/// harbor-helm's core ConfigMap, as rendered: the bare Service in CORE_URL.
const CHART_CM: &str = r#"- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: harbor-core
    namespace: default
  data:
    EXT_ENDPOINT: "https://harbor.example.com"
    CORE_URL: "http://harbor-core:80"
    TOKEN_SERVICE_URL: "http://harbor-core:80/service/token"
"#;

const CORE_V2_13: &str = r#"- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: harbor-core
    namespace: default
  spec:
    template:
      spec:
        containers:
        - name: core
          image: goharbor/harbor-core:v2.13.1
"#;

const CORE_V2_14: &str = r#"- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: harbor-core
    namespace: default
  spec:
    template:
      spec:
        containers:
        - name: core
          image: goharbor/harbor-core:v2.14.0
"#;

/// BuildKit's rootless daemon and its Service in namespace ci (moby/buildkit
/// examples/kubernetes), which reads the buildkitd.toml this function writes.
fn daemon() -> String {
    use common::buildkit_examples::{Mode, deployment, service};
    deployment(Mode::Rootless, "ci", &[]) + &service("ci")
}

/// A rootless daemon in `ci` without TLS (the Task then needs no client certificates).
const PLAIN_DAEMON: &str = r#"- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: buildkitd
    namespace: ci
  spec:
    template:
      spec:
        containers:
        - name: buildkitd
          image: moby/buildkit:v0.26.3-rootless
          args: [--addr, "tcp://0.0.0.0:1234", --oci-worker-no-process-sandbox]
"#;

/// A kpt package's Kptfile (kpt hands it to the function with the resources).
const KPTFILE: &str = r#"- apiVersion: kpt.dev/v1
  kind: Kptfile
  metadata:
    name: ci-build
    annotations:
      config.kubernetes.io/local-config: "true"
"#;

/// The in-cluster plain-HTTP registry, everything generated.
const SPEC_ALL: &str = r#"registry: harbor-core.default.svc.cluster.local
scheme: http
namespace: ci
"#;

/// The same with the CORE_URL patch left to someone else.
const SPEC_NO_CORE: &str = r#"registry: harbor-core.default.svc.cluster.local
scheme: http
namespace: ci
generate: [buildkitdConfig, task]
"#;

/// The same with buildkitd.toml left as it is.
const SPEC_NO_TOML: &str = r#"registry: harbor-core.default.svc.cluster.local
scheme: http
namespace: ci
generate: [task]
"#;

/// A ResourceList of `items` (each a `- ...` block at column 0) and a HarborBuildkit
/// with `spec` (unindented lines).
fn resource_list(items: &[&str], spec: &str) -> String {
    common::ResourceList::new()
        .items(items)
        .spec("harbor-buildkit", spec)
        .build()
}

// ---------------------------------------------------------------------------------
// Findings

/// One result, flattened for assertions (the same shape from an output ResourceList
/// and from the library's results).
#[derive(Debug, Clone, PartialEq)]
struct Finding {
    code: Option<Code>,
    severity: String,
    message: String,
    api_version: String,
    kind: String,
    name: String,
    namespace: String,
    path: Option<String>,
    current: Option<String>,
    proposed: Option<String>,
}

impl Finding {
    fn of_json(v: &Value) -> Finding {
        let s = |v: &Value| v.as_str().map(str::to_string);
        let r = &v["resourceRef"];
        let f = &v["field"];
        Finding {
            code: common::results::code_of_json(v),
            severity: s(&v["severity"]).unwrap_or_default(),
            message: s(&v["message"]).unwrap_or_default(),
            api_version: s(&r["apiVersion"]).unwrap_or_default(),
            kind: s(&r["kind"]).unwrap_or_default(),
            name: s(&r["name"]).unwrap_or_default(),
            namespace: s(&r["namespace"]).unwrap_or_default(),
            path: s(&f["path"]),
            current: s(&f["currentValue"]),
            proposed: s(&f["proposedValue"]),
        }
    }

    fn of_result(r: &FnResult) -> Finding {
        let res = r.resource.as_ref();
        let field = r.field.as_ref();
        let text = |f: fn(&harbor_buildkit_fn::ResourceRef) -> &String| {
            res.map(f).cloned().unwrap_or_default()
        };
        Finding {
            code: Some(r.code),
            severity: r.severity.as_str().to_string(),
            message: r.message.clone(),
            api_version: text(|r| &r.api_version),
            kind: text(|r| &r.kind),
            name: text(|r| &r.name),
            namespace: text(|r| &r.namespace),
            path: field.map(|f| f.path.clone()),
            current: field.and_then(|f| f.current.clone()),
            proposed: field.and_then(|f| f.proposed.clone()),
        }
    }

    /// `Kind namespace/name`, for comparing resources in one assertion.
    fn on(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }

    /// What stays the same when only the input's current value moved.
    fn outcome(&self) -> (Option<Code>, String, String, Option<String>, Option<String>) {
        (
            self.code,
            self.severity.clone(),
            self.on(),
            self.path.clone(),
            self.proposed.clone(),
        )
    }
}

/// The results of an output ResourceList.
fn results_of(yaml: &str) -> Vec<Finding> {
    common::parse_json(yaml)["results"]
        .as_array()
        .map(|a| a.iter().map(Finding::of_json).collect())
        .unwrap_or_default()
}

/// `harbor_buildkit_fn::check`: the checks alone (and errors that stop the
/// function before them).
fn checked(input: &str) -> (i32, Vec<Finding>) {
    let c = harbor_buildkit_fn::check(input.as_bytes(), harbor_buildkit_fn::Judge::Planned);
    (
        c.exit_code,
        c.results.iter().map(Finding::of_result).collect(),
    )
}

/// The function itself, with its output read back.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    items: Vec<Value>,
    results: Vec<Finding>,
}

fn run(input: &str) -> Run {
    let o = common::run(input);
    Run {
        code: o.exit_code,
        items: common::items(&o.stdout),
        results: results_of(&o.stdout),
        stdout: o.stdout,
        stderr: o.stderr,
    }
}

fn dump(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("  {f:?}\n"))
        .collect::<String>()
}

/// The one finding that `pred` picks; fails with every finding listed otherwise.
fn only<'f>(findings: &'f [Finding], what: &str, pred: impl Fn(&Finding) -> bool) -> &'f Finding {
    let found: Vec<&Finding> = findings.iter().filter(|f| pred(f)).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {what} finding, got {}:\n{}",
        found.len(),
        dump(findings)
    );
    found[0]
}

fn none(findings: &[Finding], what: &str, pred: impl Fn(&Finding) -> bool) {
    let found: Vec<&Finding> = findings.iter().filter(|f| pred(f)).collect();
    assert!(
        found.is_empty(),
        "expected no {what} finding:\n{}",
        dump(findings)
    );
}

fn is(code: Code) -> impl Fn(&Finding) -> bool {
    move |f| f.code == Some(code)
}

/// The realm check's finding, whatever its verdict.
fn is_realm(f: &Finding) -> bool {
    matches!(
        f.code,
        Some(Code::HarborRealm | Code::HarborRealmWorks | Code::HarborRealmUnknown)
    )
}

fn is_buildkitd(f: &Finding) -> bool {
    f.path.as_deref() == Some("data.buildkitd.toml") && f.kind == "ConfigMap"
}

fn is_docker_config(f: &Finding) -> bool {
    f.code == Some(Code::TektonDockerConfig)
}

/// The realms (`.../service/token` URLs) a realm finding names, in the order its
/// message gives them. The prediction is a value only the message carries (no
/// structured field holds a realm), so the tests of the prediction read these URLs,
/// never the sentence around them.
fn realms(f: &Finding) -> Vec<&str> {
    f.message
        .split_whitespace()
        .map(|w| {
            w.trim_start_matches('(')
                .trim_end_matches(['.', ',', ';', ':', ')'])
        })
        .filter(|w| {
            (w.starts_with("http://") || w.starts_with("https://")) && w.ends_with("/service/token")
        })
        .collect()
}

/// The realm a CORE_URL of the registry gives; and the two a chart's CORE_URL gives for
/// the in-cluster registry: v2.14+ takes EXT_ENDPOINT's scheme with the request's Host
/// (`HOST_REALM`), v2.2-v2.13 EXT_ENDPOINT whole (`EXTERNAL_REALM`).
const FIXED_REALM: &str = "http://harbor-core.default.svc.cluster.local/service/token";
const HOST_REALM: &str = "https://harbor-core.default.svc.cluster.local/service/token";
const EXTERNAL_REALM: &str = "https://harbor.example.com/service/token";

/// A finding that fails the function: exit 1, no items, the error in the results and
/// on stderr; `check` agrees.
fn assert_fails(input: &str, pred: impl Fn(&Finding) -> bool) -> Finding {
    let r = run(input);
    assert_eq!(r.code, 1, "the function should fail:\n{}", r.stdout);
    assert!(r.items.is_empty(), "no items on failure:\n{}", r.stdout);
    assert!(r.stdout.contains("items: []"), "{}", r.stdout);
    let f = only(&r.results, "failing", |f| f.severity == "error" && pred(f)).clone();
    assert!(
        common::results::lines(&r.stderr).iter().any(|l| {
            Some(l.code) == f.code
                && l.severity == harbor_buildkit_fn::Severity::Error
                && l.is_on(&f.on())
        }),
        "stderr lacks the error:\n{}",
        r.stderr
    );
    let (code, findings) = checked(input);
    assert_eq!(code, 1, "check should exit 1:\n{}", dump(&findings));
    assert_eq!(
        only(&findings, "failing", |f| f.severity == "error" && pred(f)),
        &f,
        "check and the function report the same error"
    );
    f
}

/// A run that passes: exit 0 and items out; `check` exits 0 too.
fn assert_passes(input: &str) -> Vec<Finding> {
    let r = run(input);
    assert_eq!(
        r.code, 0,
        "the function should pass:\n{}{}",
        r.stderr, r.stdout
    );
    assert!(!r.items.is_empty());
    let (code, findings) = checked(input);
    assert_eq!(code, 0, "check should exit 0:\n{}", dump(&findings));
    assert!(
        findings.iter().all(|f| f.severity != "error"),
        "{}",
        dump(&findings)
    );
    findings
}

// ---------------------------------------------------------------------------------
// 1. The realm, with CORE_URL patched in place

#[test]
fn realm_patched_in_place_is_info_with_old_and_new_core_url() {
    let input = resource_list(&[CHART_CM, &daemon()], SPEC_ALL);
    let findings = assert_passes(&input);
    let f = only(&findings, "realm", is_realm);
    assert_eq!(f.code, Some(Code::HarborRealmWorks));
    assert_eq!(f.severity, "info");
    assert_eq!(
        (f.api_version.as_str(), f.on().as_str()),
        ("v1", "ConfigMap default/harbor-core")
    );
    assert_eq!(f.path.as_deref(), Some("data.CORE_URL"));
    assert_eq!(f.current.as_deref(), Some(CHART_CORE_URL));
    assert_eq!(f.proposed.as_deref(), Some(FIXED_CORE_URL));
    // The realm after the patch comes first.
    assert_eq!(realms(f).first().copied(), Some(FIXED_REALM));

    // The function's own output holds the finding, and the patched value.
    let r = run(&input);
    let out = only(&r.results, "realm", is_realm);
    assert_eq!(out, f);
    let cm = common::find(&r.items, "ConfigMap", "harbor-core");
    assert_eq!(cm["data"]["CORE_URL"], FIXED_CORE_URL);
}

#[test]
fn realm_before_the_patch_names_both_rules_without_the_deployment() {
    let (_, findings) = checked(&resource_list(&[CHART_CM, &daemon()], SPEC_ALL));
    let f = only(&findings, "realm", is_realm);
    // Without harbor-core's image the version is unknown: the realm before the patch
    // by each rule, v2.14+ then v2.2-v2.13.
    assert_eq!(realms(f), [FIXED_REALM, HOST_REALM, EXTERNAL_REALM]);
}

#[test]
fn realm_before_the_patch_under_harbor_v2_13_is_ext_endpoint() {
    let (code, findings) = checked(&resource_list(&[CHART_CM, &daemon(), CORE_V2_13], SPEC_ALL));
    assert_eq!(code, 0);
    let f = only(&findings, "realm", is_realm);
    assert_eq!(f.code, Some(Code::HarborRealmWorks));
    assert_eq!(f.severity, "info");
    assert_eq!(f.current.as_deref(), Some(CHART_CORE_URL));
    assert_eq!(f.proposed.as_deref(), Some(FIXED_CORE_URL));
    // Only the rule of the version the image names: EXT_ENDPOINT whole.
    assert_eq!(realms(f), [FIXED_REALM, EXTERNAL_REALM]);
}

#[test]
fn realm_before_the_patch_under_harbor_v2_14_is_the_request_host() {
    let (code, findings) = checked(&resource_list(&[CHART_CM, &daemon(), CORE_V2_14], SPEC_ALL));
    assert_eq!(code, 0);
    let f = only(&findings, "realm", is_realm);
    assert_eq!(f.code, Some(Code::HarborRealmWorks));
    assert_eq!(f.severity, "info");
    assert_eq!(realms(f), [FIXED_REALM, HOST_REALM]);
}

#[test]
fn realm_of_a_patch_applied_elsewhere_is_pending() {
    // A kpt package without Harbor's ConfigMap: the patch goes out as local config, to
    // be applied where Harbor is rendered.
    let (code, findings) = checked(&resource_list(&[KPTFILE], SPEC_ALL));
    assert_eq!(code, 0);
    let f = only(&findings, "realm", is_realm);
    assert_eq!(f.code, Some(Code::HarborRealmWorks));
    assert_eq!(f.severity, "info");
    assert_eq!(f.on(), "ConfigMap default/harbor-core");
    assert_eq!(f.current, None);
    assert_eq!(f.proposed.as_deref(), Some(FIXED_CORE_URL));
    // The realm once applied, and no "before": nothing was read.
    assert_eq!(realms(f), [FIXED_REALM]);
}

// ---------------------------------------------------------------------------------
// 2. The realm, with harborCore left out of spec.generate

#[test]
fn realm_error_under_harbor_v2_13_with_the_charts_core_url() {
    let input = resource_list(&[&daemon(), CHART_CM, CORE_V2_13], SPEC_NO_CORE);
    let f = assert_fails(&input, is_realm);
    assert_eq!(f.code, Some(Code::HarborRealm));
    assert_eq!(f.on(), "ConfigMap default/harbor-core");
    assert_eq!(f.path.as_deref(), Some("data.CORE_URL"));
    assert_eq!(f.current.as_deref(), Some(CHART_CORE_URL));
    assert_eq!(f.proposed.as_deref(), Some(FIXED_CORE_URL));
    // Only the version's rule is told.
    assert_eq!(realms(&f), [EXTERNAL_REALM]);
}

#[test]
fn realm_error_under_harbor_v2_14_with_the_charts_core_url() {
    let input = resource_list(&[&daemon(), CHART_CM, CORE_V2_14], SPEC_NO_CORE);
    let f = assert_fails(&input, is_realm);
    assert_eq!(f.code, Some(Code::HarborRealm));
    assert_eq!(f.proposed.as_deref(), Some(FIXED_CORE_URL));
    assert_eq!(realms(&f), [HOST_REALM]);
}

#[test]
fn realm_error_with_the_version_unknown_when_both_rules_fail() {
    let input = resource_list(&[&daemon(), CHART_CM], SPEC_NO_CORE);
    let f = assert_fails(&input, is_realm);
    assert_eq!(f.code, Some(Code::HarborRealm));
    assert_eq!(f.on(), "ConfigMap default/harbor-core");
    assert_eq!(f.current.as_deref(), Some(CHART_CORE_URL));
    assert_eq!(f.proposed.as_deref(), Some(FIXED_CORE_URL));
    assert_eq!(realms(&f), [HOST_REALM, EXTERNAL_REALM]);
}

#[test]
fn realm_info_when_the_core_url_already_matches() {
    let cm = CHART_CM.replace(CHART_CORE_URL, FIXED_CORE_URL);
    for deployment in ["", CORE_V2_13] {
        let input = resource_list(&[&daemon(), &cm, deployment], SPEC_NO_CORE);
        let findings = assert_passes(&input);
        let f = only(&findings, "realm", is_realm);
        assert_eq!(f.code, Some(Code::HarborRealmWorks));
        assert_eq!(f.severity, "info");
        assert_eq!(f.current.as_deref(), Some(FIXED_CORE_URL));
        assert_eq!(f.proposed.as_deref(), Some(FIXED_CORE_URL));
        // The same realm in every version, and no "before": nothing changes.
        assert_eq!(realms(f), [FIXED_REALM]);
    }
}

const SPEC_EXTERNAL: &str = r#"registry: harbor.example.com
scheme: https
namespace: ci
harborNamespace: default
generate: [buildkitdConfig, task]
"#;

#[test]
fn realm_outside_the_cluster_works_by_the_request_host_rule() {
    let input = resource_list(&[CHART_CM, &daemon(), CORE_V2_14], SPEC_EXTERNAL);
    let findings = assert_passes(&input);
    let f = only(&findings, "realm", is_realm);
    assert_eq!(f.code, Some(Code::HarborRealmWorks));
    assert_eq!(f.severity, "info");
    assert_eq!(f.on(), "ConfigMap default/harbor-core");
    // Nothing to change: the proposed value is what is deployed.
    assert_eq!(f.current.as_deref(), Some(CHART_CORE_URL));
    assert_eq!(f.proposed.as_deref(), Some(CHART_CORE_URL));
    assert_eq!(realms(f), [EXTERNAL_REALM]);

    // With the version unknown both rules give the external name, which works.
    let (code, findings) = checked(&resource_list(&[CHART_CM, &daemon()], SPEC_EXTERNAL));
    assert_eq!(code, 0);
    let f = only(&findings, "realm", is_realm);
    assert_eq!(f.code, Some(Code::HarborRealmWorks));
    assert_eq!(f.severity, "info", "{}", f.message);
    assert_eq!(f.proposed, f.current);
    assert_eq!(realms(f), [EXTERNAL_REALM, EXTERNAL_REALM]);
}

#[test]
fn realm_failing_under_one_rule_only_is_a_warning_until_the_version_is_known() {
    // HTTPS to the in-cluster name: v2.14+ answers with the request's Host (works),
    // v2.2-v2.13 with the external name (pods may not reach it).
    let spec = SPEC_NO_CORE.replace("scheme: http", "scheme: https");
    let (code, findings) = checked(&resource_list(&[&daemon(), CHART_CM], &spec));
    assert_eq!(code, 0);
    let f = only(&findings, "realm", is_realm);
    assert_eq!(
        (f.code, f.severity.as_str()),
        (Some(Code::HarborRealm), "warning"),
        "{}",
        f.message
    );
    assert_eq!(
        f.proposed.as_deref(),
        Some("https://harbor-core.default.svc.cluster.local")
    );

    let (code, findings) = checked(&resource_list(&[&daemon(), CHART_CM, CORE_V2_13], &spec));
    assert_eq!(code, 1);
    let f = only(&findings, "realm", is_realm);
    assert_eq!(
        (f.code, f.severity.as_str()),
        (Some(Code::HarborRealm), "error")
    );

    let (code, findings) = checked(&resource_list(&[&daemon(), CHART_CM, CORE_V2_14], &spec));
    assert_eq!(code, 0);
    let f = only(&findings, "realm", is_realm);
    assert_eq!(
        (f.code, f.severity.as_str()),
        (Some(Code::HarborRealmWorks), "info")
    );
}

// ---------------------------------------------------------------------------------
// 3. No Harbor ConfigMap to read

#[test]
fn realm_cannot_be_predicted_without_harbors_config_map() {
    // An in-cluster registry: the chart's CORE_URL would not match it, and kustomize
    // shows only stderr, so it is a warning that says where to set CORE_URL.
    let input = resource_list(&[&daemon()], SPEC_NO_CORE);
    let findings = assert_passes(&input);
    let f = only(&findings, "outside", is(Code::HarborOutsideInput));
    assert_eq!(f.severity, "warning");
    assert_eq!(f.on(), "ConfigMap default/harbor-core");
    for fix in [
        "core.extraEnvVars",
        "jobservice.extraEnvVars",
        "--post-renderer",
    ] {
        assert!(f.message.contains(fix), "{fix}: {}", f.message);
    }
    none(&findings, "realm", is_realm);

    // A registry outside the cluster: only an info, with the probe to run.
    let spec = SPEC_NO_CORE.replace(
        "harbor-core.default.svc.cluster.local\nscheme: http",
        "harbor.example.com\nscheme: https",
    );
    let input = resource_list(&[&daemon()], &spec);
    let findings = assert_passes(&input);
    let f = only(&findings, "realm", is_realm);
    assert_eq!(f.code, Some(Code::HarborRealmUnknown));
    assert_eq!(f.severity, "info");
    // Harbor's namespace is not known from an external name.
    assert_eq!(
        (f.api_version.as_str(), f.kind.as_str(), f.name.as_str()),
        ("v1", "ConfigMap", "harbor-core")
    );
    assert_eq!(f.path, None);
    assert!(realms(f).is_empty(), "{}", f.message);
    // The way forward is a command to run: the message must give it, with this spec's
    // registry and scheme, ready to paste.
    assert!(
        f.message
            .contains("`harbor-buildkit-fn doctor harbor.example.com --scheme https`"),
        "{}",
        f.message
    );

    // A ConfigMap without CORE_URL is not found by its content; named, it is read, and
    // the realm still cannot be predicted.
    let cm = r#"- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: harbor-core
    namespace: default
  data:
    EXT_ENDPOINT: "https://harbor.example.com"
"#;
    let spec = format!("{SPEC_NO_CORE}harborConfigMap: harbor-core\n");
    let (code, findings) = checked(&resource_list(&[&daemon(), cm], &spec));
    assert_eq!(code, 0);
    let f = only(&findings, "realm", is_realm);
    assert_eq!(f.code, Some(Code::HarborRealmUnknown));
    assert_eq!(f.severity, "info");
    assert_eq!(f.on(), "ConfigMap default/harbor-core");
}

// ---------------------------------------------------------------------------------
// 4. jobservice's CORE_URL

fn jobservice_cm(namespace: &str, core_url: &str) -> String {
    format!(
        r#"- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: harbor-jobservice-env
    namespace: {namespace}
  data:
    CORE_URL: "{core_url}"
    TOKEN_SERVICE_URL: "{core_url}/service/token"
    REGISTRY_URL: "http://harbor-registry:5000"
"#
    )
}

/// jobservice's Deployment as the chart renders it (v1.4.0 on): its env from
/// `<fullname>-jobservice-env`, or `env` entries (`jobservice.extraEnvVars`).
fn jobservice_dpl(env: &str) -> String {
    let env = if env.is_empty() {
        String::new()
    } else {
        format!("          env:\n{env}")
    };
    format!(
        r#"- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: harbor-jobservice
    namespace: default
  spec:
    template:
      spec:
        containers:
        - name: jobservice
          image: goharbor/harbor-jobservice:v2.13.1
          envFrom:
          - configMapRef:
              name: harbor-jobservice-env
{env}"#
    )
}

/// jobservice tells the local Harbor by comparing a replication endpoint's URL with
/// its own CORE_URL, and that URL is harbor-core's (goharbor/harbor
/// `src/pkg/reg/adapter/harbor/base/adapter.go` isLocalHarbor, `src/pkg/reg/manager.go`):
/// where harbor-core's changes, jobservice's follows, where jobservice reads it, and
/// jobservice restarts.
#[test]
fn jobservice_core_url_follows_harbor_cores() {
    let jobservice = jobservice_cm("default", CHART_CORE_URL);
    let input = resource_list(
        &[
            CHART_CM,
            &daemon(),
            CORE_V2_13,
            &jobservice,
            &jobservice_dpl(""),
        ],
        SPEC_ALL,
    );
    let findings = assert_passes(&input);
    none(&findings, "jobservice", is(Code::HarborJobserviceMismatch));
    let r = run(&input);
    let js = common::find(&r.items, "ConfigMap", "harbor-jobservice-env");
    assert_eq!(js["data"]["CORE_URL"], FIXED_CORE_URL);
    assert_eq!(
        js["data"]["TOKEN_SERVICE_URL"],
        format!("{FIXED_CORE_URL}/service/token")
    );
    let dpl = common::find(&r.items, "Deployment", "harbor-jobservice");
    assert!(
        dpl["spec"]["template"]["metadata"]["annotations"]["harbor-buildkit.dev/core-config-checksum"]
            .is_string(),
        "{dpl}"
    );
    let said = only(&r.results, "jobservice", |f| {
        f.code == Some(Code::HarborJobserviceCoreUrl) && f.path.as_deref() == Some("data.CORE_URL")
    });
    assert_eq!(said.on(), "ConfigMap default/harbor-jobservice-env");
    assert_eq!(said.current.as_deref(), Some(CHART_CORE_URL));

    // From jobservice's env (jobservice.extraEnvVars), the env entry is set.
    let env = "          - name: CORE_URL\n            value: http://harbor-core:80\n";
    let input = resource_list(
        &[
            CHART_CM,
            &daemon(),
            CORE_V2_13,
            &jobservice,
            &jobservice_dpl(env),
        ],
        SPEC_ALL,
    );
    let r = run(&input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dpl = common::find(&r.items, "Deployment", "harbor-jobservice");
    assert_eq!(
        dpl["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"],
        FIXED_CORE_URL
    );
    let js = common::find(&r.items, "ConfigMap", "harbor-jobservice-env");
    assert_eq!(js["data"]["CORE_URL"], CHART_CORE_URL, "env wins: left");

    // From valueFrom: not written, and said.
    let env = "          - name: CORE_URL\n            valueFrom:\n              configMapKeyRef: {name: urls, key: core}\n";
    let input = resource_list(
        &[
            CHART_CM,
            &daemon(),
            CORE_V2_13,
            &jobservice,
            &jobservice_dpl(env),
        ],
        SPEC_ALL,
    );
    let r = run(&input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let w = only(&r.results, "jobservice", is(Code::HarborJobserviceMismatch));
    assert_eq!(w.severity, "warning");
    assert_eq!(w.on(), "Deployment default/harbor-jobservice");
}

/// A jobservice ConfigMap with no jobservice in the input is not jobservice's to
/// judge: neither patched nor a finding, and never mistaken for harbor-core's
/// ConfigMap (it has no EXT_ENDPOINT).
#[test]
fn a_jobservice_config_map_alone_is_left_alone() {
    let jobservice = jobservice_cm("default", CHART_CORE_URL);
    let input = resource_list(&[CHART_CM, &daemon(), &jobservice], SPEC_ALL);
    let findings = assert_passes(&input);
    assert!(
        findings.iter().all(|f| f.severity == "info"),
        "{}",
        dump(&findings)
    );
    let r = run(&input);
    let js = common::find(&r.items, "ConfigMap", "harbor-jobservice-env");
    assert_eq!(js["data"]["CORE_URL"], CHART_CORE_URL);
    let core = common::find(&r.items, "ConfigMap", "harbor-core");
    assert_eq!(core["data"]["CORE_URL"], FIXED_CORE_URL);
}

/// harbor-core's CORE_URL already right (nothing to change) while jobservice's is
/// another string: the check says so, with the fix.
#[test]
fn jobservice_core_url_that_differs_is_a_warning() {
    let cm = CHART_CM.replace(CHART_CORE_URL, FIXED_CORE_URL);
    let jobservice = jobservice_cm("default", CHART_CORE_URL);
    let input = resource_list(
        &[&cm, &daemon(), CORE_V2_13, &jobservice, &jobservice_dpl("")],
        SPEC_ALL,
    );
    let (code, findings) = checked(&input);
    assert_eq!(code, 0, "{}", dump(&findings));
    let f = only(&findings, "jobservice", is(Code::HarborJobserviceMismatch));
    assert_eq!(f.severity, "warning");
    assert_eq!(f.on(), "ConfigMap default/harbor-jobservice-env");
    assert_eq!(f.path.as_deref(), Some("data.CORE_URL"));
    assert_eq!(f.current.as_deref(), Some(CHART_CORE_URL));
    assert_eq!(f.proposed.as_deref(), Some(FIXED_CORE_URL));
}

// ---------------------------------------------------------------------------------
// 5. buildkitd.toml

/// The BuildKit ConfigMap in namespace ci holding `toml` (unindented).
fn buildkitd_cm(toml: &str) -> String {
    let mut s = String::from(
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: buildkitd-config\n    namespace: ci\n  data:\n    buildkitd.toml: |\n",
    );
    for line in toml.lines() {
        if !line.is_empty() {
            s.push_str("      ");
            s.push_str(line);
        }
        s.push('\n');
    }
    s
}

#[test]
fn buildkitd_table_keyed_with_a_port_the_registry_lacks_is_a_warning() {
    let cm = buildkitd_cm(
        r#"debug = true

[registry."harbor-core.default.svc.cluster.local:80"]
  http = true
"#,
    );
    // Written by this run (our table is added beside it) and left as it is.
    for spec in [SPEC_ALL, SPEC_NO_TOML] {
        // The daemon reads the file (nothing would, without one: an error).
        let input = resource_list(&[CHART_CM, &cm, &daemon()], spec);
        let (_, findings) = checked(&input);
        let f = only(&findings, "port-key", is(Code::BuildkitTablePort));
        assert_eq!(f.severity, "warning");
        assert_eq!(f.path.as_deref(), Some("data.buildkitd.toml"));
        assert_eq!(
            (f.api_version.as_str(), f.on().as_str()),
            ("v1", "ConfigMap ci/buildkitd-config")
        );
        assert_eq!(
            f.current.as_deref(),
            Some(r#"[registry."harbor-core.default.svc.cluster.local:80"]"#)
        );
        assert_eq!(
            f.proposed.as_deref(),
            Some(r#"[registry."harbor-core.default.svc.cluster.local"]"#)
        );
    }
    assert_passes(&resource_list(&[CHART_CM, &cm, &daemon()], SPEC_ALL));
}

#[test]
fn buildkitd_table_keyed_without_the_registrys_port_is_a_warning() {
    let cm = buildkitd_cm(
        r#"[registry."harbor-core.default.svc.cluster.local"]
  http = true
"#,
    );
    // (harbor-core's Service is not on 8080: Harbor is left out of this run.)
    let spec = SPEC_NO_CORE.replace(FQDN, "harbor-core.default.svc.cluster.local:8080");
    let input = resource_list(&[&daemon(), &cm], &spec);
    let findings = assert_passes(&input);
    let f = only(&findings, "port-key", is(Code::BuildkitTablePort));
    assert_eq!(f.severity, "warning");
    assert_eq!(f.on(), "ConfigMap ci/buildkitd-config");
    assert_eq!(
        f.current.as_deref(),
        Some(r#"[registry."harbor-core.default.svc.cluster.local"]"#)
    );
    assert_eq!(
        f.proposed.as_deref(),
        Some(r#"[registry."harbor-core.default.svc.cluster.local:8080"]"#)
    );
}

#[test]
fn buildkitd_http_registry_without_http_true_is_an_error_when_left_as_it_is() {
    let table = r#"[registry."harbor-core.default.svc.cluster.local"]"#;
    // The registry's table without http = true, with insecure = true alone, and none.
    for toml in [
        "[registry.\"harbor-core.default.svc.cluster.local\"]\n  mirrors = [\"mirror.local\"]\n",
        "[registry.\"harbor-core.default.svc.cluster.local\"]\n  insecure = true\n",
        "debug = true\n",
    ] {
        let input = resource_list(&[&buildkitd_cm(toml)], SPEC_NO_TOML);
        let f = assert_fails(&input, is_buildkitd);
        assert_eq!(f.code, Some(Code::BuildkitHttpMissing), "{toml}");
        assert_eq!(
            (f.api_version.as_str(), f.on().as_str()),
            ("v1", "ConfigMap ci/buildkitd-config")
        );
        assert_eq!(f.current, None);
        assert_eq!(
            f.proposed.as_deref(),
            Some(format!("{table} http = true").as_str())
        );

        // Written by this run, the table is right: no finding.
        let (code, findings) = checked(&resource_list(
            &[CHART_CM, &buildkitd_cm(toml), &daemon()],
            SPEC_ALL,
        ));
        assert_eq!(code, 0);
        none(&findings, "buildkitd", is_buildkitd);
    }
}

#[test]
fn buildkitd_http_with_insecure_is_a_warning() {
    // The seed's table (examples/resource-lists/existing-buildkitd-toml.yaml).
    let cm = buildkitd_cm(
        r#"[registry."harbor-core.default.svc.cluster.local"]
  http = true      # Use HTTP protocol for v2 API
  insecure = true  # Enable httpFallback transport for HTTPS->HTTP fallback
"#,
    );
    let findings = assert_passes(&resource_list(&[&cm], SPEC_NO_TOML));
    let f = only(&findings, "buildkitd", is_buildkitd);
    assert_eq!(f.code, Some(Code::BuildkitHttpAndInsecure));
    assert_eq!(f.severity, "warning");
    assert_eq!(f.on(), "ConfigMap ci/buildkitd-config");
    assert_eq!(f.current.as_deref(), Some("insecure = true"));
    assert_eq!(f.proposed.as_deref(), Some("(removed)"));

    // The example itself lets the function write the table: nothing to report.
    let (code, findings) = checked(&common::example("existing-buildkitd-toml.yaml"));
    assert_eq!(code, 0);
    none(&findings, "buildkitd", is_buildkitd);
}

#[test]
fn buildkitd_https_registry_with_http_true_is_an_error() {
    let cm = buildkitd_cm(
        r#"[registry."harbor.example.com"]
  http = true
"#,
    );
    let spec = r#"registry: harbor.example.com
scheme: https
namespace: ci
harborNamespace: default
generate: [task]
"#;
    let f = assert_fails(&resource_list(&[&cm], spec), is_buildkitd);
    assert_eq!(f.code, Some(Code::BuildkitHttpForHttps));
    assert_eq!(f.on(), "ConfigMap ci/buildkitd-config");
    assert_eq!(f.current.as_deref(), Some("http = true"));
    assert_eq!(f.proposed.as_deref(), Some("(removed)"));
}

#[test]
fn buildkitd_localhost_needs_no_http_table() {
    for registry in ["localhost:5000", "127.0.0.1:5000"] {
        let spec = format!(
            "registry: {registry}\nscheme: http\nnamespace: ci\nharborNamespace: harbor\ngenerate: [task]\n"
        );
        let cm = buildkitd_cm("debug = true\n");
        let findings = assert_passes(&resource_list(&[&cm], &spec));
        none(&findings, "buildkitd", is_buildkitd);
    }
}

// ---------------------------------------------------------------------------------
// 6. DOCKER_CONFIG in Tekton Tasks and TaskRuns

fn push_secret() -> String {
    format!(
        r#"- apiVersion: v1
  kind: Secret
  metadata:
    name: harbor-push
    namespace: ci
  type: kubernetes.io/dockerconfigjson
  data:
    .dockerconfigjson: {SECRET_VALUE}
"#
    )
}

/// A user's Task whose DOCKER_CONFIG is the mount of a Secret volume (the second
/// volume), with `items` under the secret when given.
fn task_with_secret_volume(items: &str) -> String {
    format!(
        r#"- apiVersion: tekton.dev/v1
  kind: Task
  metadata:
    name: image-build
    namespace: ci
  spec:
    steps:
    - name: push
      image: moby/buildkit:v0.23.2-rootless
      env:
      - name: HOME
        value: /tekton/home
      - name: DOCKER_CONFIG
        value: /docker
      volumeMounts:
      - name: cache
        mountPath: /cache
      - name: docker-config
        mountPath: /docker
    volumes:
    - name: cache
      emptyDir: {{}}
    - name: docker-config
      secret:
        secretName: harbor-push{items}
"#
    )
}

/// No finding, message or value may hold the Secret's data.
fn assert_no_secret(findings: &[Finding], stderr: &str) {
    for f in findings {
        for text in [Some(&f.message), f.current.as_ref(), f.proposed.as_ref()]
            .into_iter()
            .flatten()
        {
            for secret in [SECRET_VALUE, SECRET_AUTH, SECRET_PASSWORD] {
                assert!(!text.contains(secret), "secret data printed: {text}");
            }
        }
    }
    for secret in [SECRET_VALUE, SECRET_AUTH, SECRET_PASSWORD] {
        assert!(!stderr.contains(secret), "secret data on stderr");
    }
}

#[test]
fn docker_config_secret_volume_without_config_json_is_an_error() {
    let task = task_with_secret_volume("");
    let input = resource_list(&[CHART_CM, &daemon(), &task, &push_secret()], SPEC_ALL);
    let f = assert_fails(&input, is_docker_config);
    assert_eq!(
        (f.api_version.as_str(), f.on().as_str()),
        ("tekton.dev/v1", "Task ci/image-build")
    );
    assert_eq!(f.path.as_deref(), Some("spec.volumes[1].secret.items"));
    assert_eq!(f.current, None);
    let proposed = f.proposed.as_deref().unwrap_or_default();
    assert!(
        proposed.contains("config.json") && proposed.contains(".dockerconfigjson"),
        "{proposed}"
    );
    let r = run(&input);
    assert_no_secret(&r.results, &r.stderr);
    assert!(!r.stdout.contains(SECRET_VALUE));
    let (_, findings) = checked(&input);
    assert_no_secret(&findings, "");
}

#[test]
fn docker_config_secret_volume_mapped_to_config_json_is_fine() {
    let items = "\n        items:\n        - key: .dockerconfigjson\n          path: config.json";
    let task = task_with_secret_volume(items);
    let findings = assert_passes(&resource_list(
        &[CHART_CM, &daemon(), &task, &push_secret()],
        SPEC_ALL,
    ));
    none(&findings, "DOCKER_CONFIG", is_docker_config);
}

#[test]
fn docker_config_secret_volume_with_items_but_no_config_json_is_an_error() {
    let items =
        "\n        items:\n        - key: .dockerconfigjson\n          path: .dockerconfigjson";
    let task = task_with_secret_volume(items);
    let f = assert_fails(
        &resource_list(&[CHART_CM, &daemon(), &task, &push_secret()], SPEC_ALL),
        is_docker_config,
    );
    assert_eq!(f.on(), "Task ci/image-build");
    assert_eq!(f.path.as_deref(), Some("spec.volumes[1].secret.items"));
    // The items written replaced: the proposal maps the key to config.json.
    assert_eq!(
        f.proposed.as_deref(),
        Some("[{key: .dockerconfigjson, path: config.json}]")
    );
}

#[test]
fn docker_config_secret_not_in_the_input_is_a_warning() {
    let task = task_with_secret_volume("");
    let input = resource_list(&[CHART_CM, &daemon(), &task], SPEC_ALL);
    let findings = assert_passes(&input);
    let f = only(&findings, "DOCKER_CONFIG", is_docker_config);
    assert_eq!(f.severity, "warning");
    assert_eq!(f.on(), "Task ci/image-build");
    assert_eq!(f.path.as_deref(), Some("spec.volumes[1].secret.items"));
    assert!(
        f.proposed
            .as_deref()
            .unwrap_or_default()
            .contains("config.json")
    );
}

#[test]
fn docker_config_workspace_bound_to_a_secret_is_an_error_on_the_task_run() {
    let by_path = r#"- apiVersion: tekton.dev/v1
  kind: Task
  metadata:
    name: image-build
    namespace: ci
  spec:
    workspaces:
    - name: source
    - name: dockerconfig
    steps:
    - name: push
      image: moby/buildkit:v0.23.2-rootless
      env:
      - name: DOCKER_CONFIG
        value: $(workspaces.dockerconfig.path)
"#;
    // The same through the workspace's mountPath.
    let by_mount = r#"- apiVersion: tekton.dev/v1
  kind: Task
  metadata:
    name: image-build
    namespace: ci
  spec:
    workspaces:
    - name: source
    - name: dockerconfig
      mountPath: /docker
    steps:
    - name: push
      image: moby/buildkit:v0.23.2-rootless
      env:
      - name: DOCKER_CONFIG
        value: /docker
"#;
    let task_run = |items: &str| {
        format!(
            r#"- apiVersion: tekton.dev/v1
  kind: TaskRun
  metadata:
    name: image-build-run
    namespace: ci
  spec:
    taskRef:
      name: image-build
    workspaces:
    - name: source
      emptyDir: {{}}
    - name: dockerconfig
      secret:
        secretName: harbor-push{items}
"#
        )
    };
    for task in [by_path, by_mount] {
        let input = resource_list(
            &[CHART_CM, &daemon(), task, &task_run(""), &push_secret()],
            SPEC_ALL,
        );
        let f = assert_fails(&input, is_docker_config);
        assert_eq!(
            (f.api_version.as_str(), f.on().as_str()),
            ("tekton.dev/v1", "TaskRun ci/image-build-run")
        );
        assert_eq!(f.path.as_deref(), Some("spec.workspaces[1].secret.items"));
        assert!(
            f.proposed
                .as_deref()
                .unwrap_or_default()
                .contains("config.json")
        );
        let r = run(&input);
        assert_no_secret(&r.results, &r.stderr);

        // Mapped to config.json: fine.
        let items =
            "\n        items:\n        - key: .dockerconfigjson\n          path: config.json";
        let findings = assert_passes(&resource_list(
            &[CHART_CM, &daemon(), task, &task_run(items), &push_secret()],
            SPEC_ALL,
        ));
        none(&findings, "DOCKER_CONFIG", is_docker_config);
    }
}

#[test]
fn docker_config_in_an_inline_task_spec_is_found_at_its_path() {
    let with_volume = r#"- apiVersion: tekton.dev/v1
  kind: TaskRun
  metadata:
    name: inline-build
    namespace: ci
  spec:
    taskSpec:
      steps:
      - name: push
        image: moby/buildkit:v0.23.2-rootless
        env:
        - name: DOCKER_CONFIG
          value: /docker/
        volumeMounts:
        - name: creds
          mountPath: /docker
      volumes:
      - name: creds
        secret:
          secretName: harbor-push
"#;
    let input = resource_list(
        &[CHART_CM, &daemon(), with_volume, &push_secret()],
        SPEC_ALL,
    );
    let f = assert_fails(&input, is_docker_config);
    assert_eq!(f.on(), "TaskRun ci/inline-build");
    assert_eq!(
        f.path.as_deref(),
        Some("spec.taskSpec.volumes[0].secret.items")
    );
    let r = run(&input);
    assert_no_secret(&r.results, &r.stderr);

    let with_workspace = r#"- apiVersion: tekton.dev/v1
  kind: TaskRun
  metadata:
    name: inline-build
    namespace: ci
  spec:
    taskSpec:
      workspaces:
      - name: dockerconfig
      steps:
      - name: push
        image: moby/buildkit:v0.23.2-rootless
        env:
        - name: DOCKER_CONFIG
          value: $(workspaces.dockerconfig.path)
    workspaces:
    - name: dockerconfig
      secret:
        secretName: harbor-push
"#;
    let f = assert_fails(
        &resource_list(
            &[CHART_CM, &daemon(), with_workspace, &push_secret()],
            SPEC_ALL,
        ),
        is_docker_config,
    );
    assert_eq!(f.on(), "TaskRun ci/inline-build");
    assert_eq!(f.path.as_deref(), Some("spec.workspaces[0].secret.items"));
}

#[test]
fn docker_config_of_the_generated_task_is_not_a_finding() {
    // The Task this function generates copies .dockerconfigjson to an emptyDir, so a
    // TaskRun binding its workspace to the Secret as it is needs nothing more.
    let task_run = r#"- apiVersion: tekton.dev/v1
  kind: TaskRun
  metadata:
    name: build-run
    namespace: ci
  spec:
    taskRef:
      name: buildkit-build
    workspaces:
    - name: source
      emptyDir: {}
    - name: dockerconfig
      secret:
        secretName: harbor-push
    - name: buildkit-client-certs
      secret:
        secretName: buildkit-client-certs
"#;
    let input = resource_list(&[CHART_CM, &daemon(), task_run, &push_secret()], SPEC_ALL);
    let first = run(&input);
    assert_eq!(first.code, 0, "{}", first.stderr);
    common::find(&first.items, "Task", "buildkit-build");
    // On the next run the generated Task is in the input.
    let (code, findings) = checked(&first.stdout);
    assert_eq!(code, 0, "{}", dump(&findings));
    none(&findings, "DOCKER_CONFIG", is_docker_config);
}

#[test]

fn docker_config_from_the_step_template_applies_to_every_step() {
    // Tekton merges stepTemplate into each step: steps[0] runs with DOCKER_CONFIG=/docker
    // and the Secret mounted there.
    let task = r#"- apiVersion: tekton.dev/v1
  kind: Task
  metadata:
    name: image-build
    namespace: ci
  spec:
    stepTemplate:
      env:
      - name: DOCKER_CONFIG
        value: /docker
    steps:
    - name: push
      image: moby/buildkit:v0.23.2-rootless
      volumeMounts:
      - name: docker-config
        mountPath: /docker
    volumes:
    - name: docker-config
      secret:
        secretName: harbor-push
"#;
    let f = assert_fails(
        &resource_list(&[CHART_CM, &daemon(), task, &push_secret()], SPEC_ALL),
        is_docker_config,
    );
    assert_eq!(f.on(), "Task ci/image-build");
    assert_eq!(f.path.as_deref(), Some("spec.volumes[0].secret.items"));
}

#[test]

fn docker_config_secret_volume_with_empty_items_projects_every_key() {
    // The kubelet's secret MakePayload: len(mappings) == 0 projects all keys.
    let task = task_with_secret_volume("\n        items: []");
    let secret = r#"- apiVersion: v1
  kind: Secret
  metadata:
    name: harbor-push
    namespace: ci
  type: Opaque
  stringData:
    config.json: "{}"
"#;
    let findings = assert_passes(&resource_list(
        &[CHART_CM, &daemon(), &task, secret],
        SPEC_ALL,
    ));
    none(&findings, "DOCKER_CONFIG", is_docker_config);

    // With a dockerconfigjson Secret it is the no-config.json error, told by its keys.
    let f = assert_fails(
        &resource_list(&[CHART_CM, &daemon(), &task, &push_secret()], SPEC_ALL),
        is_docker_config,
    );
    assert_eq!(f.path.as_deref(), Some("spec.volumes[1].secret.items"));
    assert_eq!(
        f.proposed.as_deref(),
        Some("[{key: .dockerconfigjson, path: config.json}]")
    );
}

#[test]
fn docker_config_secret_holding_config_json_is_fine() {
    let task = task_with_secret_volume("");
    let secret = r#"- apiVersion: v1
  kind: Secret
  metadata:
    name: harbor-push
    namespace: ci
  type: Opaque
  stringData:
    config.json: "{}"
"#;
    let findings = assert_passes(&resource_list(
        &[CHART_CM, &daemon(), &task, secret],
        SPEC_ALL,
    ));
    none(&findings, "DOCKER_CONFIG", is_docker_config);
}

// ---------------------------------------------------------------------------------
// 7. The `check` command

fn bin(args: &[&str], stdin: &str) -> (i32, String, String) {
    common::run_bin(args, stdin.as_bytes())
}

use common::TempDir;

fn arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or_default()
}

#[test]
fn check_command_on_a_resource_list_from_stdin() {
    let jobservice = jobservice_cm("default", CHART_CORE_URL);
    let input = resource_list(&[CHART_CM, &daemon(), CORE_V2_13, &jobservice], SPEC_ALL);
    let (code, stdout, stderr) = bin(&["check", "--planned"], &input);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // Only findings (not what was generated or patched): the realm's, on Harbor's
    // ConfigMap, with its field and values below it.
    let lines = common::results::lines(&stdout);
    assert_eq!(
        common::results::line_codes(&stdout),
        [(Severity::Info, Code::HarborRealmWorks)],
        "{stdout}"
    );
    assert!(lines[0].is_on("ConfigMap default/harbor-core"), "{stdout}");
    assert!(
        stdout.contains(
            "    field: data.CORE_URL: http://harbor-core:80 -> http://harbor-core.default.svc.cluster.local\n"
        ),
        "{stdout}"
    );
    assert_eq!(last_line(&stdout), "0 errors, 0 warnings, 1 info finding");

    // As they are (the default), the same manifests lack the function's changes:
    // each is an error, and the function's own output has none.
    let (code, stdout, _) = bin(&["check"], &input);
    assert_eq!(code, 1, "{stdout}");
    let pending = common::results::lines(&stdout)
        .into_iter()
        .filter(|l| l.code == Code::CheckPendingChange)
        .count();
    assert!(
        pending >= 3,
        "CORE_URL, TOKEN_SERVICE_URL, the generated items: {stdout}"
    );
    assert!(
        stdout.contains("    field: data.CORE_URL: http://harbor-core:80 -> http://harbor-core.default.svc.cluster.local\n"),
        "{stdout}"
    );
    let rendered = run(&input).stdout;
    let (code, stdout, _) = bin(&["check"], &rendered);
    assert_eq!(code, 0, "{stdout}");

    // An error exits 1, and the count says so.
    let input = resource_list(
        &[&daemon(), CHART_CM, CORE_V2_13, &jobservice],
        SPEC_NO_CORE,
    );
    let (code, stdout, _) = bin(&["check", "--planned"], &input);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.starts_with("error[HBF200]: ConfigMap default/harbor-core: "),
        "{stdout}"
    );
    assert_eq!(last_line(&stdout), "1 error, 0 warnings, 0 info findings");
}

#[test]
fn check_command_yaml_format_is_a_resource_list_of_results() {
    for (spec, code_wanted, severity) in [(SPEC_ALL, 0, "info"), (SPEC_NO_CORE, 1, "error")] {
        let input = resource_list(&[CHART_CM, &daemon(), CORE_V2_13], spec);
        let (code, stdout, stderr) = bin(&["check", "--planned", "--format", "yaml"], &input);
        assert_eq!(code, code_wanted, "{stdout}{stderr}");
        assert!(stdout.contains("items: []\n"), "{stdout}");
        let rl = common::parse_json(&stdout);
        assert_eq!(rl["kind"], "ResourceList");
        assert_eq!(rl["apiVersion"], "config.kubernetes.io/v1");
        assert_eq!(rl["items"], Value::Array(vec![]));
        let results = results_of(&stdout);
        let f = only(&results, "realm", is_realm);
        assert_eq!(f.severity, severity);
        let want = if severity == "info" {
            Code::HarborRealmWorks
        } else {
            Code::HarborRealm
        };
        assert_eq!(f.code, Some(want));
        assert_eq!(f.on(), "ConfigMap default/harbor-core");
        assert_eq!(f.path.as_deref(), Some("data.CORE_URL"));
        assert_eq!(f.current.as_deref(), Some(CHART_CORE_URL));
        assert_eq!(f.proposed.as_deref(), Some(FIXED_CORE_URL));
        // The same findings as the library's check.
        assert_eq!(results, checked(&input).1);
    }
}

#[test]
fn check_command_on_a_config_file_and_resource_files() {
    let tmp = TempDir::new("files");
    let config = tmp.write(
        "config/harbor-buildkit.yaml",
        r#"apiVersion: fn.harbor-buildkit.dev/v1alpha1
kind: HarborBuildkit
metadata:
  name: harbor-buildkit
spec:
  registry: harbor-core.default.svc.cluster.local
  scheme: http
  namespace: ci
  generate: [task]
"#,
    );
    let core = tmp.write(
        "harbor/core.yaml",
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: harbor-core
  namespace: default
data:
  EXT_ENDPOINT: "https://harbor.example.com"
  CORE_URL: "http://harbor-core:80"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: harbor-core
  namespace: default
spec:
  template:
    spec:
      containers:
      - name: core
        image: goharbor/harbor-core:v2.13.1
"#,
    );
    tmp.write(
        "harbor/jobservice/env.yaml",
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: harbor-jobservice-env
  namespace: default
data:
  CORE_URL: "http://harbor-core.default.svc.cluster.local"
"#,
    );
    let config = arg(&config);

    // One file: the chart's CORE_URL with the patch left out fails (judged as the
    // function leaves it: the Task it would add is not the question here).
    let (code, stdout, stderr) = bin(&["check", "--planned", &config, &arg(&core)], "");
    assert_eq!(code, 1, "{stdout}{stderr}");
    let line = common::results::line(&stdout, Code::HarborRealm);
    assert!(line.is_on("ConfigMap default/harbor-core"), "{stdout}");
    // The Deployment in the same file was read: only the v2.2-v2.13 rule's realm.
    assert!(
        stdout.contains(EXTERNAL_REALM) && !stdout.contains(HOST_REALM),
        "{stdout}"
    );
    assert_eq!(last_line(&stdout), "1 error, 0 warnings, 0 info findings");

    // The folder, walked: the same finding (a jobservice ConfigMap without jobservice
    // is not compared).
    let (code, stdout, _) = bin(
        &["check", "--planned", &config, &arg(&tmp.join("harbor"))],
        "",
    );
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(last_line(&stdout), "1 error, 0 warnings, 0 info findings");

    // CONFIG with the resources on stdin, as YAML results.
    let text = std::fs::read_to_string(&core).expect("read");
    let (code, stdout, _) = bin(&["check", "--planned", "--format", "yaml", &config], &text);
    assert_eq!(code, 1, "{stdout}");
    let results = results_of(&stdout);
    let f = only(&results, "realm", is_realm);
    assert_eq!(f.code, Some(Code::HarborRealm));
    assert_eq!(f.severity, "error");
    assert_eq!(f.proposed.as_deref(), Some(FIXED_CORE_URL));

    // With the CORE_URL fixed, the same files pass.
    tmp.write(
        "harbor/core.yaml",
        &std::fs::read_to_string(&core)
            .expect("read")
            .replace(CHART_CORE_URL, FIXED_CORE_URL),
    );
    let (code, stdout, _) = bin(
        &["check", "--planned", &config, &arg(&tmp.join("harbor"))],
        "",
    );
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(last_line(&stdout), "0 errors, 0 warnings, 1 info finding");

    // A functionConfig that is not there.
    let (code, stdout, stderr) = bin(&["check", &arg(&tmp.join("nope.yaml")), &arg(&core)], "");
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(
        common::results::line_codes(&stderr),
        [(Severity::Error, Code::FileUnreadable)],
        "{stderr}"
    );
    // Which file: the one given, by its path.
    assert!(stderr.contains("nope.yaml"), "{stderr}");
}

#[test]
fn check_command_reports_errors_that_stop_the_function() {
    // An invalid spec: no checks run, the spec's error is the finding.
    let input = resource_list(
        &[CHART_CM],
        "registry: harbor-core.default.svc.cluster.local\nscheme: htp\n",
    );
    let (code, stdout, _) = bin(&["check"], &input);
    assert_eq!(code, 1, "{stdout}");
    // The spec's error alone: no realm finding, no other check.
    assert_eq!(
        common::results::line_codes(&stdout),
        [(Severity::Error, Code::SpecValue)],
        "{stdout}"
    );
    assert!(stdout.contains("    field: spec.scheme\n"), "{stdout}");
    assert_eq!(last_line(&stdout), "1 error, 0 warnings, 0 info findings");
}

#[test]
fn check_command_never_prints_secret_data() {
    let task = task_with_secret_volume("");
    let input = resource_list(&[CHART_CM, &daemon(), &task, &push_secret()], SPEC_ALL);
    for format in ["text", "yaml"] {
        let (code, stdout, stderr) = bin(&["check", "--format", format], &input);
        assert_eq!(code, 1, "{stdout}");
        assert!(stdout.contains("spec.volumes[1].secret.items"), "{stdout}");
        for secret in [SECRET_VALUE, SECRET_AUTH, SECRET_PASSWORD] {
            assert!(!stdout.contains(secret), "{stdout}");
            assert!(!stderr.contains(secret), "{stderr}");
        }
    }
}

// ---------------------------------------------------------------------------------
// 8. Idempotence

#[test]
fn findings_are_the_same_on_the_functions_own_output() {
    let jobservice = jobservice_cm("default", CHART_CORE_URL);
    let toml = buildkitd_cm(
        r#"[registry."harbor-core.default.svc.cluster.local:80"]
  http = true
"#,
    );
    let user_task = task_with_secret_volume("");
    let task_run = r#"- apiVersion: tekton.dev/v1
  kind: TaskRun
  metadata:
    name: build-run
    namespace: ci
  spec:
    taskRef:
      name: buildkit-build
    workspaces:
    - name: source
      emptyDir: {}
    - name: dockerconfig
      secret:
        secretName: harbor-push
"#;
    let input = resource_list(
        &[
            CHART_CM,
            CORE_V2_13,
            &jobservice,
            &toml,
            &user_task,
            task_run,
            PLAIN_DAEMON,
        ],
        SPEC_ALL,
    );
    let (code, first) = checked(&input);
    assert_eq!(code, 0, "{}", dump(&first));
    // realm (info), the port-keyed table, DOCKER_CONFIG (warnings).
    assert_eq!(first.len(), 3, "{}", dump(&first));
    only(&first, "realm", is_realm);
    only(&first, "buildkitd", is_buildkitd);
    only(&first, "DOCKER_CONFIG", is_docker_config);

    let once = run(&input);
    assert_eq!(once.code, 0, "{}", once.stderr);
    let (code, second) = checked(&once.stdout);
    assert_eq!(code, 0, "{}", dump(&second));
    let twice = run(&once.stdout);
    assert_eq!(twice.code, 0, "{}", twice.stderr);
    let (_, third) = checked(&twice.stdout);

    // Same findings, same fixes; only the realm's current value moved (it was patched).
    assert_eq!(
        first.iter().map(Finding::outcome).collect::<Vec<_>>(),
        second.iter().map(Finding::outcome).collect::<Vec<_>>()
    );
    for (a, b) in first.iter().zip(&second) {
        if is_realm(a) {
            assert_eq!(a.current.as_deref(), Some(CHART_CORE_URL));
            assert_eq!(b.current.as_deref(), Some(FIXED_CORE_URL));
            // The first also names the realm before its patch; the second has none.
            assert_eq!(realms(a), [FIXED_REALM, EXTERNAL_REALM]);
            assert_eq!(realms(b), [FIXED_REALM]);
        } else {
            assert_eq!(a, b);
        }
    }
    // From then on, nothing moves.
    assert_eq!(second, third);
}

#[test]
fn buildkitd_http_with_insecure_on_another_registry_is_a_warning() {
    // A mirror's table, next to the one this function writes.
    let cm = buildkitd_cm(
        r#"[registry."mirror.internal:5000"]
  http = true
  insecure = true

[registry."docker.io"]
  mirrors = ["mirror.internal:5000"]
"#,
    );
    let (code, findings) = checked(&resource_list(&[CHART_CM, &cm, &daemon()], SPEC_ALL));
    assert_eq!(code, 0, "{}", dump(&findings));
    let f = only(&findings, "buildkitd", is_buildkitd);
    assert_eq!(f.code, Some(Code::BuildkitHttpAndInsecure));
    assert_eq!(f.severity, "warning");
    assert_eq!(f.current.as_deref(), Some("http = true, insecure = true"));
    // Which table: the field is the whole file, and the message names the table.
    assert!(
        f.message.contains("[registry.\"mirror.internal:5000\"]"),
        "{}",
        f.message
    );
}

// ---------------------------------------------------------------------------------
// 9. Along the push: client certificates, a private CA, runs of the generated Task

/// A user's Task that runs buildctl against the daemon, with `flags` before `build`.
fn buildctl_task(flags: &str) -> String {
    format!(
        r#"- apiVersion: tekton.dev/v1
  kind: Task
  metadata:
    name: own-build
    namespace: ci
  spec:
    steps:
    - name: build
      image: moby/buildkit:v0.26.3-rootless
      script: |
        buildctl --addr tcp://buildkitd.ci.svc:1234 {flags}build --frontend dockerfile.v0
"#
    )
}

fn is_client_certs(f: &Finding) -> bool {
    f.code == Some(Code::TektonNoClientCert)
}

#[test]
fn a_task_without_client_certificates_for_a_mtls_daemon_is_an_error() {
    let f = assert_fails(
        &resource_list(&[CHART_CM, &daemon(), &buildctl_task("")], SPEC_ALL),
        is_client_certs,
    );
    assert_eq!(f.on(), "Task ci/own-build");
    assert_eq!(f.path.as_deref(), Some("spec.steps[0]"));
    // With --tlsdir it passes; the generated Task carries its own workspace.
    let findings = assert_passes(&resource_list(
        &[CHART_CM, &daemon(), &buildctl_task("--tlsdir /certs ")],
        SPEC_ALL,
    ));
    none(&findings, "client certificates", is_client_certs);
}

fn is_private_ca(f: &Finding) -> bool {
    f.code == Some(Code::TektonPrivateCa)
}

#[test]
fn an_in_cluster_https_registry_without_a_ca_for_buildctl_is_a_warning() {
    let spec =
        "registry: harbor-core.harbor.svc.cluster.local:443\nnamespace: ci\ngenerate: [task]\n";
    let (code, findings) = checked(&resource_list(&[], spec));
    assert_eq!(code, 0, "{}", dump(&findings));
    let f = only(&findings, "private CA", is_private_ca);
    assert_eq!(f.severity, "warning");
    assert_eq!(f.on(), "Task ci/buildkit-build");
    // The fix is the spec's ca field.
    assert_eq!(f.path.as_deref(), Some("spec.ca"));
    // With the CA (the Task's registry-ca workspace then is required), or for a host
    // a public CA can sign, nothing to say.
    for spec in [
        format!("{spec}ca: [/certs/ca.crt]\n"),
        "registry: harbor.example.com\nnamespace: ci\ngenerate: [task]\n".to_string(),
    ] {
        let (_, findings) = checked(&resource_list(&[], &spec));
        none(&findings, "private CA", is_private_ca);
    }
}

fn is_unbound(f: &Finding) -> bool {
    f.code == Some(Code::TektonRunMissingWorkspace)
}

/// Which workspaces a run must bind: no field lists them, so the message must name
/// each one (the user binds them by these names).
fn names_workspaces(f: &Finding, names: &[&str]) {
    for name in names {
        assert!(f.message.contains(name), "{name} unnamed: {}", f.message);
    }
}

#[test]
fn runs_of_the_generated_task_must_bind_what_it_requires() {
    // The daemon demands client certificates: the workspace is required, and a
    // TaskRun or a Pipeline that runs the Task without it is refused by Tekton.
    let bound = run_binding("harbor-push");
    let certs = "    - name: buildkit-client-certs\n      secret:\n        secretName: buildkit-client-certs\n";
    let task_run = &bound.replace(certs, "");
    let f = assert_fails(
        &resource_list(&[CHART_CM, &daemon(), task_run], SPEC_ALL),
        is_unbound,
    );
    assert_eq!(f.on(), "TaskRun ci/build-run");
    assert_eq!(f.path.as_deref(), Some("spec.workspaces"));
    names_workspaces(&f, &["buildkit-client-certs"]);
    // A Pipeline's spec, at column 0: in a Pipeline, then inline in a PipelineRun.
    let spec = "workspaces:
- name: src
tasks:
- name: fetch
  taskRef:
    name: git-clone
- name: build
  taskRef:
    name: buildkit-build
  workspaces:
  - name: source
    workspace: src
";
    let indented = |n: usize| {
        spec.lines()
            .map(|l| format!("{:n$}{l}\n", ""))
            .collect::<String>()
    };
    let pipeline = format!(
        "- apiVersion: tekton.dev/v1\n  kind: Pipeline\n  metadata:\n    name: ci\n    namespace: ci\n  spec:\n{}",
        indented(4)
    );
    let inline = format!(
        "- apiVersion: tekton.dev/v1\n  kind: PipelineRun\n  metadata:\n    name: ci\n    namespace: ci\n  spec:\n    pipelineSpec:\n{}    workspaces:\n    - name: src\n      emptyDir: {{}}\n",
        indented(6)
    );
    for (item, kind, path) in [
        (&pipeline, "Pipeline", "spec.tasks[1].workspaces"),
        (
            &inline,
            "PipelineRun",
            "spec.pipelineSpec.tasks[1].workspaces",
        ),
    ] {
        let f = assert_fails(
            &resource_list(&[CHART_CM, &daemon(), item], SPEC_ALL),
            is_unbound,
        );
        assert_eq!(f.on(), format!("{kind} ci/ci"));
        assert_eq!(f.path.as_deref(), Some(path));
        names_workspaces(&f, &["dockerconfig", "buildkit-client-certs"]);
    }
    // Bound, or optional (no daemon in the input: the client certs are optional).
    let findings = assert_passes(&resource_list(&[CHART_CM, &daemon(), &bound], SPEC_ALL));
    none(&findings, "unbound", is_unbound);
    let (_, findings) = checked(&resource_list(&[CHART_CM, task_run], SPEC_ALL));
    none(&findings, "unbound", is_unbound);
}

// ---------------------------------------------------------------------------------
// 10. The docker-registry Secret's auths, as buildctl's credential lookup reads them

/// A kubernetes.io/dockerconfigjson Secret in namespace ci with one auths entry, keyed
/// `key`, holding [`SECRET_AUTH`].
fn docker_registry_secret(name: &str, key: &str) -> String {
    use base64::Engine as _;
    let json = format!(r#"{{"auths":{{"{key}":{{"auth":"{SECRET_AUTH}"}}}}}}"#);
    format!(
        r#"- apiVersion: v1
  kind: Secret
  metadata:
    name: {name}
    namespace: ci
  type: kubernetes.io/dockerconfigjson
  data:
    .dockerconfigjson: {}
"#,
        base64::engine::general_purpose::STANDARD.encode(json)
    )
}

fn is_auths(f: &Finding) -> bool {
    f.kind == "Secret" && f.path.as_deref() == Some("data..dockerconfigjson")
}

#[test]
fn auths_key_with_a_scheme_and_path_matches_the_registry_once_normalised() {
    let secret = docker_registry_secret("harbor-push", &format!("https://{FQDN}/"));
    let input = resource_list(&[CHART_CM, &daemon(), &secret], SPEC_ALL);
    let findings = assert_passes(&input);
    let f = only(&findings, "auths", is_auths);
    assert_eq!(f.code, Some(Code::AuthFound));
    assert_eq!(f.severity, "info");
    assert_eq!(
        (f.api_version.as_str(), f.on().as_str()),
        ("v1", "Secret ci/harbor-push")
    );
    // Which entry buildctl finds: the message alone names its key.
    assert!(
        f.message.contains(&format!("auths[\"https://{FQDN}/\"]")),
        "{}",
        f.message
    );
    // The function reports the same finding in its results.
    let r = run(&input);
    let from_run = only(&r.results, "auths", is_auths);
    assert_eq!(from_run, f);
    assert_no_secret(&r.results, &r.stderr);
}

/// A TaskRun of the generated Task with its dockerconfig workspace bound to `secret`
/// (and the other workspaces it requires next to the mTLS daemon).
fn run_binding(secret: &str) -> String {
    format!(
        r#"- apiVersion: tekton.dev/v1
  kind: TaskRun
  metadata:
    name: build-run
    namespace: ci
  spec:
    taskRef:
      name: buildkit-build
    workspaces:
    - name: source
      emptyDir: {{}}
    - name: dockerconfig
      secret:
        secretName: {secret}
    - name: buildkit-client-certs
      secret:
        secretName: buildkit-client-certs
"#
    )
}

#[test]
fn auths_only_for_another_host_is_an_error_naming_the_keys_the_lookup_and_the_fix() {
    let ours = docker_registry_secret("harbor-push", &format!("https://{FQDN}/"));
    let theirs = docker_registry_secret("ext-push", "https://harbor.example.com/v2/");
    // Not bound to the Task, it may be another registry's pull Secret: a warning.
    let unbound = resource_list(&[CHART_CM, &daemon(), &ours, &theirs], SPEC_ALL);
    let (code, findings) = checked(&unbound);
    assert_eq!(code, 0, "{}", dump(&findings));
    let w = only(&findings, "auths", |f| is_auths(f) && f.name == "ext-push");
    assert_eq!(w.code, Some(Code::AuthNoMatch));
    assert_eq!(w.severity, "warning");
    // Bound by a TaskRun, it is the one buildctl gets: an error.
    let input = resource_list(
        &[
            CHART_CM,
            &daemon(),
            &ours,
            &theirs,
            &run_binding("ext-push"),
        ],
        SPEC_ALL,
    );
    let f = assert_fails(&input, |f| is_auths(f) && f.name == "ext-push");
    assert_eq!(f.code, Some(Code::AuthNoMatch));
    assert_eq!(f.on(), "Secret ci/ext-push");
    // What this test is about is the message: the keys there are, what buildctl looks
    // up, and the command that makes the Secret right (no field holds any of them).
    for said in [
        "\"https://harbor.example.com/v2/\"".to_string(),
        format!("\"{FQDN}\""),
        format!("kubectl create secret docker-registry NAME --docker-server={FQDN}"),
    ] {
        assert!(f.message.contains(&said), "lacks {said}: {}", f.message);
    }
    // The Secret that has the entry is still judged on its own: info.
    let (_, findings) = checked(&input);
    let ok = only(&findings, "auths", |f| {
        is_auths(f) && f.name == "harbor-push"
    });
    assert_eq!(ok.code, Some(Code::AuthFound));
    assert_eq!(ok.severity, "info");
    let r = run(&input);
    assert_no_secret(&r.results, &r.stderr);
    assert_no_secret(&findings, "");
}

/// A Pipeline running the generated Task with `dockerconfig` mapped to `mapping` (a
/// `workspace: NAME` line, or nothing for the Pipeline workspace of the same name), and
/// the PipelineRun that binds that workspace to `secret`; `inline` puts the Pipeline in
/// the PipelineRun's `pipelineSpec`.
fn pipeline_run_binding(secret: &str, creds: &str, mapping: &str, inline: bool) -> String {
    let spec = format!(
        r#"workspaces:
    - name: src
    - name: {creds}
    - name: certs
    tasks:
    - name: build
      taskRef:
        name: buildkit-build
      workspaces:
      - name: source
        workspace: src
      - name: dockerconfig
        {mapping}
      - name: buildkit-client-certs
        workspace: certs"#
    );
    let run = |pipeline: &str| {
        format!(
            r#"- apiVersion: tekton.dev/v1
  kind: PipelineRun
  metadata:
    name: release-1
    namespace: ci
  spec:
    {pipeline}
    workspaces:
    - name: src
      emptyDir: {{}}
    - name: {creds}
      secret:
        secretName: {secret}
    - name: certs
      secret:
        secretName: buildkit-client-certs
"#
        )
    };
    if inline {
        run(&format!(
            "pipelineSpec:
      {}",
            spec.replace("\n    ", "\n      ")
        ))
    } else {
        format!(
            "- apiVersion: tekton.dev/v1\n  kind: Pipeline\n  metadata:\n    name: release\n    namespace: ci\n  spec:\n    {spec}\n{}",
            run("pipelineRef:\n      name: release")
        )
    }
}

#[test]
fn auths_of_the_secret_a_pipeline_run_binds_through_its_pipeline_are_an_error() {
    let theirs = docker_registry_secret("ext-push", "https://harbor.example.com/v2/");
    // tektoncd/pipeline pkg/apis/pipeline/v1/pipeline_validation.go `validateWorkspaces`:
    // a task's binding without `workspace` names the Pipeline workspace of its own name.
    for (creds, mapping, inline) in [
        ("registry-creds", "workspace: registry-creds", false),
        ("dockerconfig", "", false),
        ("registry-creds", "workspace: registry-creds", true),
        ("dockerconfig", "", true),
    ] {
        let binding = pipeline_run_binding("ext-push", creds, mapping, inline);
        let input = resource_list(&[CHART_CM, &daemon(), &theirs, &binding], SPEC_ALL);
        let f = assert_fails(&input, |f| is_auths(f) && f.name == "ext-push");
        assert_eq!(
            f.code,
            Some(Code::AuthNoMatch),
            "{creds} {mapping:?} {inline}"
        );
    }
    // The same PipelineRun binding the Secret to a workspace the Task's dockerconfig is
    // not mapped to: not the Task's Secret, so a warning.
    let binding = pipeline_run_binding("ext-push", "registry-creds", "workspace: src", false);
    let input = resource_list(&[CHART_CM, &daemon(), &theirs, &binding], SPEC_ALL);
    let (_, findings) = checked(&input);
    let w = only(&findings, "auths", |f| is_auths(f) && f.name == "ext-push");
    assert_eq!(w.code, Some(Code::AuthNoMatch));
    assert_eq!(w.severity, "warning", "{}", dump(&findings));
}

#[test]
fn auths_key_with_a_port_the_registry_lacks_is_an_error_that_says_so() {
    let secret = docker_registry_secret("harbor-push", &format!("{FQDN}:80"));
    let input = resource_list(
        &[CHART_CM, &daemon(), &secret, &run_binding("harbor-push")],
        SPEC_ALL,
    );
    let f = assert_fails(&input, is_auths);
    assert_eq!(f.code, Some(Code::AuthNoMatch));
    // The key differs from the lookup by its port alone, which is easy to miss: saying
    // so is the point of this test.
    let says = format!(
        "the key \"{FQDN}:80\" names port 80, which the registry's image references do not write"
    );
    assert!(f.message.contains(&says), "{}", f.message);
    // The check command prints it with the Secret and the field.
    let (code, stdout, _) = bin(&["check"], &input);
    assert_eq!(code, 1, "{stdout}");
    let line = common::results::line(&stdout, Code::AuthNoMatch);
    assert!(
        line.severity == Severity::Error
            && line.is_on("Secret ci/harbor-push")
            && stdout.contains("    field: data..dockerconfigjson\n"),
        "{stdout}"
    );
}

// ---------------------------------------------------------------------------------
// The values runs give the generated Task (src/tekton/params.rs)

/// A run of the generated Task (namespace ci) giving `params` (YAML lines at the
/// `params:` list's indentation).
fn task_run(name: &str, params: &str) -> String {
    format!(
        "- apiVersion: tekton.dev/v1\n  kind: TaskRun\n  metadata:\n    name: {name}\n    namespace: ci\n  spec:\n    taskRef:\n      name: buildkit-build\n    params:\n{params}    workspaces:\n    - name: source\n      emptyDir: {{}}\n    - name: dockerconfig\n      secret:\n        secretName: harbor-push\n"
    )
}

const TASK_SPEC: &str = "registry: harbor-core.default.svc.cluster.local\nscheme: http\nnamespace: ci\ngenerate: [task]\n";

#[test]
fn an_image_on_another_registry_is_an_error_and_one_on_the_registry_is_not() {
    use common::results as res;
    let good = task_run(
        "good",
        &format!("    - name: IMAGE\n      value: {FQDN}/library/app:1\n"),
    );
    let short = task_run(
        "short",
        "    - name: IMAGE\n      value: harbor-core.default.svc/library/app:1\n",
    );
    let out = common::run(&common::input(&[good, short], TASK_SPEC));
    let found = res::one(&out.results, Code::TektonImageRegistry);
    assert_eq!(found.severity, Severity::Error);
    assert_eq!(res::on(found), "TaskRun ci/short");
    assert_eq!(res::path(found), Some("spec.params[0].value"));
    assert_eq!(out.exit_code, 1);
    // A Pipeline's literal, and a PipelineRun's inline pipelineSpec whose param the
    // run gives; a value still holding $(...) in its registry part is not judged.
    let pipeline = "- apiVersion: tekton.dev/v1\n  kind: Pipeline\n  metadata:\n    name: p\n    namespace: ci\n  spec:\n    tasks:\n    - name: build\n      taskRef:\n        name: buildkit-build\n      params:\n      - name: IMAGE\n        value: docker.io/library/app:1\n".to_string();
    let inline = "- apiVersion: tekton.dev/v1\n  kind: PipelineRun\n  metadata:\n    name: r\n    namespace: ci\n  spec:\n    params:\n    - name: img\n      value: other.example.com/app:1\n    - name: reg\n      value: $(tasks.x.results.registry)\n    pipelineSpec:\n      params:\n      - name: img\n      - name: reg\n      tasks:\n      - name: build\n        taskRef:\n          name: buildkit-build\n        params:\n        - name: IMAGE\n          value: $(params.img)\n      - name: again\n        taskRef:\n          name: buildkit-build\n        params:\n        - name: IMAGE\n          value: $(params.reg)/app:1\n".to_string();
    let out = common::run(&common::input(&[pipeline, inline], TASK_SPEC));
    let found: Vec<(String, Option<&str>)> = res::all(&out.results, Code::TektonImageRegistry)
        .into_iter()
        .map(|r| (res::on(r), res::path(r)))
        .collect();
    assert_eq!(
        found,
        [
            (
                "Pipeline ci/p".to_string(),
                Some("spec.tasks[0].params[0].value")
            ),
            ("PipelineRun ci/r".to_string(), Some("spec.params[0].value")),
        ]
    );
}

#[test]
fn a_builder_image_older_than_the_task_supports_is_an_error() {
    use common::results as res;
    // The Task's own default, from spec.buildctlImage.
    let out = common::run(&common::input(
        &[],
        &format!("{TASK_SPEC}buildctlImage: docker.io/moby/buildkit:v0.12.5-rootless\n"),
    ));
    let found = res::one(&out.results, Code::BuildkitTooOld);
    assert_eq!(found.severity, Severity::Error);
    assert_eq!(res::on(found), "Task ci/buildkit-build");
    assert!(
        res::path(found).is_some_and(|p| p.starts_with("spec.params[") && p.ends_with("].default")),
        "{found:?}"
    );
    // Its wording names the field to change: the point of the finding on a Task.
    assert!(
        found.message.contains("spec.buildctlImage"),
        "{}",
        found.message
    );
    // Another image's tag says nothing of BuildKit; v0.13.0 is new enough.
    for image in [
        "registry.example.com/tools/buildctl:v0.1.0",
        "moby/buildkit:v0.13.0",
    ] {
        let out = common::run(&common::input(
            &[],
            &format!("{TASK_SPEC}buildctlImage: {image}\n"),
        ));
        assert!(
            res::all(&out.results, Code::BuildkitTooOld).is_empty(),
            "{image}: {}",
            res::dump(&out.results)
        );
    }
}
