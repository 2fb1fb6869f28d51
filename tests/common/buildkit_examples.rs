//! BuildKit's daemon as moby/buildkit v0.26.3 `examples/kubernetes` lays it out
//! (`deployment+service.{rootless,privileged}.yaml`, `statefulset.{rootless,privileged}.yaml`),
//! as ResourceList entries, with a namespace added: the names, labels, image, args,
//! security context, ports and volumes of those files, with their comments left out.

/// The keys of a `[registry."<host>"]` table BuildKit reads
/// (`util/resolver/config/config.go` `RegistryConfig`).
pub const REGISTRY_KEYS: &[&str] = &[
    "mirrors",
    "http",
    "insecure",
    "ca",
    "keypair",
    "tlsconfigdir",
];

/// The examples' readiness probe.
const PROBE: &str = "            readinessProbe:\n              exec:\n                command:\n                  - buildctl\n                  - debug\n                  - workers\n              initialDelaySeconds: 5\n              periodSeconds: 30\n";

/// How the daemon runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Rootless,
    Privileged,
}

fn image(mode: Mode) -> &'static str {
    match mode {
        Mode::Rootless => "moby/buildkit:v0.26.3-rootless",
        Mode::Privileged => "moby/buildkit:v0.26.3",
    }
}

fn security_context(mode: Mode, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match mode {
        Mode::Rootless => format!(
            "{pad}securityContext:\n{pad}  seccompProfile:\n{pad}    type: Unconfined\n{pad}  appArmorProfile:\n{pad}    type: Unconfined\n{pad}  runAsUser: 1000\n{pad}  runAsGroup: 1000\n"
        ),
        Mode::Privileged => format!("{pad}securityContext:\n{pad}  privileged: true\n"),
    }
}

/// `deployment+service.<mode>.yaml`'s Deployment, mTLS on tcp://0.0.0.0:1234 with the
/// `buildkit-daemon-certs` Secret at `/certs`; `extra_args` (`--config=...`) appended.
pub fn deployment(mode: Mode, namespace: &str, extra_args: &[&str]) -> String {
    let socket = match mode {
        Mode::Rootless => "unix:///run/user/1000/buildkit/buildkitd.sock",
        Mode::Privileged => "unix:///run/buildkit/buildkitd.sock",
    };
    let mut args = vec![
        "--addr",
        socket,
        "--addr",
        "tcp://0.0.0.0:1234",
        "--tlscacert",
        "/certs/ca.pem",
        "--tlscert",
        "/certs/cert.pem",
        "--tlskey",
        "/certs/key.pem",
    ];
    if mode == Mode::Rootless {
        args.push("--oci-worker-no-process-sandbox");
    }
    args.extend(extra_args);
    let args: String = args
        .iter()
        .map(|a| format!("            - {a}\n"))
        .collect();
    let (rootless_mount, rootless_volume) = match mode {
        Mode::Rootless => (
            "              - mountPath: /home/user/.local/share/buildkit\n                name: buildkitd\n",
            "          - name: buildkitd\n            emptyDir: {}\n",
        ),
        Mode::Privileged => ("", ""),
    };
    workload(
        "Deployment",
        "",
        namespace,
        &format!(
            "            image: {image}\n            args:\n{args}{PROBE}{security}            ports:\n              - containerPort: 1234\n            volumeMounts:\n              - name: certs\n                readOnly: true\n                mountPath: /certs\n{rootless_mount}        volumes:\n          - name: certs\n            secret:\n              secretName: buildkit-daemon-certs\n{rootless_volume}",
            image = image(mode),
            security = security_context(mode, 12),
        ),
    )
}

/// The examples' workload around the `buildkitd` container's fields (`body`, at the
/// container's indent): labels `app: buildkitd`, one replica, `extra` spec fields.
fn workload(kind: &str, extra: &str, namespace: &str, body: &str) -> String {
    format!(
        r#"- apiVersion: apps/v1
  kind: {kind}
  metadata:
    labels:
      app: buildkitd
    name: buildkitd
    namespace: {namespace}
  spec:
{extra}    replicas: 1
    selector:
      matchLabels:
        app: buildkitd
    template:
      metadata:
        labels:
          app: buildkitd
      spec:
        containers:
          - name: buildkitd
{body}"#
    )
}

/// `deployment+service.*.yaml`'s Service.
pub fn service(namespace: &str) -> String {
    format!(
        r#"- apiVersion: v1
  kind: Service
  metadata:
    labels:
      app: buildkitd
    name: buildkitd
    namespace: {namespace}
  spec:
    ports:
      - port: 1234
        protocol: TCP
    selector:
      app: buildkitd
"#
    )
}

/// `statefulset.<mode>.yaml`: no TLS, no Service, the image's default address.
pub fn statefulset(mode: Mode, namespace: &str) -> String {
    let (args, mounts, volumes) = match mode {
        Mode::Rootless => (
            "            args:\n              - --oci-worker-no-process-sandbox\n",
            "            volumeMounts:\n              - mountPath: /home/user/.local/share/buildkit\n                name: buildkitd\n",
            "        volumes:\n          - name: buildkitd\n            emptyDir: {}\n",
        ),
        Mode::Privileged => ("", "", ""),
    };
    workload(
        "StatefulSet",
        "    serviceName: buildkitd\n    podManagementPolicy: Parallel\n",
        namespace,
        &format!(
            "            image: {image}\n{args}{PROBE}{security}{mounts}{volumes}",
            image = image(mode),
            security = security_context(mode, 12),
        ),
    )
}
