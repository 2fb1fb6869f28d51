//! Behaviour across inputs: Harbor's realm rule holds for what we write, pass-through
//! is lossless, and the function is idempotent.

mod common;

use common::results::{Code, code_of_json, codes, path};
use common::{example, find, items, parse_json, run};
use harbor_buildkit_fn::FnResult;
use harbor_buildkit_fn::testing::{patch, realm};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Items written by hand in every style a user might use; they go in verbatim.
const HANDWRITTEN: &[&str] = &[
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: styles\n  annotations: {a: 'single ''quoted''', b: \"x\\ty\", c: \"on\"}\ndata:\n  keep: |+\n    line\n\n  strip: |-\n    a\n     b\n  folded: >\n    one\n    two\n\n    three\n  plain: multi\n    line plain\n  dq: \"multi\n    line   dq \"\n  spaces: \"trailing   \"\n  indent: |2\n      starts with spaces\n  # a comment\n  octal: '0755'\n  date: \"2024-01-01\"",
    "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: anchors\nspec:\n  base: &b {x: \"1_000\", y: \"12:30\"}\n  copy: *b\n  merged:\n    <<: *b\n    z: \"yes\"\n  list:\n  - a\n  -   - nested\n      - \"~\"\n  tagged: !!str 123\n  literal_last: |+\n    end\n\n",
    "{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"json\"},\n \"stringData\": {\"k\": \"Y\", \"n\": \"NO\",\n   \"e\": \"1e3\"}}",
];

fn resource_list(items: &[Value], spec: Value, json_items: &[bool]) -> String {
    resource_list_with(items, spec, json_items, &[], false)
}

/// `items` (block, or JSON where `json_items` says) after the `handwritten` items, and
/// a HarborBuildkit with `spec`. `wide` writes an indented sequence (`  - `), which
/// YAML allows only when every entry is written that way: then only handwritten ones.
fn resource_list_with(
    items: &[Value],
    spec: Value,
    json_items: &[bool],
    handwritten: &[usize],
    wide: bool,
) -> String {
    let mut rl = common::ResourceList::new();
    for &h in handwritten {
        rl = rl.document(HANDWRITTEN[h]);
    }
    for (i, item) in items.iter().enumerate() {
        rl = if json_items.get(i).copied().unwrap_or(false) {
            rl.resource_as_json(item)
        } else {
            rl.resource(item)
        };
    }
    if wide && items.is_empty() {
        rl = rl.wide();
    }
    rl.spec_value("hb", spec).build()
}

/// Harbor's `match(ctx, reqHost, rawURL)` (goharbor/harbor
/// src/server/middleware/v2auth/auth.go), modelled apart from `realm::matches`: the
/// request's Host and CORE_URL's authority are each read as a (host, port) pair, a
/// missing port being the default of CORE_URL's scheme, and the pairs compared. Hosts
/// are compared as written (Go's url.Parse lowercases only the scheme).
fn harbor_match_model(req_host: &str, core_url: &str) -> bool {
    let Some((scheme, rest)) = core_url.split_once("://") else {
        return false;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let pair = |hostport: &str| -> (String, Option<u32>) {
        match hostport.rsplit_once(':') {
            Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
                (host.to_string(), port.parse().ok())
            }
            _ => (hostport.to_string(), default_port),
        }
    };
    !authority.is_empty() && pair(req_host) == pair(authority)
}

/// The model agrees with Harbor's own vectors (`auth_test.go` `TestMatch`), so it can
/// stand as the expectation below.
#[test]
fn the_match_model_agrees_with_harbors_vectors() {
    for &(host, url, want) in common::harbor_helm::oracle::MATCH_VECTORS {
        assert_eq!(harbor_match_model(host, url), want, "{host} ~ {url}");
    }
}

/// The Host header BuildKit sends is the registry as image references name it: the
/// CORE_URL the function writes must match it by Harbor's rule, with the default port
/// spelled out or not, and must not match a host BuildKit would not send. The
/// expectation comes from the model above, not from the code under test.
#[test]
fn core_url_matches_the_host_buildkit_sends() {
    for (registry, scheme) in [
        ("harbor-core.default.svc.cluster.local", "http"),
        ("harbor-core.default.svc.cluster.local:80", "http"),
        ("harbor-core.harbor.svc.cluster.local:8080", "http"),
        ("harbor.clusters.zjusct.io", "https"),
        ("harbor.clusters.zjusct.io:443", "https"),
        ("10.0.0.5:5000", "http"),
    ] {
        let spec = json!({"registry": registry, "scheme": scheme, "harborNamespace": "default", "generate": ["harborCore"]});
        // As a kustomize generator: the functionConfig is the only item, and the patch
        // is a behavior: merge ConfigMap.
        let fc = json!({
            "apiVersion": "fn.harbor-buildkit.dev/v1alpha1",
            "kind": "HarborBuildkit",
            "metadata": {"name": "hb"},
            "spec": spec,
        });
        let input = common::ResourceList::new()
            .resource(&fc)
            .spec_value("hb", spec)
            .build();
        let out = run(&input);
        assert_eq!(out.exit_code, 0, "{}", out.stdout);
        let cm = find(&items(&out.stdout), "ConfigMap", "harbor-core").clone();
        let core_url = cm["data"]["CORE_URL"]
            .as_str()
            .expect("CORE_URL")
            .to_string();
        // The realm takes its scheme from CORE_URL: it must be the registry's.
        assert!(
            core_url.starts_with(&format!("{scheme}://")),
            "{registry}: CORE_URL {core_url}"
        );
        let (default_port, other_default) = if scheme == "http" {
            (":80", ":443")
        } else {
            (":443", ":80")
        };
        let bare = registry.strip_suffix(default_port).unwrap_or(registry);
        let (name, port) = bare.rsplit_once(':').unwrap_or((bare, ""));
        let other_port = if port.is_empty() {
            "8443".to_string()
        } else {
            (port.parse::<u32>().expect("a port") + 1).to_string()
        };
        // What BuildKit sends (the registry as written), and the same host with the
        // default port dropped or spelled out: each must match.
        let mut sent = vec![registry.to_string(), bare.to_string()];
        if port.is_empty() {
            sent.push(format!("{bare}{default_port}"));
        }
        // Hosts BuildKit does not send for this registry: each must not.
        let mut not_sent = vec![
            format!("{name}{other_default}"),
            format!("{name}:{other_port}"),
            "harbor-core".to_string(),
        ];
        // Harbor compares hosts as written: another case is another host.
        if registry.to_ascii_uppercase() != registry {
            not_sent.push(registry.to_ascii_uppercase());
        }
        for (hosts, want) in [(&sent[..], true), (&not_sent[..], false)] {
            for host in hosts {
                assert_eq!(
                    harbor_match_model(host, &core_url),
                    want,
                    "the model: Host {host} ~ CORE_URL {core_url}"
                );
                assert_eq!(
                    realm::matches(host, &core_url),
                    harbor_match_model(host, &core_url),
                    "Host {host} ~ CORE_URL {core_url}"
                );
            }
        }
        assert_eq!(
            cm["data"]["TOKEN_SERVICE_URL"],
            format!("{core_url}/service/token")
        );
        // And the chart's default CORE_URL, which the seed left: no match for these.
        assert!(!harbor_match_model(registry, "http://harbor-core:80"));
        assert!(!realm::matches(registry, "http://harbor-core:80"));
    }
}

#[test]
fn examples_are_idempotent() {
    for file in [
        "generator.yaml",
        "harbor-chart.yaml",
        "https-kpt-package.yaml",
        "existing-buildkitd-toml.yaml",
        "configmap-function-config.yaml",
    ] {
        let first = run(&example(file));
        assert_eq!(first.exit_code, 0, "{file}");
        let second = run(&first.stdout);
        assert_eq!(second.exit_code, 0, "{file}: {}", second.stderr);
        assert_eq!(
            items_text(&first.stdout),
            items_text(&second.stdout),
            "{file}"
        );
        // The resources settle after one run, and results describe this run only: an
        // input's own results are not carried into the output, so a third run prints
        // exactly what the second did, results included.
        let results_in = |out: &str| parse_json(out)["results"].as_array().map_or(0, Vec::len);
        assert_eq!(results_in(&second.stdout), second.results.len(), "{file}");
        let third = run(&second.stdout);
        assert_eq!(second.stdout, third.stdout, "{file}");
    }
}

/// A re-run on an output that already carries results (7 became 14 once): the
/// output's results are the ones this run made, never the input's.
#[test]
fn results_describe_this_run_only() {
    let first = run(&example("harbor-chart.yaml"));
    assert_eq!(first.exit_code, 0, "{}", first.stderr);
    let n = first.results.len();
    assert!(n > 0);
    let stale = first.stdout.replacen(
        "\nresults:\n",
        "\nresults:\n- message: a result from another run\n  severity: warning\n",
        1,
    );
    assert_ne!(stale, first.stdout);
    let again = run(&stale);
    assert_eq!(again.exit_code, 0, "{}", again.stderr);
    // Every result written is one of this run's, with its code: the planted one
    // (which has none) is gone, and the run reports what the first one did.
    let results = parse_json(&again.stdout)["results"].clone();
    let written: Vec<Option<Code>> = results
        .as_array()
        .into_iter()
        .flatten()
        .map(code_of_json)
        .collect();
    let made: Vec<Option<Code>> = again.results.iter().map(|r| Some(r.code)).collect();
    assert_eq!(written, made, "{results:#?}");
    // The same as a run on the output without the planted result.
    assert_eq!(codes(&again.results), codes(&run(&first.stdout).results));
}

/// The output up to `functionConfig:` (items only).
fn items_text(out: &str) -> &str {
    out.split("\nfunctionConfig:").next().unwrap_or(out)
}

#[test]
fn harbor_deployment_restarts_only_when_settings_change() {
    let out = run(&example("harbor-chart.yaml"));
    let deploy = find(&items(&out.stdout), "Deployment", "harbor-core").clone();
    let a =
        deploy["spec"]["template"]["metadata"]["annotations"][patch::RESTART_ANNOTATION].clone();
    assert!(a.as_str().is_some_and(|s| s.starts_with("sha256:")));
    // The chart's own checksum stays as it was.
    assert_eq!(
        deploy["spec"]["template"]["metadata"]["annotations"]["checksum/configmap"],
        "9a3e1b55c2d1e4f0a7b86c3d5e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f"
    );
    // The default port spelled out: another CORE_URL, another checksum.
    let with_port = example("harbor-chart.yaml").replace(
        "registry: harbor-core.default.svc.cluster.local",
        "registry: harbor-core.default.svc.cluster.local:80",
    );
    let out2 = run(&with_port);
    assert_eq!(out2.exit_code, 0, "{}", out2.stderr);
    let deploy2 = find(&items(&out2.stdout), "Deployment", "harbor-core").clone();
    let b =
        deploy2["spec"]["template"]["metadata"]["annotations"][patch::RESTART_ANNOTATION].clone();
    assert_ne!(a, b);
}

#[test]
fn harbor_configmap_keeps_every_other_key() {
    let input = example("harbor-chart.yaml");
    let before = parse_json(&input);
    let out = run(&input);
    let after = parse_json(&out.stdout);
    let (b, a) = (&before["items"][0], &after["items"][0]);
    let (bd, ad) = (
        b["data"].as_object().expect("data"),
        a["data"].as_object().expect("data"),
    );
    assert_eq!(bd.len(), ad.len());
    for (k, v) in bd {
        if k == "CORE_URL" || k == "TOKEN_SERVICE_URL" {
            continue;
        }
        assert_eq!(ad.get(k), Some(v), "{k}");
    }
    assert_eq!(a["metadata"], b["metadata"]);
    assert_eq!(
        ad["CORE_URL"],
        "http://harbor-core.default.svc.cluster.local"
    );
}

#[test]
fn odd_but_valid_input_shapes() {
    // CRLF line ends and a byte-order mark.
    let crlf = format!(
        "\u{feff}{}",
        example("generator.yaml").replace('\n', "\r\n")
    );
    let out = run(&crlf);
    assert_eq!(out.exit_code, 0, "{}", out.stderr);
    assert_eq!(
        items_text(&out.stdout),
        items_text(&run(&example("generator.yaml")).stdout)
    );
    // items: null and no items at all.
    for items in ["items: null\n", "items: []\n", ""] {
        let input = format!(
            "apiVersion: config.kubernetes.io/v1beta1\nkind: ResourceList\n{items}functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: x}}\n  data: {{registry: harbor-core.default.svc, generate: task}}\n"
        );
        let out = run(&input);
        assert_eq!(out.exit_code, 0, "{items}: {}", out.stdout);
        assert!(
            out.stdout
                .starts_with("apiVersion: config.kubernetes.io/v1beta1\n")
        );
    }
    // Not UTF-8.
    let out = harbor_buildkit_fn::run(b"apiVersion: \xff\n");
    assert_eq!(out.exit_code, 1);
    assert_eq!(codes(&out.results), [Code::InputNotUtf8]);
    let written = &parse_json(&out.stdout)["results"][0];
    assert_eq!(
        code_of_json(written),
        Some(Code::InputNotUtf8),
        "{}",
        out.stdout
    );
}

/// Values that YAML readers disagree on, or that look like another type.
/// Beyond the shared tricky values: strings that stress quoting and line handling.
const MORE_TRICKY: &[&str] = &[
    "quote\"s",
    "back\\slash",
    "[flow]",
    "{flow}",
    "|",
    ">",
    "'",
    "line\n\n",
    "\n",
    "\u{2028}",
    "😀",
];

fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(common::TRICKY_VALUES).prop_map(str::to_string),
        proptest::sample::select(MORE_TRICKY).prop_map(str::to_string),
        "[ -~]{0,12}",
        "[a-z0-9:._/-]{1,10}",
        "[\\PC\n\t]{0,8}",
    ]
}

fn tricky_value(depth: u32) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        tricky_string().prop_map(Value::String),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        Just(Value::Null),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        3 => leaf,
        1 => proptest::collection::vec(tricky_value(depth - 1), 0..3).prop_map(Value::Array),
        1 => proptest::collection::btree_map(tricky_string(), tricky_value(depth - 1), 0..3)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
    ]
    .boxed()
}

fn arbitrary_item() -> impl Strategy<Value = Value> {
    (
        proptest::sample::select(&["ConfigMap", "Secret", "Widget", "Deployment"][..]),
        "[a-z][a-z0-9-]{0,8}",
        proptest::collection::btree_map(tricky_string(), tricky_string(), 0..4),
        proptest::collection::btree_map(tricky_string(), tricky_string(), 0..4),
        proptest::collection::btree_map(tricky_string(), tricky_value(2), 0..5),
    )
        .prop_map(|(kind, name, labels, annotations, data)| {
            json!({
                "apiVersion": if kind == "Widget" { "example.com/v1" } else { "v1" },
                "kind": kind,
                "metadata": {"name": name, "labels": labels, "annotations": annotations},
                "data": data,
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every input item leaves with the same value, and its text leaves as it came.
    #[test]
    fn pass_through_is_lossless(
        items_in in proptest::collection::vec(arbitrary_item(), 0..6),
        json_items in proptest::collection::vec(any::<bool>(), 6),
        handwritten in proptest::collection::vec(0..HANDWRITTEN.len(), 0..3),
        wide in any::<bool>(),
        scheme in proptest::sample::select(&["http", "https"][..]),
    ) {
        // Neither Harbor nor a BuildKit daemon is among these items: the Task is
        // generated beside them (Harbor's and BuildKit's edits have tests of their own).
        let spec = json!({"registry": "harbor-core.default.svc.cluster.local", "scheme": scheme, "namespace": "ci", "generate": ["task"]});
        let input = resource_list_with(&items_in, spec, &json_items, &handwritten, wide);
        let out = run(&input);
        prop_assert_eq!(out.exit_code, 0, "{}\n{}", out.stdout, input);
        let before = parse_json(&input);
        let after = parse_json(&out.stdout);
        for (i, item) in before["items"].as_array().into_iter().flatten().enumerate() {
            prop_assert_eq!(&after["items"][i], item);
        }
        // Byte for byte: each emitted item's input text is in the output.
        if handwritten.is_empty() {
            for chunk in input.split("\n- ").skip(1) {
                let text = chunk.split("\nfunctionConfig:").next().unwrap_or(chunk);
                prop_assert!(out.stdout.contains(text), "item text changed:\n{}", text);
            }
        }
    }

    /// The fast line-level reader and the whole-document parser read the same list.
    #[test]
    fn fast_and_slow_readers_agree(
        items_in in proptest::collection::vec(arbitrary_item(), 0..6),
        json_items in proptest::collection::vec(any::<bool>(), 6),
        handwritten in proptest::collection::vec(0..HANDWRITTEN.len(), 0..3),
        wide in any::<bool>(),
    ) {
        let spec = json!({"registry": "harbor-core.default.svc.cluster.local"});
        let input = resource_list_with(&items_in, spec, &json_items, &handwritten, wide);
        // Block-style lists like these are what the fast path is for: it must apply.
        let fast = harbor_buildkit_fn::testing::ResourceList::parse_fast(&input);
        prop_assert!(fast.is_some(), "the fast reader gave up on:\n{}", input);
        let slow = harbor_buildkit_fn::testing::ResourceList::parse_slow(&input);
        match (fast.ok_or(()), slow) {
            (Ok(f), Ok(s)) => {
                let agree = f.same_reading(&s);
                prop_assert!(agree.is_ok(), "{:?} on:\n{}", agree, input);
            }
            (_, s) => prop_assert!(false, "slow reader failed: {:?}", s.err()),
        }
    }

    /// A second run changes nothing, whatever the items and the spec.
    #[test]
    fn second_run_changes_nothing(
        items_in in proptest::collection::vec(arbitrary_item(), 0..4),
        extra in proptest::collection::btree_map("[A-Z_]{1,8}", tricky_string(), 0..4),
        scheme in proptest::sample::select(&["http", "https"][..]),
        with_harbor in any::<bool>(),
    ) {
        let mut items_in = items_in;
        // In the cluster over http, or by its external name over https (the realm
        // then needs CORE_URL where EXT_ENDPOINT is another name).
        let mut spec = match scheme {
            "http" => json!({"registry": "harbor-core.default.svc.cluster.local", "scheme": "http", "namespace": "ci"}),
            _ => json!({"registry": "harbor.example.com", "harborNamespace": "default", "scheme": "https", "namespace": "ci"}),
        };
        // (No BuildKit daemon among the items: buildkitd.toml is left out; tests/buildkit.rs
        // runs its edits twice.)
        if with_harbor {
            let mut data: serde_json::Map<String, Value> = extra.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            data.insert("EXT_ENDPOINT".into(), json!("https://external.example.com"));
            data.insert("CORE_URL".into(), json!("http://harbor-core:80"));
            items_in.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "harbor-core", "namespace": "default"}, "data": data}));
            spec["generate"] = json!(["harborCore", "task"]);
        } else {
            spec["generate"] = json!(["task"]);
        }
        let first = run(&resource_list(&items_in, spec, &[]));
        prop_assert_eq!(first.exit_code, 0, "{}", first.stdout);
        let second = run(&first.stdout);
        prop_assert_eq!(second.exit_code, 0);
        prop_assert_eq!(items_text(&first.stdout), items_text(&second.stdout));
    }
}

/// The errors a spec gets; stderr prints each as its line, and nothing else.
fn spec_errors(spec: &str) -> Vec<FnResult> {
    let out = run(&common::ResourceList::new().spec("hb", spec).build());
    assert_eq!(out.exit_code, 1, "accepted:\n{spec}");
    let lines: Vec<String> = out.results.iter().map(FnResult::to_line).collect();
    assert_eq!(out.stderr.lines().collect::<Vec<_>>(), lines);
    out.results
}

/// Each bad value gets one error, of the code that says what is wrong, at its field;
/// the message begins with the field, so the stderr line names it first.
#[test]
fn spec_messages_say_what_is_wrong() {
    let registry = "registry: harbor-core.default.svc.cluster.local\n";
    let one = |spec: &str, code: Code, field: &str| {
        let errors = spec_errors(&format!("{registry}{spec}"));
        assert_eq!(errors.len(), 1, "{spec}: {errors:#?}");
        let e = &errors[0];
        assert_eq!((e.code, path(e)), (code, Some(field)), "{spec}: {e:#?}");
        assert!(
            e.message.starts_with(&format!("{field} ")),
            "{spec}: {e:#?}"
        );
    };
    one("namespace: \"\"\n", Code::SpecName, "spec.namespace");
    one(
        "mirrors: [mirror.example.com, \"ftp://m\"]\n",
        Code::SpecMirror,
        "spec.mirrors[1]",
    );
    // One bad name, one error: harborDeployment defaults to it and is not checked twice.
    one(
        "harborConfigMap: Harbor_Core\n",
        Code::SpecName,
        "spec.harborConfigMap",
    );
    // Null where a value is meant, and duplicates.
    one("scheme: null\n", Code::SpecWrongType, "spec.scheme");
    one("ca:\n", Code::SpecWrongType, "spec.ca");
    one(
        "generate: [task, task]\n",
        Code::SpecDuplicateValue,
        "spec.generate[1]",
    );
    one(
        "mirrors: [a.example.com, a.example.com]\n",
        Code::SpecDuplicateValue,
        "spec.mirrors[1]",
    );
    let errors = spec_errors("registry: ~\n");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        (errors[0].code, path(&errors[0])),
        (Code::SpecWrongType, Some("spec.registry"))
    );
    // IPv6, bracketed as image references write it, or bare.
    for ipv6 in ["fd00::1", "[fd00::1]:5000"] {
        let errors = spec_errors(&format!("registry: \"{ipv6}\"\nharborNamespace: harbor\n"));
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(
            (errors[0].code, path(&errors[0])),
            (Code::SpecRegistry, Some("spec.registry"))
        );
    }
    // Tekton refuses Task names with a dot or over 63 characters.
    one("taskName: build.kit\n", Code::SpecName, "spec.taskName");
    one(
        &format!("taskName: {}\n", "t".repeat(64)),
        Code::SpecName,
        "spec.taskName",
    );
}

/// ConfigMap names are DNS subdomains: up to 253 characters, dots allowed.
#[test]
fn configmap_names_are_subdomains() {
    for name in [
        "b".repeat(64),
        "b".repeat(253),
        format!("{}.{}", "a".repeat(100), "c".repeat(100)),
    ] {
        // With the daemon in the input, the ConfigMap has a reader: no error for that.
        let daemon = common::buildkit_examples::deployment(
            common::buildkit_examples::Mode::Rootless,
            "default",
            &[],
        );
        let out = run(&common::ResourceList::new()
            .items(&[&daemon])
            .spec(
                "hb",
                &format!(
                    "registry: harbor-core.default.svc.cluster.local\nbuildkitConfigMap: {name}\nharborConfigMap: h{}\ngenerate: [buildkitdConfig, task]\n",
                    &name[1..]
                ),
            )
            .build());
        assert_eq!(out.exit_code, 0, "{name}: {}", out.stderr);
        find(&items(&out.stdout), "ConfigMap", &name);
    }
    let errors = spec_errors(&format!(
        "registry: harbor-core.default.svc.cluster.local\nbuildkitConfigMap: {}\n",
        "b".repeat(254)
    ));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        (errors[0].code, path(&errors[0])),
        (Code::SpecName, Some("spec.buildkitConfigMap"))
    );
}

/// The ConfigMap functionConfig (`kpt fn eval -- generate=task,task`) refuses
/// duplicates too.
#[test]
fn configmap_function_config_refuses_duplicates() {
    let rl = common::ResourceList::new().function_config(
        "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: fc}\n  data:\n    registry: harbor-core.default.svc.cluster.local\n    generate: task,task\n",
    );
    let out = run(&rl.build());
    assert_eq!(out.exit_code, 1);
    assert_eq!(
        codes(&out.results),
        [Code::SpecDuplicateValue],
        "{}",
        out.stderr
    );
    // The ConfigMap form's keys are in data, and the error says so.
    assert_eq!(path(&out.results[0]), Some("data.generate"));
    assert_eq!(
        common::results::line_codes(&out.stderr),
        [(
            harbor_buildkit_fn::Severity::Error,
            Code::SpecDuplicateValue
        )]
    );
}
