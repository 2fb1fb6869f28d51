//! Every result's stable code, and the one table that documents them.
//!
//! A result is identified by its code, never by its sentence: the code is carried in
//! the KRM result's `tags` (kyaml's `Result.Tags`, `code: HBF201`), printed on stderr
//! lines (`error[HBF201]: ...`), and explained by `harbor-buildkit-fn --explain HBF201`.
//! Sentences may be reworded; a code keeps its meaning once released.
//!
//! The ranges follow the systems the function wires:
//!
//! | range | what |
//! |---|---|
//! | `HBF0xx` | the input: the ResourceList and its YAML |
//! | `HBF1xx` | the spec (the functionConfig) |
//! | `HBF2xx` | Harbor: the realm and the `CORE_URL` patch |
//! | `HBF3xx` | BuildKit: the daemon and `buildkitd.toml` |
//! | `HBF4xx` | Tekton: the Task and the runs of it |
//! | `HBF5xx` | credentials: the docker-registry Secret as buildctl reads it |
//! | `HBF6xx` | `check`: the manifests as they are |
//! | `HBF9xx` | a bug in this function |
//!
//! Each entry says what the finding means, why (the upstream file behind the rule), how
//! to fix it, and names the golden case under `tests/cases/` whose input emits it;
//! `tests/cases.rs` proves that each example emits its code, so the table and the code
//! agree both ways. `CODES.md` is this table rendered (`harbor-buildkit-fn --explain all`,
//! checked by a test).

/// One documented code.
#[derive(Debug)]
pub struct Entry {
    pub code: Code,
    /// `HBF201`.
    pub id: &'static str,
    /// One line: what the finding says.
    pub title: &'static str,
    /// Why it matters, and the upstream code behind the rule.
    pub why: &'static str,
    /// How to fix it (what to change in the spec or the manifests).
    pub fix: &'static str,
    /// The golden case under `tests/cases/` whose input emits the code; empty only for
    /// [`Code::Internal`], which no input should reach.
    pub example: &'static str,
    /// That case's `input.yaml`, as bytes (one example is not UTF-8 on purpose).
    pub input: &'static [u8],
}

macro_rules! codes {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $id:literal {
            title: $title:expr,
            why: $why:expr,
            fix: $fix:expr,
            example: $example:tt $(,)?
        }
    )*) => {
        /// The stable code of a result.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        /// Every code, in order.
        pub const TABLE: &[Entry] = &[$(
            Entry {
                code: Code::$variant,
                id: $id,
                title: $title,
                why: $why,
                fix: $fix,
                example: $example,
                input: example_input!($example),
            },
        )*];
    };
}

/// The example's input, compiled in so that `--explain` shows it wherever the binary runs.
macro_rules! example_input {
    ("") => {
        b""
    };
    ($example:tt) => {
        include_bytes!(concat!("../tests/cases/", $example, "/input.yaml"))
    };
}

impl Code {
    /// The entry that documents this code.
    pub fn entry(self) -> &'static Entry {
        // TABLE lists every variant in declaration order.
        &TABLE[self as usize]
    }

    /// `HBF201`.
    pub fn id(self) -> &'static str {
        self.entry().id
    }

    /// The code an id names, whatever its case (`hbf201` too).
    pub fn parse(id: &str) -> Option<Code> {
        TABLE
            .iter()
            .find(|e| e.id.eq_ignore_ascii_case(id.trim()))
            .map(|e| e.code)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// What `--explain CODE` prints: the entry, and its example input.
pub fn explain(code: Code) -> String {
    let e = code.entry();
    let mut out = format!(
        "{}: {}\n\nWhy:\n{}\n\nFix:\n{}\n",
        e.id,
        e.title,
        indent(e.why),
        indent(e.fix)
    );
    if !e.example.is_empty() {
        out.push_str(&format!(
            "\nExample (tests/cases/{}/input.yaml; run it with `harbor-buildkit-fn < FILE`):\n{}",
            e.example,
            indent(&String::from_utf8_lossy(e.input))
        ));
    }
    out
}

/// The whole table as Markdown: what `CODES.md` holds.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Result codes\n\n\
         Every result of harbor-buildkit-fn carries one of these codes, in its KRM `tags`\n\
         (`code: HBF201`) and on its stderr line (`error[HBF201]: ...`). \
         `harbor-buildkit-fn --explain CODE` prints an entry with its example input.\n\
         This file is generated from `src/codes.rs` (`harbor-buildkit-fn --explain all`); a test keeps them equal.\n\n\
         | code | what |\n|---|---|\n",
    );
    for e in TABLE {
        out.push_str(&format!(
            "| [{}](#{}) | {} |\n",
            e.id,
            e.id.to_ascii_lowercase(),
            html_safe(e.title)
        ));
    }
    for e in TABLE {
        out.push_str(&format!(
            "\n## {}\n\n{}\n\n**Why.** {}\n\n**Fix.** {}\n",
            e.id,
            html_safe(e.title),
            html_safe(e.why),
            html_safe(e.fix)
        ));
        if !e.example.is_empty() {
            out.push_str(&format!(
                "\n**Example.** [`tests/cases/{0}/input.yaml`](tests/cases/{0}/input.yaml)\n",
                e.example
            ));
        }
    }
    out
}

/// Text for Markdown, where `<scheme>` would be read as an HTML tag.
fn html_safe(text: &str) -> String {
    text.replace('<', "&lt;")
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("  {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

codes! {
    // ---- HBF0xx: the input --------------------------------------------------------
    /// The input is not UTF-8.
    InputNotUtf8 = "HBF001" {
        title: "the input is not UTF-8",
        why: "YAML streams are UTF-8 (YAML 1.2 §5.2 also allows UTF-16/32, which no KRM consumer writes); kyaml and kpt read UTF-8 only.",
        fix: "Re-encode the file as UTF-8 (iconv -t UTF-8).",
        example: "hbf001-not-utf8",
    }
    /// The input does not parse as YAML (or breaks a reader limit).
    InputNotYaml = "HBF002" {
        title: "the input is not valid YAML",
        why: "Nothing can be read from a stream that does not parse; the message gives the line and column. Duplicate keys are refused as Go's yaml.v3 (kyaml's reader) refuses them.",
        fix: "Fix the YAML at the line named; `kpt fn source` or `kustomize build` show the stream the function was given.",
        example: "hbf002-bad-yaml",
    }
    /// Nothing on stdin.
    InputEmpty = "HBF003" {
        title: "the input is empty",
        why: "A KRM function reads one ResourceList on stdin (kubernetes-sigs/kustomize cmd/config/docs/api-conventions/functions-spec.md); an empty stream has no functionConfig.",
        fix: "Pipe a ResourceList in, or use `harbor-buildkit-fn run CONFIG [FILE|DIR ...]` for plain files.",
        example: "hbf003-empty",
    }
    /// The input is not a ResourceList mapping.
    InputNotResourceList = "HBF004" {
        title: "the input is not a ResourceList",
        why: "The function speaks the KRM functions spec: a mapping with kind: ResourceList, items and functionConfig.",
        fix: "Give a ResourceList (kind: ResourceList, apiVersion: config.kubernetes.io/v1), or use `harbor-buildkit-fn run` for plain resource files.",
        example: "hbf004-not-a-resource-list",
    }
    /// A ResourceList of an apiVersion this function does not read.
    InputApiVersion = "HBF005" {
        title: "the ResourceList's apiVersion is not served",
        why: "config.kubernetes.io/v1 is the current ResourceList version and v1beta1 its predecessor (kyaml fn/framework); another version may mean other fields.",
        fix: "Use apiVersion: config.kubernetes.io/v1.",
        example: "hbf005-resource-list-api-version",
    }
    /// `items` is not a list.
    InputItemsNotList = "HBF006" {
        title: "items is not a list of resources",
        why: "A ResourceList's items is a sequence of resources (functions-spec.md).",
        fix: "Write items as a YAML list (`items: [...]` or one `- ` entry per resource).",
        example: "hbf006-items-not-a-list",
    }
    /// An item is not a resource.
    InputItemNotResource = "HBF007" {
        title: "an item is not a resource",
        why: "Every item is a Kubernetes resource: a mapping whose apiVersion and kind are strings and whose metadata is a mapping; the function identifies items by them, and so do kustomize and kpt.",
        fix: "Fix the item at the index named (a stray scalar, a list where a mapping belongs, a number for a name).",
        example: "hbf007-item-is-a-scalar",
    }
    /// Several items with one identity.
    InputDuplicateItems = "HBF008" {
        title: "several items have the same kind, namespace and name",
        why: "The function would patch one and leave the other, and the API server keeps only the last applied; the usual cause is a file given twice.",
        fix: "Keep one of them (the message says whether they are copies of each other).",
        example: "hbf008-duplicate-items",
    }
    /// An item cannot be edited in place without changing what YAML means.
    InputNotEditable = "HBF009" {
        title: "an item cannot be patched in place",
        why: "Items are edited in their own text so that everything else stays byte for byte; an edit that would change what an alias elsewhere reads, or a value the YAML writes in a form that cannot be edited faithfully, is refused rather than re-emitted.",
        fix: "Write the value out in place of the alias (or in block style), then run again; the message names the node.",
        example: "hbf009-anchor-shared-with-regenerated-item",
    }

    /// A file or folder given on the command line cannot be read.
    FileUnreadable = "HBF010" {
        title: "a file or folder cannot be read",
        why: "`run` and `check` read the functionConfig file and every resource file or folder they are given; one that cannot be read would silently drop resources.",
        fix: "Check the path and its permissions.",
        example: "hbf010-file-missing",
    }
    /// A document of a resource file is not a resource.
    FileNotResource = "HBF011" {
        title: "a document of a resource file is not a resource",
        why: "`run` passes each document on as a ResourceList item; an item that is not a resource (a mapping with apiVersion, kind and metadata) has no identity that kustomize, kpt or the API server could use.",
        fix: "Remove or fix the document at the line named (a values file among the manifests is the usual cause).",
        example: "hbf011-document-not-a-resource",
    }

    /// A path given is not a regular file (a FIFO, a device, a socket).
    FileNotRegular = "HBF012" {
        title: "a path given is not a regular file",
        why: "`run`, `check` and `doctor --ca-file`/`--docker-config` read regular files only: a FIFO blocks the read until something writes to it (for ever, unattended), /dev/zero and /dev/urandom never end, and a device may change state when read. The type is checked before the file is opened (a FIFO is opened without blocking) and again on the open file.",
        fix: "Name the file itself; a stream goes to stdin (`run CONFIG -`, `--docker-config -`).",
        example: "hbf012-device-given",
    }
    /// The input is larger than --max-input-size.
    InputTooLarge = "HBF013" {
        title: "the input is larger than --max-input-size",
        why: "`run` and `check` read at most --max-input-size bytes in all (128 MiB unless given: the functionConfig, every resource file, stdin), each read stopping one byte past what is left, whatever size the file claims; a rendered chart or package is a few MiB, and a runaway file (a log, a disk image, a file that keeps growing) would otherwise take the memory of the machine.",
        fix: "Leave the file that is not a manifest out (or move it out of the folder), or give a larger --max-input-size (e.g. 512M).",
        example: "hbf013-input-too-large",
    }
    /// A symlink in a folder leads outside it.
    FileOutsideFolder = "HBF014" {
        title: "a symlink in a folder leads outside the folder",
        why: "A folder given to `run` or `check` is read as a package: its symlinks are followed only when their target, every link resolved, is in or below the folder, as kustomize's loader refuses a file outside its root (kubernetes-sigs/kustomize api/internal/loader/loadrestrictions.go RestrictionRootOnly, \"security; file ... is not in or below ...\"). Otherwise a link to a Secret elsewhere on the machine would be read and printed.",
        fix: "Move the file into the folder, or name it on the command line (a path named there is the user's choice and is read wherever it is).",
        example: "hbf014-symlink-outside-the-folder",
    }

    // ---- HBF1xx: the spec ---------------------------------------------------------
    /// No functionConfig.
    SpecMissing = "HBF100" {
        title: "no functionConfig",
        why: "Everything the function does follows from the spec: at least the registry.",
        fix: "Give a HarborBuildkit (fn.harbor-buildkit.dev/v1alpha1) with spec.registry as the functionConfig.",
        example: "hbf100-no-function-config",
    }
    /// The functionConfig is not a HarborBuildkit or a ConfigMap.
    SpecKind = "HBF102" {
        title: "the functionConfig is not a HarborBuildkit",
        why: "The spec's fields are defined for fn.harbor-buildkit.dev/v1alpha1 HarborBuildkit, or a v1 ConfigMap with the same keys in data (what `kpt fn eval -- k=v` builds).",
        fix: "Set apiVersion: fn.harbor-buildkit.dev/v1alpha1 and kind: HarborBuildkit.",
        example: "hbf102-function-config-wrong-kind",
    }
    /// A field the spec does not have.
    SpecUnknownField = "HBF103" {
        title: "an unknown field in the spec",
        why: "BuildKit silently ignores keys it does not know in buildkitd.toml; this function does not add a second silent layer, so a typo is an error (with the nearest field name).",
        fix: "Correct the field's name (`harbor-buildkit-fn schema` lists them), or remove it.",
        example: "hbf103-unknown-field",
    }
    /// A field of the wrong type (or null).
    SpecWrongType = "HBF104" {
        title: "a spec field has the wrong type",
        why: "Values are typed as Go's yaml.v3 types them (what kpt and kustomize read): `yes` is a string there, not a bool, and `scheme:` with no value is null, not the default.",
        fix: "Give the type the message names (`harbor-buildkit-fn schema` has every field's type), or leave the field out for its default.",
        example: "hbf104-wrong-types",
    }
    /// A required field is missing.
    SpecRequired = "HBF105" {
        title: "a required spec field is missing",
        why: "spec.registry is the name every part is built around (the Host BuildKit sends, the buildkitd.toml table key, the image references).",
        fix: "Set spec.registry to the registry's host[:port] as image references name it.",
        example: "hbf105-missing-registry",
    }
    /// A list repeats a value.
    SpecDuplicateValue = "HBF106" {
        title: "a list in the spec repeats a value",
        why: "A repeated value adds nothing; it is most likely a mistake for another value.",
        fix: "List each value once.",
        example: "hbf106-duplicate-mirror",
    }
    /// spec.registry is not a `host[:port]`.
    SpecRegistry = "HBF107" {
        title: "spec.registry is not a registry host",
        why: "BuildKit matches the registry by the domain of image references (distribution/reference): a lowercase host or IPv4 address with an optional port, no scheme, no path, no space.",
        fix: "Write the host[:port] alone (no http://, no /path); the scheme goes to spec.scheme.",
        example: "hbf107-registry-with-scheme",
    }
    /// A value outside its closed set.
    SpecValue = "HBF108" {
        title: "a spec value is not one of those allowed",
        why: "scheme is http or https; generate names harborCore, buildkitdConfig and task; anything else would be guessed at.",
        fix: "Use one of the values the message lists.",
        example: "hbf108-scheme-unknown",
    }
    /// A Kubernetes name that the API server would refuse.
    SpecName = "HBF109" {
        title: "a name in the spec is not a valid Kubernetes name",
        why: "Namespaces are DNS-1123 labels, object names DNS-1123 subdomains (k8s.io/apimachinery pkg/util/validation), and a Tekton Task name is a DNS-1123 label; the API server refuses others.",
        fix: "Use lowercase letters, digits and '-' (and '.' for object names), starting and ending with a letter or digit, as the message says.",
        example: "hbf109-bad-names",
    }
    /// spec.buildkitHost is not an address buildctl reads.
    SpecBuildkitHost = "HBF110" {
        title: "spec.buildkitHost is not a buildkitd address",
        why: "buildctl --addr takes tcp://, unix://, kube-pod://, docker-container:// and similar URLs (moby/buildkit client/connhelper).",
        fix: "Write the address as a URL, e.g. tcp://buildkitd.buildkit.svc:1234.",
        example: "hbf110-bad-buildkit-host",
    }
    /// spec.buildctlImage is not an image reference.
    SpecImage = "HBF111" {
        title: "spec.buildctlImage is not an image reference",
        why: "The kubelet pulls the step's image by reference (distribution/reference grammar).",
        fix: "Give a reference such as docker.io/moby/buildkit:v0.32.2-rootless.",
        example: "hbf111-bad-image",
    }
    /// A path that must be absolute is not.
    SpecPath = "HBF112" {
        title: "a path in the spec is not absolute",
        why: "ca files are paths inside the buildkitd container, which reads them as written (util/resolver loadTLSConfig); a relative path depends on its working directory.",
        fix: "Give the absolute path where the file is mounted in the daemon.",
        example: "hbf112-relative-ca",
    }
    /// Fields that contradict each other.
    SpecConflict = "HBF113" {
        title: "spec fields contradict each other",
        why: "Some fields only apply with others (ca and insecureSkipVerify to https, caSecret to ca) and some exclude each other (a daemonless step connects to no daemon); a contradiction would be resolved by guessing.",
        fix: "Leave out one of the fields the message names.",
        example: "hbf113-http-with-tls-options",
    }
    /// A mirror or proxyCache entry that cannot be written.
    SpecMirror = "HBF114" {
        title: "a mirror or proxyCache entry is malformed",
        why: "Mirrors are host[:port][/path], optionally with http:// (util/resolver/resolver.go reads each mirror's transport from its own table); proxyCache entries are upstream=project.",
        fix: "Write the entry in the form the message gives.",
        example: "hbf114-bad-mirror",
    }
    /// spec.runAsUser is not a usable uid.
    SpecRunAsUser = "HBF115" {
        title: "spec.runAsUser is not a usable uid",
        why: "The step runs with runAsNonRoot: true (root is refused by the kubelet), and a uid is at most 2147483647; `platform` leaves it to the cluster.",
        fix: "Give a uid from 1 to 2147483647, or platform.",
        example: "hbf115-run-as-root",
    }
    /// Plain HTTP to a host outside the cluster.
    SpecHttpOutsideCluster = "HBF116" {
        title: "plain HTTP to a registry outside the cluster",
        why: "Images and the credentials buildctl sends for tokens would cross the network unencrypted.",
        fix: "Use spec.scheme: https for a registry outside the cluster.",
        example: "hbf116-http-outside-the-cluster",
    }
    /// spec.harborNamespace differs from the registry's namespace.
    SpecHarborNamespaceDiffers = "HBF117" {
        title: "spec.harborNamespace differs from the namespace in the registry host",
        why: "A <service>.<namespace>.svc registry names the namespace Harbor runs in; another harborNamespace patches a Harbor that BuildKit does not reach.",
        fix: "Make the two agree, or leave harborNamespace out (it is derived from the registry).",
        example: "hbf117-harbor-namespace-differs",
    }

    /// A Service name under another cluster domain.
    SpecClusterDomain = "HBF118" {
        title: "spec.registry names a Service under another domain than the cluster's",
        why: "Pods resolve <service>.<namespace>.svc.<cluster domain> through the kubelet's search path (pkg/kubelet/network/dns/dns.go) and CoreDNS answers Service names under its zone only (plugin/kubernetes/parse.go); a .svc name under another domain resolves nowhere in the cluster.",
        fix: "Write the name under the cluster's domain, or set spec.clusterDomain to the cluster's (the kubelet's --cluster-domain).",
        example: "hbf118-other-cluster-domain",
    }

    // ---- HBF2xx: Harbor -------------------------------------------------------------
    /// The realm Harbor will answer BuildKit with does not carry the registry's scheme and host.
    HarborRealm = "HBF200" {
        title: "Harbor's Bearer realm will not carry the registry's scheme and host",
        why: "buildctl fetches its token from the realm exactly as written (moby/buildkit session/auth/authprovider), outside buildkitd.toml. Harbor builds the realm from CORE_URL when the request's Host matches it, else from EXT_ENDPOINT (goharbor/harbor src/server/middleware/v2auth/auth.go, getChallenge and tokenSvcURL): an https realm for a plain-HTTP registry, or an external name pods cannot reach, fails the push.",
        fix: "Set CORE_URL (and TOKEN_SERVICE_URL) to <scheme>://<registry> in Harbor's core ConfigMap, as this function does with spec.generate: harborCore, then restart harbor-core.",
        example: "hbf200-realm-wrong",
    }
    /// The realm is right.
    HarborRealmWorks = "HBF201" {
        title: "Harbor's Bearer realm carries the registry's scheme and host",
        why: "The Host BuildKit sends matches CORE_URL (auth.go match), so the realm is CORE_URL/service/token in every Harbor version.",
        fix: "Nothing to fix.",
        example: "hbf201-realm-works",
    }
    /// The realm cannot be predicted from the input.
    HarborRealmUnknown = "HBF202" {
        title: "Harbor's realm cannot be predicted from this input",
        why: "Harbor's core ConfigMap is not in the input and the function does not patch it, so CORE_URL and EXT_ENDPOINT are unknown.",
        fix: "Give Harbor's manifests with the input, or probe the running registry with `harbor-buildkit-fn doctor`.",
        example: "hbf202-realm-unknown",
    }
    /// CORE_URL comes from a valueFrom.
    HarborCoreUrlValueFrom = "HBF203" {
        title: "harbor-core reads CORE_URL from where it cannot be patched (valueFrom, a Secret)",
        why: "A valueFrom is read in the cluster (the kubelet resolves it at start), and a Secret's values are not this function's to write: the value can be neither judged nor patched here, and a patch elsewhere would be overridden (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables).",
        fix: "Set CORE_URL where that value comes from, or write it as a value in the container's env.",
        example: "hbf203-core-url-value-from",
    }
    /// The realm is already right: CORE_URL is left alone.
    HarborAlreadyRight = "HBF204" {
        title: "CORE_URL is left as it is: the realm is already right",
        why: "CORE_URL also routes Trivy, replication's local registry and job hooks (src/pkg/task, src/pkg/reg/manager.go), so it is changed only when the realm needs it.",
        fix: "Nothing to fix.",
        example: "hbf204-already-right",
    }
    /// scheme http against internal TLS.
    HarborInternalTlsHttp = "HBF205" {
        title: "spec.scheme is http, but harbor-core serves https only (internal TLS)",
        why: "With the chart's internalTLS.enabled, harbor-core listens on 8443 behind port 443 of its Service, and nothing listens for plain HTTP (goharbor/harbor-helm templates/core).",
        fix: "Set spec.scheme: https, and give BuildKit Harbor's internal CA with spec.ca.",
        example: "hbf205-internal-tls-http",
    }
    /// The registry names a Service that is not harbor-core's.
    HarborNotCore = "HBF206" {
        title: "spec.registry does not reach harbor-core itself",
        why: "CORE_URL must be a URL harbor-core serves: jobservice posts task status to <CORE_URL>/service/notifications/tasks/<id>, which the chart's nginx answers with 404 (harbor-helm templates/nginx/configmap-http.yaml). harbor-core serves /v2/ and /service/token itself.",
        fix: "Name harbor-core's Service (<fullname>-core.<namespace>.svc.cluster.local) in spec.registry.",
        example: "hbf206-nginx-service",
    }
    /// A port the core Service does not expose.
    HarborPort = "HBF207" {
        title: "spec.registry connects to a port harbor-core's Service does not expose",
        why: "The chart's core Service exposes 80 (443 with internal TLS); 8080 and 8443 are the container's ports behind it (harbor-helm templates/core/core-svc.yaml). A push to another port reaches nothing.",
        fix: "Name the port the Service exposes (or none, for 80 with http and 443 with https).",
        example: "hbf207-wrong-port",
    }
    /// The core Service is assumed.
    HarborServiceAssumed = "HBF208" {
        title: "harbor-core's Service is not in the input and is assumed",
        why: "Its selector and ports cannot be checked; the chart's <fullname>-core Service is assumed.",
        fix: "Nothing, or give the Service with the input to have it checked.",
        example: "hbf208-service-assumed",
    }
    /// harbor-core's certificate does not cover the registry name.
    HarborCertificate = "HBF209" {
        title: "harbor-core's internal TLS certificate does not cover spec.registry",
        why: "BuildKit checks the certificate against the name it connects to. The chart's certSource: auto certificate covers only <fullname>-core, localhost and 127.0.0.1 (harbor-helm templates/internal/auto-tls.yaml), not the FQDN a pod in another namespace must use.",
        fix: "Give harbor-core a certificate that lists the FQDN (internalTLS.certSource: secret with a Secret cert-manager issues), and BuildKit its CA with spec.ca.",
        example: "hbf209-certificate-does-not-cover",
    }
    /// Harbor v1.10 or earlier: CORE_URL does not set the realm.
    HarborStaticRealm = "HBF210" {
        title: "Harbor v1.10 or earlier: CORE_URL does not decide the realm",
        why: "Before v2.0 the registry answers with the realm of its own configuration (auth.token.realm, <externalURL>/service/token in the chart); the CORE_URL patch would change nothing.",
        fix: "Upgrade Harbor to v2.2 or later, or set the registry's token realm itself.",
        example: "hbf210-harbor-1-10",
    }
    /// CORE_URL (or TOKEN_SERVICE_URL) set, or already current.
    HarborCoreUrlSet = "HBF211" {
        title: "CORE_URL and TOKEN_SERVICE_URL set where harbor-core reads them",
        why: "The realm's scheme and host come from CORE_URL when the Host matches it (auth.go). TOKEN_SERVICE_URL is kept beside it as the chart writes the pair.",
        fix: "Nothing to fix; the result shows the value before and after.",
        example: "hbf211-core-url-set",
    }
    /// harbor-core restarts (or must be restarted) to read CORE_URL.
    HarborRestart = "HBF212" {
        title: "harbor-core restarts to read the new CORE_URL",
        why: "harbor-core reads its ConfigMap through envFrom, only at start, and the chart's checksum/configmap annotation does not change when rendered output is patched; a pod-template checksum does.",
        fix: "Nothing when the Deployment is in the input; otherwise restart it after applying (the message gives the command).",
        example: "hbf211-core-url-set",
    }
    /// spec.harborNamespace is needed for a patch without Harbor in the input.
    HarborNamespaceRequired = "HBF213" {
        title: "spec.harborNamespace is required",
        why: "Harbor's core ConfigMap is not in the input, and the registry is not a <service>.<namespace>.svc name, so nothing says which namespace the patch is for (charts before v1.14 render no metadata.namespace).",
        fix: "Set spec.harborNamespace to the namespace Harbor is installed in.",
        example: "hbf213-harbor-namespace-required",
    }
    /// A kustomize behavior: merge patch was generated.
    HarborMergePatch = "HBF214" {
        title: "a behavior: merge patch of Harbor's core ConfigMap was generated",
        why: "A kustomize generator sees only its own config; kustomize merges the patch into the ConfigMap from resources: and fails loudly when none is there (api/resmap, behavior merge).",
        fix: "Nothing to fix.",
        example: "hbf214-merge-patch",
    }
    /// A kpt local-config patch was written.
    HarborLocalPatch = "HBF215" {
        title: "the CORE_URL patch was written as local config",
        why: "Harbor's core ConfigMap is not in the kpt package; a local-config item is never applied by itself.",
        fix: "Add Harbor's manifests to the package, or merge the patch's two keys into Harbor's ConfigMap where Harbor is rendered.",
        example: "hbf215-local-patch",
    }
    /// The CORE_URL patch has nowhere to land.
    HarborNotInInput = "HBF216" {
        title: "Harbor's core ConfigMap is not in the input, so the patch cannot land",
        why: "A kustomize transformer's local-config output is dropped by kustomize, and plain output has nobody to merge a patch; the user asked for harborCore and would get nothing.",
        fix: "Give Harbor's rendered manifests with the input, list the function under generators:, or leave harborCore out of spec.generate.",
        example: "hbf216-harbor-not-in-input",
    }
    /// Several candidates for Harbor's core ConfigMap or Deployment.
    HarborAmbiguous = "HBF217" {
        title: "several ConfigMaps or Deployments look like Harbor's core",
        why: "Harbor is found by what it is (EXT_ENDPOINT with CORE_URL; the container that reads that ConfigMap); two such Harbors leave the choice open.",
        fix: "Set spec.harborConfigMap (and spec.harborNamespace) or spec.harborDeployment.",
        example: "hbf217-two-harbors",
    }

    /// Harbor is in the input, in another namespace than the spec says.
    HarborElsewhere = "HBF218" {
        title: "Harbor's core ConfigMap is in another namespace than the one the spec names",
        why: "The patch goes where harbor-core reads it; a namespace (spec.harborNamespace, or the one spec.registry's Service name says) with no Harbor in it would get a patch nothing reads.",
        fix: "Set spec.harborNamespace to the namespace the message names, or name harbor-core's Service there in spec.registry.",
        example: "hbf218-harbor-in-another-namespace",
    }

    /// A later envFrom source not in the input may set CORE_URL.
    HarborCoreUrlMayBeOverridden = "HBF219" {
        title: "harbor-core reads another envFrom source, not in the input, that may set CORE_URL",
        why: "The kubelet builds the environment from envFrom in order, a later source winning for the same name (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables); a source that is not in the input may hold CORE_URL and undo the patch.",
        fix: "Give that ConfigMap or Secret with the input, or make sure it holds no CORE_URL.",
        example: "hbf219-envfrom-source-not-in-input",
    }

    /// The external endpoint (or an Ingress host) with a scheme its front does not serve.
    HarborExternalScheme = "HBF220" {
        title: "the registry is Harbor's external endpoint, named with a scheme its front does not serve",
        why: "The chart's fronts serve externalURL with its scheme only (harbor-helm templates/ingress/ingress.yaml: tls and ssl-redirect; nodePort and loadBalancer serve https on externalURL's port). BuildKit would fail there, and CORE_URL set to that URL would also carry harbor-core's job hooks, Trivy's and replication's tokens (goharbor/harbor src/lib/config/systemconfig.go).",
        fix: "Set spec.scheme to the scheme the front serves (Harbor then answers BuildKit on that name with a usable realm, and nothing is patched), or name harbor-core's in-cluster Service in spec.registry.",
        example: "hbf220-external-endpoint-wrong-scheme",
    }

    /// Harbor outside the input, with an in-cluster registry: the chart's CORE_URL will not match it.
    HarborOutsideInput = "HBF221" {
        title: "Harbor is not in the input, and with the chart's CORE_URL its realm will not fit an in-cluster registry",
        why: "The chart renders CORE_URL as http://<fullname>-core:80 (harbor-helm templates/_helpers.tpl harbor.coreURL), which a Host such as <fullname>-core.<namespace>.svc.cluster.local never matches (src/server/middleware/v2auth/auth.go); Harbor v2.2-v2.13 then answer with EXT_ENDPOINT's realm, and v2.14+ with EXT_ENDPOINT's scheme. kustomize shows only stderr, so this is a warning, not an info.",
        fix: "Set CORE_URL where Harbor is installed: with helm, core.extraEnvVars (chart v1.13.0+) and jobservice.extraEnvVars to <scheme>://<registry>; or run this function as helm's post-renderer over the chart (--post-renderer harbor-buildkit-fn --post-renderer-args run --post-renderer-args CONFIG); or give Harbor's manifests with the input and add harborCore to spec.generate.",
        example: "hbf221-harbor-outside-input",
    }

    /// CORE_URL moved to a name outside the cluster.
    HarborCoreUrlExternal = "HBF222" {
        title: "CORE_URL now names a host outside the cluster, which the rest of Harbor also uses",
        why: "harbor-core hands CORE_URL to jobservice for task hooks (<CORE_URL>/service/notifications), to Trivy and replication for tokens (<CORE_URL>/service/token, goharbor/harbor src/lib/config/systemconfig.go InternalTokenServiceEndpoint), and jobservice reads its configuration from it: each of them must resolve, reach and trust that name.",
        fix: "Nothing, if every Harbor pod reaches the name; with a private CA give Harbor the CA (the chart's caBundleSecretName). Otherwise name harbor-core's in-cluster Service in spec.registry.",
        example: "hbf222-core-url-external",
    }

    /// jobservice's CORE_URL set to harbor-core's.
    HarborJobserviceCoreUrl = "HBF223" {
        title: "jobservice's CORE_URL set to harbor-core's",
        why: "jobservice tells the local Harbor by comparing a replication endpoint's URL with its own CORE_URL (goharbor/harbor src/pkg/reg/adapter/harbor/base/adapter.go isLocalHarbor), and that URL is harbor-core's CORE_URL (src/pkg/reg/manager.go): the two must be one string.",
        fix: "Nothing; with helm, set jobservice.extraEnvVars (or the value the chart renders into <fullname>-jobservice-env) to the same value.",
        example: "hbf223-jobservice-follows",
    }

    /// jobservice's CORE_URL cannot be kept equal to harbor-core's.
    HarborJobserviceMismatch = "HBF224" {
        title: "jobservice's CORE_URL is not harbor-core's, and this function cannot write it",
        why: "With different strings, jobservice's isLocalHarbor (src/pkg/reg/adapter/harbor/base/adapter.go) no longer recognises the local Harbor, and replication with it loses the secret it authenticates with, silently.",
        fix: "Set jobservice's CORE_URL where it comes from (the valueFrom source or Secret the message names) to harbor-core's value.",
        example: "hbf224-jobservice-value-from",
    }

    /// Harbor's namespace assumed from spec.registry.
    HarborNamespaceAssumed = "HBF225" {
        title: "Harbor's namespace is taken from spec.registry: the manifests do not say it",
        why: "harbor-helm renders metadata.namespace only from chart v1.16.0 (commit 0be9b1a), and helm passes a post-renderer no namespace, so a registry naming another namespace than Harbor's cannot be caught.",
        fix: "Set spec.harborNamespace to the namespace Harbor is installed in.",
        example: "hbf225-namespace-assumed",
    }

    // ---- HBF3xx: BuildKit -----------------------------------------------------------
    /// Daemonless: the step mounts buildkitd.toml.
    BuildkitDaemonless = "HBF300" {
        title: "daemonless: the step's buildkitd reads the generated buildkitd.toml",
        why: "buildctl-daemonless.sh starts buildkitd in the step with BUILDKITD_FLAGS, which carry --config pointing at the mounted ConfigMap.",
        fix: "Nothing to fix.",
        example: "hbf300-daemonless",
    }
    /// buildkitd.toml was generated.
    BuildkitConfigGenerated = "HBF301" {
        title: "buildkitd.toml generated with the registry's table",
        why: "buildkitd reads [registry.\"host\"] (http, insecure, ca, mirrors) from buildkitd.toml (moby/buildkit util/resolver/config/config.go).",
        fix: "Nothing to fix.",
        example: "hbf301-generated",
    }
    /// The ConfigMap's buildkitd.toml is not text.
    BuildkitConfigNotText = "HBF302" {
        title: "the ConfigMap's buildkitd.toml is not text",
        why: "ConfigMap data values are strings; a number or mapping there is not a file buildkitd can read.",
        fix: "Write buildkitd.toml as a block scalar (|) under its key.",
        example: "hbf302-toml-not-text",
    }
    /// buildkitd.toml does not parse as TOML.
    BuildkitConfigNotToml = "HBF303" {
        title: "buildkitd.toml does not parse as TOML",
        why: "buildkitd refuses to start on a file it cannot parse (cmd/buildkitd/config/load.go); the function edits the file in place and cannot edit what it cannot read.",
        fix: "Fix the TOML at the line named.",
        example: "hbf303-toml-does-not-parse",
    }
    /// The registry's table set in an existing buildkitd.toml, or already current.
    BuildkitConfigSet = "HBF304" {
        title: "the registry's table set in the existing buildkitd.toml",
        why: "Only [registry.\"host\"] changes; comments, other tables and formatting stay byte for byte.",
        fix: "Nothing to fix.",
        example: "hbf304-existing-toml",
    }
    /// The daemon reads the file from its ConfigMap, or it was mounted there.
    BuildkitMounted = "HBF305" {
        title: "buildkitd.toml is where the daemon reads it",
        why: "buildkitd reads /etc/buildkit/buildkitd.toml (rootful), ~/.config/buildkit/buildkitd.toml (rootless) or --config, once at start, and runs with its defaults, silently, when the file is not there (cmd/buildkitd/config/load.go).",
        fix: "Nothing to fix.",
        example: "hbf305-mounted",
    }
    /// The daemon's mounts or flags leave no safe place for the file.
    BuildkitMountConflict = "HBF306" {
        title: "buildkitd.toml cannot be mounted where the daemon reads it",
        why: "Another volume is mounted at the config folder (or at the CA folder), or --config is not an absolute path: a second mount would hide it, or the Pod would be invalid.",
        fix: "Mount the ConfigMap at that folder instead, or give the daemon --config=<a path of its own>.",
        example: "hbf306-config-dir-taken",
    }
    /// caSecret mounted.
    BuildkitCaMounted = "HBF307" {
        title: "the CA Secret mounted into the daemon",
        why: "BuildKit reads the ca files when it first talks to the registry and fails the push without them (util/resolver loadTLSConfig).",
        fix: "Nothing to fix.",
        example: "hbf307-ca-secret",
    }
    /// No daemon in the input reads the file.
    BuildkitNoDaemon = "HBF308" {
        title: "no BuildKit daemon in the input reads this buildkitd.toml",
        why: "buildkitd reads only the file mounted at its config path; a ConfigMap nobody mounts changes nothing.",
        fix: "Add the daemon's manifests (a Deployment, StatefulSet or DaemonSet running a moby/buildkit image), name it with spec.buildkitDaemon, or mount the ConfigMap yourself as the message says.",
        example: "hbf308-no-daemon",
    }
    /// The daemon reads another ConfigMap than spec.buildkitConfigMap.
    BuildkitConfigMapMismatch = "HBF309" {
        title: "the daemon reads buildkitd.toml from another ConfigMap than spec.buildkitConfigMap",
        why: "The file the daemon mounts is the one it reads; writing another would change nothing.",
        fix: "Set spec.buildkitConfigMap to the ConfigMap the daemon mounts, or leave it out.",
        example: "hbf309-config-map-mismatch",
    }
    /// Several daemons.
    BuildkitAmbiguous = "HBF310" {
        title: "several workloads run a BuildKit image",
        why: "The file is mounted into one daemon; which one runs the builds is not in the manifests.",
        fix: "Set spec.buildkitDaemon to the one BuildKit builds run on.",
        example: "hbf310-two-daemons",
    }
    /// The daemon mounts nothing at its config path.
    BuildkitConfigNotMounted = "HBF311" {
        title: "the daemon mounts no file at its config path",
        why: "buildkitd then runs with its defaults, silently (cmd/buildkitd/config/load.go returns an empty config for a missing file): no http = true, no ca, no mirrors.",
        fix: "Mount the ConfigMap with buildkitd.toml at the config path (spec.generate: buildkitdConfig does).",
        example: "hbf311-config-not-mounted",
    }
    /// A ca file no volume provides.
    BuildkitCaNotMounted = "HBF312" {
        title: "a spec.ca file is in no volume of the daemon",
        why: "BuildKit fails the push with \"failed to read <path>\" (util/resolver loadTLSConfig).",
        fix: "Mount the Secret holding it there (spec.caSecret does), or point spec.ca at where it is mounted.",
        example: "hbf312-ca-not-mounted",
    }
    /// A table keyed with another port than images use.
    BuildkitTablePort = "HBF313" {
        title: "a [registry] table is keyed with another port than images use",
        why: "BuildKit matches the table key exactly against the image reference's domain, port included (util/resolver), so the table never applies.",
        fix: "Key it exactly as images name the registry (spec.registry).",
        example: "hbf313-table-port",
    }
    /// http and insecure both set.
    BuildkitHttpAndInsecure = "HBF314" {
        title: "a [registry] table sets both http and insecure",
        why: "BuildKit then tries HTTPS first and falls back to HTTP (util/resolver/resolver.go); docs/buildkitd.toml.md says not to set both.",
        fix: "For a plain-HTTP registry set only http = true; for HTTPS without verification only insecure = true.",
        example: "hbf314-http-and-insecure",
    }
    /// A plain-HTTP registry without http = true.
    BuildkitHttpMissing = "HBF315" {
        title: "a plain-HTTP registry without http = true in buildkitd.toml",
        why: "buildkitd then pulls and pushes over HTTPS and fails (util/resolver).",
        fix: "Set http = true in the registry's table.",
        example: "hbf315-http-missing",
    }
    /// http = true for an https registry.
    BuildkitHttpForHttps = "HBF316" {
        title: "http = true for an https registry",
        why: "buildkitd would speak plain HTTP to a port that serves TLS.",
        fix: "Remove http = true, or set spec.scheme: http if the registry really is plain HTTP.",
        example: "hbf316-http-for-https",
    }
    /// The daemon restarts when the file changes.
    BuildkitRestart = "HBF317" {
        title: "the daemon restarts when buildkitd.toml changes",
        why: "buildkitd reads its config once, at start; a pod-template checksum of the file makes Kubernetes roll it when the file changes.",
        fix: "Nothing to fix.",
        example: "hbf305-mounted",
    }
    /// The buildkitd.toml could not be checked.
    BuildkitConfigUnchecked = "HBF318" {
        title: "a buildkitd.toml in the output was not checked",
        why: "It does not parse as TOML, so its registry tables cannot be read; buildkitd would refuse it too.",
        fix: "Fix the TOML.",
        example: "hbf318-unchecked-toml",
    }

    /// The daemon is in the input, in another namespace than the spec says.
    BuildkitElsewhere = "HBF319" {
        title: "the BuildKit daemon is in another namespace than spec.buildkitNamespace",
        why: "buildkitd.toml goes to the daemon's namespace, where its pod mounts it; a ConfigMap in another namespace is read by nothing.",
        fix: "Set spec.buildkitNamespace to the daemon's namespace, or leave it out to have the daemon found.",
        example: "hbf319-daemon-in-another-namespace",
    }
    /// spec.buildkitDaemon names a workload that runs no BuildKit.
    BuildkitNotADaemon = "HBF320" {
        title: "spec.buildkitDaemon names a workload that runs no BuildKit",
        why: "The ConfigMap and --config would be mounted into a pod that never reads them (buildkitd reads its config file; nothing else does), and its args would gain a flag its program may refuse.",
        fix: "Name the workload that runs moby/buildkit (or buildkitd), or leave spec.buildkitDaemon out to have it found.",
        example: "hbf320-daemon-is-harbor-core",
    }

    /// The daemon's --config cannot be read or mounted as written.
    BuildkitConfigFlag = "HBF321" {
        title: "the daemon's --config cannot be mounted as buildkitd reads it",
        why: "buildkitd reads --config once at start and says nothing when the file is missing (cmd/buildkitd/config/load.go); v0.30 and earlier stop reading flags at the first argument that is not one (Go's flag package), v0.31 and later do not (urfave/cli v3), and `--` ends them in both. A relative path, a folder or a --config after a plain argument leaves the file unread.",
        fix: "Give --config an absolute file path, before any argument that is not a flag, or pin the image to a release.",
        example: "hbf321-config-after-an-argument",
    }

    /// A buildkitd.toml mounted where this daemon never looks.
    BuildkitConfigNeverRead = "HBF322" {
        title: "a buildkitd.toml is mounted where this daemon never reads it",
        why: "A rootless buildkitd reads ~/.config/buildkit/buildkitd.toml and a rootful one /etc/buildkit/buildkitd.toml (cmd/buildkitd/main.go defaultConfigPath, util/appdefaults); a file at the other path was never in effect.",
        fix: "Move its settings into the file the daemon reads (the generated one), or into this function's spec.",
        example: "hbf322-rootless-daemon-with-etc-buildkit",
    }
    /// BUILDER_IMAGE is a BuildKit release older than the Task supports.
    BuildkitTooOld = "HBF323" {
        title: "BUILDER_IMAGE is a BuildKit release older than the Task supports",
        why: "The step passes --registry-auth-tlscontext (buildctl v0.13.0 and later: moby/buildkit cmd/buildctl/build.go; v0.12 stops with 'flag provided but not defined') and exports the registry cache with image-manifest=true (v0.12.0 and later: cache/remotecache/registry/registry.go; without it v0.12 to v0.20 write an OCI index, which Harbor answers with 404, goharbor/harbor#14774).",
        fix: "Use moby/buildkit v0.13.0 or later (spec.buildctlImage for the Task's default, the BUILDER_IMAGE param of the run).",
        example: "hbf323-builder-image-too-old",
    }

    // ---- HBF4xx: Tekton -------------------------------------------------------------
    /// BUILDKIT_HOST defaults to the daemon's Service.
    TektonBuildkitHost = "HBF400" {
        title: "the Task's BUILDKIT_HOST defaults to the daemon's Service",
        why: "tcp://<service>.<namespace>.svc:<port> resolves from the Task's namespace through the pod's DNS search path.",
        fix: "Nothing to fix; set spec.buildkitHost to override.",
        example: "hbf305-mounted",
    }
    /// Daemonless: what the namespace must allow.
    TektonDaemonless = "HBF401" {
        title: "daemonless: what the Task's namespace must allow",
        why: "A rootless buildkitd in the step needs seccomp and AppArmor Unconfined, privilege escalation and uid 1000 (moby/buildkit examples/kubernetes/job.rootless.yaml, docs/rootless.md); Pod Security baseline forbids Unconfined profiles.",
        fix: "Label the namespace pod-security.kubernetes.io/enforce=privileged (or an SCC on OpenShift), or use a daemon.",
        example: "hbf300-daemonless",
    }
    /// The client-cert workspace is required.
    TektonClientCertsRequired = "HBF402" {
        title: "the Task's buildkit-client-certs workspace is required",
        why: "The daemon runs with --tlscacert, so it demands a client certificate; buildctl's TLS options are global flags (cmd/buildctl/main.go).",
        fix: "Bind the workspace to the client Secret of BuildKit's create-certs.sh.",
        example: "hbf402-mtls-daemon",
    }
    /// The registry-ca workspace is required.
    TektonRegistryCaRequired = "HBF403" {
        title: "the Task's registry-ca workspace is required",
        why: "buildctl fetches the registry's tokens itself, where the daemon's ca = [...] does not reach (session/auth/authprovider/authprovider.go); the CA goes to --registry-auth-tlscontext.",
        fix: "Bind the workspace to the Secret or ConfigMap holding the CA.",
        example: "hbf403-private-ca",
    }
    /// Pushes carry registry.insecure=true.
    TektonRegistryInsecure = "HBF404" {
        title: "pushes and caches carry registry.insecure=true",
        why: "No buildkitd.toml known to say http = true is read by the builder (or spec.registryInsecure says so): for each push and registry cache buildkitd then sets aside its own table for the registry for {insecure, http} (util/push/push.go, cache/remotecache/registry/registry.go), which tries HTTPS first and falls back to HTTP; where nothing answers on port 443 and packets are dropped, only after its 30 s dial timeout (util/resolver/resolver.go).",
        fix: "Give the daemon's manifests with the input, so that http = true is wired instead; or, once the daemon reads buildkitd.toml with http = true for the registry, set spec.registryInsecure: false.",
        example: "hbf404-registry-insecure",
    }
    /// The Task was generated.
    TektonTaskGenerated = "HBF405" {
        title: "the Tekton Task was generated",
        why: "It copies the docker-registry Secret's .dockerconfigjson to $DOCKER_CONFIG/config.json and runs buildctl build with the push and cache options.",
        fix: "Nothing to fix.",
        example: "hbf301-generated",
    }
    /// A Task of that name that this function did not make.
    TektonTaskNameTaken = "HBF406" {
        title: "a Task of that name is already in the input",
        why: "The function regenerates only Tasks it labelled itself (app.kubernetes.io/managed-by); another one is the user's.",
        fix: "Set spec.taskName to another name, or remove that Task.",
        example: "hbf406-task-name-taken",
    }
    /// BUILDKIT_HOST names a Service that is missing or lacks the port.
    TektonBuildkitHostService = "HBF407" {
        title: "the Task's BUILDKIT_HOST does not reach a Service of the input",
        why: "buildctl connects to the address as written; a Service that is not there, or lacks the port, answers nothing.",
        fix: "Set spec.buildkitHost to the daemon's Service and port.",
        example: "hbf407-buildkit-host-port",
    }
    /// DOCKER_CONFIG is a Secret mount without config.json.
    TektonDockerConfig = "HBF408" {
        title: "DOCKER_CONFIG is a Secret mount without config.json",
        why: "buildctl reads $DOCKER_CONFIG/config.json (docker/cli cli/config), and a kubernetes.io/dockerconfigjson Secret holds .dockerconfigjson: the push goes without credentials.",
        fix: "Map the key with items: [{key: .dockerconfigjson, path: config.json}], or copy it to a writable DOCKER_CONFIG as the generated Task does.",
        example: "hbf408-docker-config-mount",
    }
    /// A step runs buildctl without client certificates.
    TektonNoClientCert = "HBF409" {
        title: "a step runs buildctl without client certificates for a daemon that demands them",
        why: "The daemon runs with --tlscacert; buildctl fails the TLS handshake without --tlsdir or --tlscert (cmd/buildctl/main.go: global flags only).",
        fix: "Pass --tlsdir (or --tlscacert, --tlscert, --tlskey) before build, from a workspace bound to the client Secret.",
        example: "hbf409-step-without-client-cert",
    }
    /// An in-cluster https registry with no CA for buildctl.
    TektonPrivateCa = "HBF410" {
        title: "an in-cluster https registry, and no CA reaches buildctl",
        why: "No public CA issues certificates for in-cluster names or private addresses (CA/Browser Forum Baseline Requirements); buildctl fetches tokens with the system CAs and fails with x509: certificate signed by unknown authority.",
        fix: "Set spec.ca (the Task's registry-ca workspace then is required), or spec.insecureSkipVerify, or spec.scheme: http if the registry is plain HTTP.",
        example: "hbf410-https-in-cluster-without-ca",
    }
    /// A run binds fewer workspaces than the Task requires.
    TektonRunMissingWorkspace = "HBF411" {
        title: "a TaskRun, Pipeline or PipelineRun runs the Task without a workspace it requires",
        why: "Tekton refuses the run (tektoncd/pipeline pkg/reconciler/taskrun/validate_taskrun.go, pipeline_validation.go).",
        fix: "Bind the workspaces the message names.",
        example: "hbf411-run-missing-workspace",
    }

    /// BUILDKIT_HOST is the default, with no daemon Service in the input.
    TektonBuildkitHostAssumed = "HBF412" {
        title: "the Task's BUILDKIT_HOST is spec.buildkitHost's default, with no daemon Service in the input",
        why: "tcp://buildkitd:1234 is a bare Service name, which a pod resolves only in its own namespace (the kubelet's DNS search path); BuildKit's examples run the daemon in a namespace of its own.",
        fix: "Set spec.buildkitHost to the daemon's Service, e.g. tcp://buildkitd.buildkit.svc:1234, or give the daemon and its Service with the input.",
        example: "hbf301-generated",
    }
    /// A run's IMAGE is on another registry than the Task's.
    TektonImageRegistry = "HBF413" {
        title: "a run gives the Task an IMAGE on another registry than it was generated for",
        why: "BuildKit pushes to the registry an image reference names (distribution/reference splitDockerDomain: a first part without . or : is Docker Hub), and buildctl looks up credentials by that host exactly (docker/cli credentials file_store.go); the realm, http = true and the CA were all set up for spec.registry.",
        fix: "Name the image under spec.registry (<registry>/<project>/<name>:<tag>), or generate the Task for the other registry.",
        example: "hbf413-image-on-another-registry",
    }

    // ---- HBF5xx: credentials --------------------------------------------------------
    /// The Secret has no docker config under its key.
    AuthNoKey = "HBF500" {
        title: "a docker-registry Secret has no docker config under its key",
        why: "A kubernetes.io/dockerconfigjson Secret holds .dockerconfigjson (the API server refuses one without it); buildctl finds no credentials.",
        fix: "Put the docker config under .dockerconfigjson (kubectl create secret docker-registry writes it).",
        example: "hbf500-secret-without-key",
    }
    /// The docker config cannot be read.
    AuthUnreadable = "HBF501" {
        title: "a docker-registry Secret's docker config cannot be read",
        why: "Its data value is not base64, not UTF-8 or not JSON: buildctl would push without credentials.",
        fix: "Recreate the Secret (kubectl create secret docker-registry writes a valid one); stringData takes the JSON as text.",
        example: "hbf501-not-base64",
    }
    /// The docker config is not one docker/cli reads.
    AuthInvalid = "HBF502" {
        title: "a docker-registry Secret's docker config is not valid",
        why: "docker/cli (which buildctl uses) refuses a config.json whose auths or entries have the wrong shape (cli/config/configfile/file.go).",
        fix: "Fix the docker config as the message says.",
        example: "hbf502-auths-not-an-object",
    }
    /// A credential helper is named.
    AuthHelper = "HBF503" {
        title: "the docker config names a credential helper",
        why: "docker/cli asks that helper instead of reading auths (cli/config/configfile/file.go GetCredentialsStore), and the step's image has no docker-credential-* binaries.",
        fix: "Remove credsStore/credHelpers from the Secret's docker config.",
        example: "hbf503-credential-helper",
    }
    /// No auths entries at all.
    AuthNoEntries = "HBF504" {
        title: "the docker config has no auths entries",
        why: "buildctl finds no credentials and fetches its token anonymously: a push is answered 401.",
        fix: "Add an entry keyed with the registry's host[:port].",
        example: "hbf504-no-entries",
    }
    /// No entry matches the registry.
    AuthNoMatch = "HBF505" {
        title: "no auths entry matches the registry",
        why: "buildctl asks docker/cli for the registry's host[:port]: the key exactly, else each key with its scheme and path dropped and its port kept (cli/config/credentials/file_store.go ConvertToHostname). An error for the Secret a run binds to the Task, a warning for others.",
        fix: "Add an entry keyed exactly as image references name the registry (kubectl create secret docker-registry --docker-server=<registry>).",
        example: "hbf505-no-match",
    }
    /// The matching entry carries no credentials.
    AuthNoCredentials = "HBF506" {
        title: "the matching auths entry carries no credentials",
        why: "An entry without auth, username/password or a token makes buildctl fetch its token anonymously (session/auth/authprovider/authprovider.go).",
        fix: "Put the account's credentials in that entry.",
        example: "hbf506-entry-without-credentials",
    }
    /// The entry buildctl finds.
    AuthFound = "HBF507" {
        title: "the auths entry buildctl finds for the registry",
        why: "Says which entry matches and what it sends, so a wrong one can be spotted before a push.",
        fix: "Nothing to fix.",
        example: "hbf507-entry-found",
    }
    /// Entries that normalise alike with different credentials.
    AuthConflicting = "HBF508" {
        title: "several auths keys normalise to the registry with different credentials",
        why: "docker/cli takes whichever Go's map iteration yields first, which changes from run to run.",
        fix: "Keep one entry, keyed exactly as the registry.",
        example: "hbf508-conflicting-entries",
    }
    /// A legacy kubernetes.io/dockercfg Secret.
    AuthLegacy = "HBF509" {
        title: "a kubernetes.io/dockercfg Secret (the legacy format)",
        why: "buildctl reads only config.json with an auths object; docker/cli dropped the ~/.dockercfg format (commit ee218fa89e), and the Task copies only .dockerconfigjson or config.json.",
        fix: "Recreate it as a kubernetes.io/dockerconfigjson Secret.",
        example: "hbf509-legacy-dockercfg",
    }

    // ---- HBF6xx: check --------------------------------------------------------------
    /// check: the input lacks a change the function would make.
    CheckPendingChange = "HBF600" {
        title: "the input lacks a change the function would make",
        why: "check judges the manifests in front of it; a render that skipped the function (kustomize without --enable-exec, a pipeline step left out) would deploy without it.",
        fix: "Run the function over these manifests (kustomize build --enable-exec, kpt fn render, harbor-buildkit-fn run), or run check --planned to judge them as the function would leave them.",
        example: "hbf600-check-pending",
    }

    // ---- HBF9xx: bugs ---------------------------------------------------------------
    /// A bug in this function.
    Internal = "HBF900" {
        title: "a bug in harbor-buildkit-fn",
        why: "Two of the function's own changes conflict, or an item read once no longer reads; no input should reach this.",
        fix: "Report it with the input at the project's issue tracker.",
        example: "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_ordered_and_well_formed() {
        for (i, e) in TABLE.iter().enumerate() {
            assert_eq!(e.code as usize, i, "{} out of order", e.id);
            assert!(
                e.id.len() == 6
                    && e.id.starts_with("HBF")
                    && e.id[3..].bytes().all(|b| b.is_ascii_digit()),
                "{}",
                e.id
            );
            if i > 0 {
                assert!(TABLE[i - 1].id < e.id, "{} after {}", e.id, TABLE[i - 1].id);
            }
            for (what, text) in [("title", e.title), ("why", e.why), ("fix", e.fix)] {
                assert!(!text.trim().is_empty(), "{} has no {what}", e.id);
            }
        }
    }

    #[test]
    fn parse_reads_any_case_and_refuses_unknown_ids() {
        assert_eq!(Code::parse("hbf200"), Some(Code::HarborRealm));
        assert_eq!(Code::parse(" HBF200 "), Some(Code::HarborRealm));
        assert_eq!(Code::parse("HBF999"), None);
        assert_eq!(Code::HarborRealm.to_string(), "HBF200");
    }
}
