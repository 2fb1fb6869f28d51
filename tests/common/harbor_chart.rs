//! Harbor's manifests as goharbor/harbor-helm v1.19.1 renders them for release `harbor`
//! in namespace `harbor` (the templates named at each function), as ResourceList
//! entries. Only what the function reads is kept of each, with the chart's exact names,
//! labels, selectors, ports and keys.

/// The chart's `harbor.labels` (templates/_helpers.tpl), at an indent.
fn labels(indent: usize) -> String {
    let pad = " ".repeat(indent);
    [
        "heritage: Helm",
        "release: harbor",
        "chart: harbor",
        "app: \"harbor\"",
        "app.kubernetes.io/instance: harbor",
        "app.kubernetes.io/name: harbor",
        "app.kubernetes.io/managed-by: Helm",
        "app.kubernetes.io/part-of: harbor",
        "app.kubernetes.io/version: \"2.15.1\"",
    ]
    .iter()
    .map(|l| format!("{pad}{l}\n"))
    .collect()
}

/// How the chart was installed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Values {
    /// `internalTLS.enabled`.
    pub internal_tls: bool,
}

impl Values {
    fn scheme(self) -> &'static str {
        if self.internal_tls { "https" } else { "http" }
    }
    fn service_port(self) -> u16 {
        if self.internal_tls { 443 } else { 80 }
    }
    fn container_port(self) -> u16 {
        if self.internal_tls { 8443 } else { 8080 }
    }
    /// `harbor.coreURL`.
    pub fn core_url(self) -> String {
        format!("{}://harbor-core:{}", self.scheme(), self.service_port())
    }
}

/// templates/core/core-cm.yaml, with `externalURL` as EXT_ENDPOINT.
pub fn core_config_map(v: Values, external_url: &str) -> String {
    let core_url = v.core_url();
    format!(
        r#"- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: harbor-core
    namespace: "harbor"
    labels:
{labels}  data:
    app.conf: |+
      appname = Harbor
      runmode = prod
      enablegzip = true

      [prod]
      httpport = {port}
    PORT: "{port}"
    EXT_ENDPOINT: "{external_url}"
    CORE_URL: "{core_url}"
    JOBSERVICE_URL: "{scheme}://harbor-jobservice"
    REGISTRY_URL: "{scheme}://harbor-registry:5000"
    TOKEN_SERVICE_URL: "{core_url}/service/token"
    CORE_LOCAL_URL: "{scheme}://127.0.0.1:{port}"
"#,
        labels = labels(6),
        port = v.container_port(),
        scheme = v.scheme(),
    )
}

/// templates/core/core-dpl.yaml: container `core` reading the ConfigMap and Secret
/// through envFrom, the chart's own env, then `extra_env` (`core.extraEnvVars`, a YAML
/// list of EnvVar at column 0, or "").
pub fn core_deployment(v: Values, image_tag: &str, extra_env: &str) -> String {
    let mut env = String::from(
        "          - name: CORE_SECRET\n            valueFrom:\n              secretKeyRef:\n                name: harbor-core\n                key: secret\n          - name: JOBSERVICE_SECRET\n            valueFrom:\n              secretKeyRef:\n                name: harbor-jobservice\n                key: JOBSERVICE_SECRET\n",
    );
    let mut mounts = String::from(
        "          - name: config\n            mountPath: /etc/core/app.conf\n            subPath: app.conf\n",
    );
    let mut volumes = String::from(
        "        - name: config\n          configMap:\n            name: harbor-core\n            items:\n              - key: app.conf\n                path: app.conf\n",
    );
    if v.internal_tls {
        env.push_str("          - name: INTERNAL_TLS_ENABLED\n            value: \"true\"\n          - name: INTERNAL_TLS_KEY_PATH\n            value: /etc/harbor/ssl/core/tls.key\n          - name: INTERNAL_TLS_CERT_PATH\n            value: /etc/harbor/ssl/core/tls.crt\n          - name: INTERNAL_TLS_TRUST_CA_PATH\n            value: /etc/harbor/ssl/core/ca.crt\n");
        mounts.push_str(
            "          - name: core-internal-certs\n            mountPath: /etc/harbor/ssl/core\n",
        );
        volumes.push_str("        - name: core-internal-certs\n          secret:\n            secretName: harbor-core-internal-tls\n");
    }
    for line in extra_env.lines() {
        env.push_str("          ");
        env.push_str(line);
        env.push('\n');
    }
    format!(
        r#"- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: harbor-core
    namespace: "harbor"
    labels:
{labels}      component: core
      app.kubernetes.io/component: core
  spec:
    replicas: 1
    selector:
      matchLabels:
        release: harbor
        app: "harbor"
        component: core
    template:
      metadata:
        labels:
{pod_labels}          component: core
          app.kubernetes.io/component: core
        annotations:
          checksum/configmap: 5d41402abc4b2a76b9719d911017c592
      spec:
        securityContext:
          runAsUser: 10000
          fsGroup: 10000
        containers:
        - name: core
          image: docker.io/goharbor/harbor-core:{image_tag}
          envFrom:
          - configMapRef:
              name: "harbor-core"
          - secretRef:
              name: "harbor-core"
          env:
{env}          ports:
          - containerPort: {port}
          volumeMounts:
{mounts}        volumes:
{volumes}"#,
        labels = labels(6),
        pod_labels = labels(10),
        port = v.container_port(),
    )
}

/// templates/core/core-svc.yaml.
pub fn core_service(v: Values) -> String {
    format!(
        r#"- apiVersion: v1
  kind: Service
  metadata:
    name: harbor-core
    namespace: "harbor"
    labels:
{labels}  spec:
    ports:
      - name: {name}
        port: {port}
        targetPort: {target}
    selector:
      release: harbor
      app: "harbor"
      component: core
"#,
        labels = labels(6),
        name = if v.internal_tls {
            "https-web"
        } else {
            "http-web"
        },
        port = v.service_port(),
        target = v.container_port(),
    )
}

/// templates/nginx/service.yaml for `expose.type: clusterIP` (name `harbor`, the
/// default of `expose.clusterIP.name`), with `expose.tls.enabled`.
pub fn nginx_service() -> String {
    format!(
        r#"- apiVersion: v1
  kind: Service
  metadata:
    name: harbor
    namespace: "harbor"
    labels:
{labels}  spec:
    type: ClusterIP
    ports:
      - name: http
        port: 80
        targetPort: 8080
      - name: https
        port: 443
        targetPort: 8443
    selector:
      release: harbor
      app: "harbor"
      component: nginx
"#,
        labels = labels(6)
    )
}

/// templates/jobservice/jobservice-cm-env.yaml.
pub fn jobservice_config_map(v: Values) -> String {
    let core_url = v.core_url();
    format!(
        r#"- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: "harbor-jobservice-env"
    namespace: "harbor"
    labels:
{labels}  data:
    CORE_URL: "{core_url}"
    TOKEN_SERVICE_URL: "{core_url}/service/token"
    REGISTRY_URL: "{scheme}://harbor-registry:5000"
"#,
        labels = labels(6),
        scheme = v.scheme(),
    )
}

/// templates/internal/auto-tls.yaml's core Secret, with a certificate for `names`
/// (the chart's own: `127.0.0.1`, `localhost`, `harbor-core`), made at test time.
pub fn internal_tls_secret(names: &[&str]) -> String {
    use base64::Engine as _;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    // In the order given, as genSignedCert lists IPs and then DNS names.
    params.subject_alt_names = names
        .iter()
        .map(|n| match n.parse::<std::net::IpAddr>() {
            Ok(ip) => rcgen::SanType::IpAddress(ip),
            Err(_) => rcgen::SanType::DnsName((*n).try_into().expect("a DNS name")),
        })
        .collect();
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("certificate");
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    format!(
        r#"- apiVersion: v1
  kind: Secret
  metadata:
    name: "harbor-core-internal-tls"
    namespace: "harbor"
    labels:
{labels}  type: kubernetes.io/tls
  data:
    ca.crt: "{ca}"
    tls.crt: "{crt}"
    tls.key: "{key}"
"#,
        labels = labels(6),
        ca = b64(cert.pem()),
        crt = b64(cert.pem()),
        key = b64(key.serialize_pem()),
    )
}

/// The whole chart as a plain install renders what the function reads.
pub fn plain(external_url: &str, image_tag: &str) -> Vec<String> {
    let v = Values::default();
    vec![
        core_config_map(v, external_url),
        core_deployment(v, image_tag, ""),
        core_service(v),
        nginx_service(),
        jobservice_config_map(v),
    ]
}
