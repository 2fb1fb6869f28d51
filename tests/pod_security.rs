//! The Pod Security level each mode's Pod meets, by the checks Kubernetes'
//! pod-security-admission applies (kubernetes/kubernetes
//! `staging/src/k8s.io/pod-security-admission/policy/`, one function here per check
//! file it names), on the Pod Tekton makes of the generated Task: the Task's
//! annotations (Tekton copies them to the TaskRun and on to the Pod:
//! tektoncd/pipeline `pkg/reconciler/taskrun/taskrun.go` `storeTaskSpecAndMergeMeta`,
//! `pkg/pod/pod.go`), its volumes, the step as container `step-<name>`, and Tekton's
//! own init containers `prepare` and `place-scripts`, which carry a restricted
//! securityContext only with Tekton's feature flag `set-security-context: "true"`
//! (`pkg/pod/security_context_config.go` `LinuxSecurityContext`, v1.15.0;
//! `pkg/pod/pod.go` `linuxSecurityContext`, v0.50.6; default `"false"` in
//! `config/config-feature-flags.yaml` at both).
//!
//! The README's Pod Security table says the same, and the test holds it to it.

mod common;

use common::modes::readme_modes;
use serde_json::{Value, json};

/// A Pod Security level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

/// The Pod Tekton makes of `task` (one step), with its init containers' securityContext
/// as `set-security-context` says.
fn pod_of(task: &Value, set_security_context: bool) -> Value {
    let step = &task["spec"]["steps"][0];
    let mut step_container = step.clone();
    step_container["name"] = json!(format!("step-{}", step["name"].as_str().expect("name")));
    let tekton_sc = json!({
        "allowPrivilegeEscalation": false,
        "capabilities": { "drop": ["ALL"] },
        "runAsNonRoot": true,
        "seccompProfile": { "type": "RuntimeDefault" },
    });
    let init = |name: &str| {
        let mut c = json!({ "name": name, "image": "tekton" });
        if set_security_context {
            c["securityContext"] = tekton_sc.clone();
        }
        c
    };
    // Workspaces bound as the README's TaskRun binds them: Secrets and a PVC.
    let mut volumes: Vec<Value> = task["spec"]["volumes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    volumes.extend([
        json!({ "name": "ws-source", "persistentVolumeClaim": { "claimName": "source" } }),
        json!({ "name": "ws-dockerconfig", "secret": { "secretName": "harbor-push" } }),
        json!({ "name": "tekton-internal-scripts", "emptyDir": {} }),
    ]);
    json!({
        "metadata": { "annotations": task["metadata"]["annotations"] },
        "spec": {
            "initContainers": [init("prepare"), init("place-scripts")],
            "containers": [step_container],
            "volumes": volumes,
        },
    })
}

/// Every container of the Pod (init and regular).
fn containers(pod: &Value) -> Vec<&Value> {
    ["initContainers", "containers"]
        .iter()
        .filter_map(|k| pod["spec"][k].as_array())
        .flatten()
        .collect()
}

fn sc<'v>(c: &'v Value, field: &str) -> &'v Value {
    &c["securityContext"][field]
}

/// check_privileged.go: no container is privileged.
fn privileged(pod: &Value) -> bool {
    containers(pod).iter().all(|c| sc(c, "privileged") != true)
}

/// check_capabilities_baseline.go: capabilities.add only from the default set.
fn capabilities_baseline(pod: &Value) -> bool {
    const ALLOWED: &[&str] = &[
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    ];
    containers(pod).iter().all(|c| {
        sc(c, "capabilities")["add"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|a| a.as_str().is_some_and(|a| ALLOWED.contains(&a)))
    })
}

/// check_hostNamespaces.go, check_hostPathVolumes.go, check_hostPorts.go: none used.
fn host_access(pod: &Value) -> bool {
    let spec = &pod["spec"];
    ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .all(|k| spec[k] != true)
        && spec["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|v| v.get("hostPath").is_none())
        && containers(pod).iter().all(|c| {
            c["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|p| p["hostPort"].as_u64().unwrap_or(0) == 0)
        })
}

/// check_seccompProfile_baseline.go: no seccompProfile.type Unconfined.
fn seccomp_baseline(pod: &Value) -> bool {
    let bad = |v: &Value| v["type"] == "Unconfined";
    !bad(&pod["spec"]["securityContext"]["seccompProfile"])
        && containers(pod)
            .iter()
            .all(|c| !bad(sc(c, "seccompProfile")))
}

/// check_appArmorProfile.go: the annotation `runtime/default`, `localhost/*` or
/// empty; the field RuntimeDefault or Localhost.
fn apparmor(pod: &Value) -> bool {
    let annotations_ok = pod["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("container.apparmor.security.beta.kubernetes.io/"))
        .all(|(_, v)| {
            let v = v.as_str().unwrap_or_default();
            v.is_empty() || v == "runtime/default" || v.starts_with("localhost/")
        });
    let field_ok =
        |v: &Value| v.is_null() || v["type"] == "RuntimeDefault" || v["type"] == "Localhost";
    annotations_ok
        && field_ok(&pod["spec"]["securityContext"]["appArmorProfile"])
        && containers(pod)
            .iter()
            .all(|c| field_ok(sc(c, "appArmorProfile")))
}

/// check_seLinuxOptions.go, check_procMount.go, check_windowsHostProcess.go: none set
/// to what baseline forbids (the Task sets none of them).
fn other_baseline(pod: &Value) -> bool {
    containers(pod).iter().all(|c| {
        let se = sc(c, "seLinuxOptions");
        (se.is_null() || se["user"].is_null() && se["role"].is_null())
            && (sc(c, "procMount").is_null() || sc(c, "procMount") == "Default")
            && sc(c, "windowsOptions")["hostProcess"] != true
    })
}

/// check_restrictedVolumes.go: volumes of the core types only.
fn restricted_volumes(pod: &Value) -> bool {
    const ALLOWED: &[&str] = &[
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    ];
    pod["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|v| {
            v.as_object()
                .into_iter()
                .flatten()
                .any(|(k, _)| ALLOWED.contains(&k.as_str()))
        })
}

/// check_allowPrivilegeEscalation.go: every container sets it false.
fn no_privilege_escalation(pod: &Value) -> bool {
    containers(pod)
        .iter()
        .all(|c| sc(c, "allowPrivilegeEscalation") == false)
}

/// check_runAsNonRoot.go: the pod or every container sets it true, none false;
/// check_runAsUser.go: no uid 0.
fn non_root(pod: &Value) -> bool {
    let pod_sc = &pod["spec"]["securityContext"];
    let pod_level = pod_sc["runAsNonRoot"] == true;
    pod_sc["runAsNonRoot"] != false
        && pod_sc["runAsUser"] != 0
        && containers(pod).iter().all(|c| {
            let own = sc(c, "runAsNonRoot");
            own != false && (own == true || pod_level) && sc(c, "runAsUser") != 0
        })
}

/// check_seccompProfile_restricted.go: the pod or every container RuntimeDefault or
/// Localhost.
fn seccomp_restricted(pod: &Value) -> bool {
    let good = |v: &Value| v["type"] == "RuntimeDefault" || v["type"] == "Localhost";
    let pod_level = good(&pod["spec"]["securityContext"]["seccompProfile"]);
    containers(pod).iter().all(|c| {
        let own = sc(c, "seccompProfile");
        good(own) || own.is_null() && pod_level
    })
}

/// check_capabilities_restricted.go: every container drops ALL and adds at most
/// NET_BIND_SERVICE.
fn capabilities_restricted(pod: &Value) -> bool {
    containers(pod).iter().all(|c| {
        let caps = sc(c, "capabilities");
        caps["drop"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "ALL"))
            && caps["add"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|a| a == "NET_BIND_SERVICE")
    })
}

/// The highest level the Pod meets.
fn level(pod: &Value) -> Level {
    let baseline = [
        privileged,
        capabilities_baseline,
        host_access,
        seccomp_baseline,
        apparmor,
        other_baseline,
    ];
    let restricted = [
        restricted_volumes,
        no_privilege_escalation,
        non_root,
        seccomp_restricted,
        capabilities_restricted,
    ];
    if !baseline.iter().all(|check| check(pod)) {
        Level::Privileged
    } else if !restricted.iter().all(|check| check(pod)) {
        Level::Baseline
    } else {
        Level::Restricted
    }
}

/// The README's table: mode, the level with Tekton's `set-security-context: "true"`,
/// and the level with Tekton's defaults.
fn readme_table() -> Vec<(String, String, String)> {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README.md");
    let header = "| mode | Pod Security level |";
    let start = readme
        .lines()
        .position(|l| l.starts_with(header))
        .unwrap_or_else(|| panic!("README.md has no table starting {header:?}"));
    readme
        .lines()
        .skip(start + 2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<String> = l
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect();
            (cells[0].clone(), cells[1].clone(), cells[2].clone())
        })
        .collect()
}

#[test]
fn each_mode_meets_the_level_the_readme_says() {
    let table = readme_table();
    let modes = readme_modes();
    assert_eq!(
        table.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        modes.iter().map(|m| m.0).collect::<Vec<_>>(),
        "the README's Pod Security table lists the modes of its mode table, in order"
    );
    for ((mode, task), (_, with_flag, without)) in modes.iter().zip(&table) {
        let level = level(&pod_of(task, true)).name();
        assert_eq!(level, with_flag, "{mode}, set-security-context: true");
        let level = level_of_defaults(task);
        assert_eq!(level, without, "{mode}, Tekton's defaults");
    }
}

fn level_of_defaults(task: &Value) -> &'static str {
    level(&pod_of(task, false)).name()
}

/// What each level refuses of the modes, check by check: the buildctl modes' step
/// alone is restricted (Tekton's init containers decide the rest); daemonless fails
/// baseline on seccomp and AppArmor Unconfined, restricted also on privilege
/// escalation.
#[test]
fn the_checks_refuse_what_each_mode_needs() {
    for (mode, task) in readme_modes() {
        let pod = pod_of(&task, true);
        if mode == "daemonless" {
            assert!(!seccomp_baseline(&pod), "{mode}");
            assert!(!apparmor(&pod), "{mode}: the annotation is unconfined");
            assert!(!no_privilege_escalation(&pod), "{mode}");
            assert!(privileged(&pod) && host_access(&pod) && restricted_volumes(&pod));
        } else {
            assert_eq!(level(&pod), Level::Restricted, "{mode}");
        }
        // Without Tekton's flag its init containers set nothing: baseline at most.
        let defaults = pod_of(&task, false);
        assert!(!no_privilege_escalation(&defaults), "{mode}");
        assert!(!seccomp_restricted(&defaults) && !capabilities_restricted(&defaults));
    }
    // And the checks can pass and fail on their own: a hostPath volume, a root uid.
    let mut task = readme_modes().remove(0).1;
    task["spec"]["volumes"]
        .as_array_mut()
        .expect("volumes")
        .push(json!({ "name": "h", "hostPath": { "path": "/" } }));
    assert_eq!(level(&pod_of(&task, true)), Level::Privileged);
    let mut task = readme_modes().remove(0).1;
    task["spec"]["steps"][0]["securityContext"]["runAsUser"] = json!(0);
    assert_eq!(level(&pod_of(&task, true)), Level::Baseline);
}
