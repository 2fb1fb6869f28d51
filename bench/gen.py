#!/usr/bin/env python3
"""Writes the benchmark inputs: ResourceLists shaped like what kustomize sends.

    bench/gen.py OUT_DIR

Writes tiny.yaml (kustomize generator input: only the functionConfig item),
items-N.yaml for N in 1000, 10000, 100000 (pass-through ConfigMaps with kustomize's
annotations and a multi-line string, ~290 bytes each: 10,000 items are ~2.9 MB; Harbor
is not among them, so the spec generates only the BuildKit ConfigMap and the Task),
harbor-N.yaml (the same plus Harbor's core ConfigMap and a buildkitd.toml to patch, and
the whole spec), each with BuildKit's daemon to mount the file into, and tekton-10000.yaml (Tekton Tasks with DOCKER_CONFIG at a Secret
volume: the worst case of the static checks, which read each such Task).
"""
import os
import sys

FUNCTION_CONFIG = """functionConfig:
  apiVersion: fn.harbor-buildkit.dev/v1alpha1
  kind: HarborBuildkit
  metadata:
    name: harbor-buildkit
  spec:
    registry: harbor-core.default.svc.cluster.local
    scheme: http
    namespace: ci
"""

# Without Harbor's ConfigMap in the input, the CORE_URL patch would have nowhere to land.
WITHOUT_HARBOR = FUNCTION_CONFIG + "    generate: [buildkitdConfig, task]\n"

# BuildKit's rootless daemon and its Service (moby/buildkit examples/kubernetes), which
# the function mounts buildkitd.toml into.
DAEMON = """- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: buildkitd
    namespace: buildkit
    labels:
      app: buildkitd
  spec:
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
          image: moby/buildkit:v0.26.3-rootless
          args:
          - --addr
          - tcp://0.0.0.0:1234
          - --oci-worker-no-process-sandbox
- apiVersion: v1
  kind: Service
  metadata:
    name: buildkitd
    namespace: buildkit
  spec:
    ports:
    - port: 1234
    selector:
      app: buildkitd
"""

ITEM = """- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: app-{i}
    namespace: team-{t}
    annotations:
      config.kubernetes.io/index: '{i}'
      internal.config.kubernetes.io/path: 'apps/app-{i}.yaml'
  data:
    enabled: "on"
    replicas: "3"
    start.sh: |
      #!/bin/sh
      exec /app --id {i}
"""

HARBOR = """- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: harbor-core
    namespace: default
  data:
    EXT_ENDPOINT: "https://harbor.example.com"
    CORE_URL: "http://harbor-core:80"
    TOKEN_SERVICE_URL: "http://harbor-core:80/service/token"
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: buildkitd-config
    namespace: ci
  data:
    buildkitd.toml: |
      debug = true
      [registry."docker.io"]
        mirrors = ["mirror.gcr.io"]
"""

# A Tekton Task that the DOCKER_CONFIG check must read (DOCKER_CONFIG at a Secret
# volume): the check's worst case, every item parsed a second time.
TASK = """- apiVersion: tekton.dev/v1
  kind: Task
  metadata:
    name: build-{i}
    namespace: team-{t}
  spec:
    volumes:
    - name: creds
      secret:
        secretName: regcred
        items:
        - key: .dockerconfigjson
          path: config.json
    steps:
    - name: build
      image: docker.io/moby/buildkit:v0.26.3-rootless
      env:
      - name: DOCKER_CONFIG
        value: /creds
      volumeMounts:
      - name: creds
        mountPath: /creds
      script: |
        buildctl build --frontend dockerfile.v0 --local context=. --opt build-arg:ID={i}
"""

HEADER = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"


def write(path, n, harbor):
    with open(path, "w") as f:
        f.write(HEADER)
        for i in range(n):
            f.write(ITEM.format(i=i, t=i % 10))
        if harbor:
            f.write(HARBOR)
        f.write(DAEMON)
        f.write(FUNCTION_CONFIG if harbor else WITHOUT_HARBOR)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "tiny.yaml"), "w") as f:
        fc = FUNCTION_CONFIG.split("\n", 1)[1]
        item = "".join(("- " if i == 0 else "  ") + line[2:] + "\n" for i, line in enumerate(fc.splitlines()))
        f.write(HEADER + item + FUNCTION_CONFIG)
    for n in (1000, 10000, 100000):
        write(os.path.join(out, f"items-{n}.yaml"), n, False)
        write(os.path.join(out, f"harbor-{n}.yaml"), n, True)
    with open(os.path.join(out, "tekton-10000.yaml"), "w") as f:
        f.write(HEADER)
        for i in range(10000):
            f.write(TASK.format(i=i, t=i % 10))
        f.write(DAEMON)
        f.write(WITHOUT_HARBOR)


if __name__ == "__main__":
    main()
