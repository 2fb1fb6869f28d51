//! The whole of what the function prints, pinned. Each snapshot was read by eye before
//! it was accepted; a snapshot that pins a wrong output is a bug.

mod common;

use common::{example, transcript};

macro_rules! example_snapshot {
    ($name:ident, $file:literal) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(transcript(&example($file)));
        }
    };
}

// The seed's case: plain HTTP to Harbor's in-cluster Service, kustomize generator input.
example_snapshot!(http_in_cluster_generator, "generator.yaml");
// Harbor's ConfigMap and Deployment in the input: patched in place.
example_snapshot!(harbor_chart_patched_in_place, "harbor-chart.yaml");
// HTTPS on a split-horizon name with a CA, in a kpt package without Harbor's manifests.
example_snapshot!(https_split_horizon_kpt_package, "https-kpt-package.yaml");
// An existing buildkitd.toml with comments and other registries.
example_snapshot!(existing_buildkitd_toml, "existing-buildkitd-toml.yaml");
// A ConfigMap functionConfig, as `kpt fn eval -- k=v` builds it.
example_snapshot!(configmap_function_config, "configmap-function-config.yaml");

/// A ResourceList with `spec` as the HarborBuildkit spec and the items section as
/// written (`""` for none).
fn with_spec(spec: &str, items: &str) -> String {
    common::ResourceList::new()
        .items_raw(items)
        .spec("hb", spec)
        .build()
}

macro_rules! error_snapshot {
    ($name:ident, $input:expr) => {
        #[test]
        fn $name() {
            let input: String = $input.into();
            let out = transcript(&input);
            assert!(out.starts_with("exit: 1\n"), "{out}");
            assert!(out.contains("items: []\n"), "no items on error:\n{out}");
            assert!(out.contains("severity: error"), "{out}");
            insta::assert_snapshot!(out);
        }
    };
}

const REG: &str = "registry: harbor-core.default.svc.cluster.local\n";

error_snapshot!(
    error_bad_yaml,
    "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [\n"
);
error_snapshot!(error_empty_input, "");
error_snapshot!(
    error_not_a_resource_list,
    "apiVersion: v1\nkind: ConfigMap\n"
);
error_snapshot!(
    error_no_function_config,
    "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"
);
error_snapshot!(error_missing_registry, with_spec("scheme: http", ""));
error_snapshot!(
    error_unknown_field,
    with_spec(&format!("{REG}regsitry: x\nnamespce: ci"), "")
);
error_snapshot!(
    error_registry_with_scheme,
    with_spec("registry: http://harbor-core.default.svc", "")
);
error_snapshot!(
    error_registry_with_space,
    with_spec("registry: \"harbor core.default.svc\"", "")
);
error_snapshot!(
    error_registry_with_path,
    with_spec("registry: harbor.example.com/library", "")
);
error_snapshot!(
    error_registry_uppercase,
    with_spec("registry: Harbor.example.com\nharborNamespace: harbor", "")
);
error_snapshot!(
    error_registry_bad_port,
    with_spec(
        "registry: harbor.example.com:99999\nharborNamespace: harbor",
        ""
    )
);
error_snapshot!(error_registry_not_a_string, with_spec("registry: 1e3", ""));
error_snapshot!(
    error_scheme_unknown,
    with_spec(&format!("{REG}scheme: ftp"), "")
);
error_snapshot!(
    error_wrong_types,
    with_spec(
        &format!("{REG}namespace: 123\ninsecureSkipVerify: \"yes\"\nca: /one/path\nmirrors: [1]"),
        ""
    )
);
error_snapshot!(
    error_yes_for_a_bool,
    with_spec(&format!("{REG}scheme: https\ninsecureSkipVerify: yes"), "")
);
error_snapshot!(
    error_http_with_tls_options,
    with_spec(
        &format!("{REG}scheme: http\nca: [/certs/ca.pem]\ninsecureSkipVerify: true"),
        ""
    )
);
// A kpt package without Harbor's ConfigMap: the local-config patch needs a namespace.
error_snapshot!(
    error_harbor_namespace_required,
    with_spec(
        "registry: harbor.example.com",
        "items:\n- apiVersion: kpt.dev/v1\n  kind: Kptfile\n  metadata: {name: pkg}\n"
    )
);
error_snapshot!(
    error_bad_names,
    with_spec(
        &format!("{REG}namespace: CI\ntaskName: build_it\nbuildkitConfigMap: -x"),
        ""
    )
);
error_snapshot!(
    error_injection_attempts,
    with_spec(
        &format!(
            "{REG}buildkitHost: \"tcp://x:1234; rm -rf /\"\nbuildctlImage: \"moby/buildkit:$(id)\"\nca: [\"/a\\\"]\\n[x]\"]\nmirrors: [\"m`id`\"]"
        ),
        ""
    )
);
error_snapshot!(
    error_buildkit_configmap_is_harbors,
    with_spec(&format!("{REG}buildkitConfigMap: harbor-core"), "")
);
error_snapshot!(
    error_generate_unknown,
    with_spec(&format!("{REG}generate: [harbor]"), "")
);
error_snapshot!(
    error_function_config_wrong_kind,
    "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: example.com/v1\n  kind: Other\n  metadata: {name: x}\n"
);
error_snapshot!(
    error_function_config_extra_top_level,
    "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: fn.harbor-buildkit.dev/v1alpha1\n  kind: HarborBuildkit\n  metadata: {name: x}\n  spec: {registry: harbor-core.default.svc}\n  data: {}\n"
);
error_snapshot!(
    error_configmap_function_config_bool,
    "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n  data:\n    registry: harbor.example.com\n    harborNamespace: harbor\n    scheme: https\n    insecureSkipVerify: true\n"
);
error_snapshot!(
    error_item_is_a_scalar,
    with_spec(REG, "items:\n- just a string\n")
);
error_snapshot!(
    error_duplicate_keys,
    with_spec(
        REG,
        "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data: {k: a, k: b}\n"
    )
);
error_snapshot!(
    error_existing_toml_does_not_parse,
    with_spec(
        &format!("{REG}namespace: ci\ngenerate: [buildkitdConfig, task]"),
        "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: buildkitd-config, namespace: ci}\n  data:\n    buildkitd.toml: |\n      debug = true\n      [registry.\"x\"\n      http = true\n"
    )
);
error_snapshot!(
    error_task_name_taken,
    with_spec(
        &format!("{REG}namespace: ci\ngenerate: [task]"),
        "items:\n- apiVersion: tekton.dev/v1\n  kind: Task\n  metadata: {name: buildkit-build, namespace: ci}\n  spec: {steps: [{name: s, image: busybox}]}\n"
    )
);

/// Plain HTTP to a host outside the cluster works, with a warning (in a kpt package
/// without Harbor's ConfigMap: the patch is local config, with a warning of its own).
#[test]
fn warning_http_outside_the_cluster() {
    let out = transcript(&with_spec(
        "registry: harbor.example.com\nscheme: http\nharborNamespace: harbor\ngenerate: [harborCore]",
        "items:\n- apiVersion: kpt.dev/v1\n  kind: Kptfile\n  metadata: {name: pkg}\n",
    ));
    assert!(out.starts_with("exit: 0\n"), "{out}");
    assert!(out.contains("severity: warning"), "{out}");
    insta::assert_snapshot!(out);
}
