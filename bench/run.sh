#!/usr/bin/env bash
# Whole-process benchmark: median wall time (hyperfine) and peak RSS of
# harbor-buildkit-fn on generated ResourceLists, with `yq .` (PyPI yq) on the
# 10,000-item input in the same run as the baseline, checked against the targets.
#
#   bench/run.sh                 # prints the table, writes target/bench/results.md
#   bench/run.sh --baseline      # also replaces the committed bench/baseline.md
#
# Needs hyperfine (Debian) and python3; installs yq into target/bench/venv.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/bench
mkdir -p "$out"
if ! command -v hyperfine >/dev/null 2>&1; then
  apt-get install -y -qq hyperfine >/dev/null
fi
if [ ! -x "$out/venv/bin/yq" ]; then
  python3 -m venv "$out/venv"
  "$out/venv/bin/pip" install --quiet --disable-pip-version-check yq
fi
command -v jq >/dev/null 2>&1 || apt-get install -y -qq jq >/dev/null
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null

cargo build --release --quiet
bin="$PWD/target/release/harbor-buildkit-fn"
python3 bench/gen.py "$out/inputs"

# median_ms CMD INPUT RUNS: hyperfine's median, in milliseconds.
median_ms() {
  hyperfine --style none --warmup 2 --runs "$3" --export-json "$out/h.json" \
    "$1 < $2 > /dev/null" >/dev/null 2>&1
  python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$out/h.json"
}

# peak_kib CMD INPUT: the largest maximum resident set size of three runs, in KiB
# (GNU time's %M, measured on the process itself).
peak_kib() {
  local peak=0 kib
  for _ in 1 2 3; do
    kib=$(/usr/bin/time -f %M "$1" < "$2" 2>&1 >/dev/null | tail -n 1)
    [ "$kib" -gt "$peak" ] && peak=$kib
  done
  echo "$peak"
}

size_kib() { echo $(( $(stat -c %s "$1") / 1024 )); }

{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)."
  echo
  echo "| input | size (KiB) | median (ms) | peak RSS (KiB) | RSS / size |"
  echo "|---|---:|---:|---:|---:|"
} > "$out/results.md"

declare -A ms rss
for name in tiny items-1000 items-10000 items-100000 harbor-1000 harbor-10000 harbor-100000 tekton-10000; do
  input="$out/inputs/$name.yaml"
  runs=20
  case "$name" in *100000) runs=5 ;; esac
  ms[$name]=$(median_ms "$bin" "$input" "$runs")
  rss[$name]=$(peak_kib "$bin" "$input")
  kib=$(size_kib "$input")
  ratio=$(python3 -c "print('%.1f' % (${rss[$name]} / max($kib, 1)))")
  echo "| $name | $kib | ${ms[$name]} | ${rss[$name]} | $ratio |" >> "$out/results.md"
done
yq_ms=$(median_ms "$out/venv/bin/yq ." "$out/inputs/items-10000.yaml" 3)
echo "| items-10000 with \`yq .\` | $(size_kib "$out/inputs/items-10000.yaml") | $yq_ms | | |" >> "$out/results.md"

# The targets (issue: Performance). Not a test: a report.
base_kib=${rss[tiny]}
python3 - "$out/results.md" "${ms[tiny]}" "${ms[items-10000]}" "${ms[items-100000]}" "$yq_ms" \
  "${rss[items-10000]}" "$(size_kib "$out/inputs/items-10000.yaml")" \
  "${rss[items-100000]}" "$(size_kib "$out/inputs/items-100000.yaml")" "$base_kib" <<'PY'
import sys
path, tiny, k10, k100, yq, rss10, size10, rss100, size100, base = sys.argv[1:]
tiny, k10, k100, yq = map(float, (tiny, k10, k100, yq))
rss10, size10, rss100, size100, base = map(int, (rss10, size10, rss100, size100, base))
checks = [
    ("10,000 items at most 150 ms", k10 <= 150, f"{k10:.1f} ms"),
    ("10,000 items at least 30x faster than yq .", yq / k10 >= 30, f"{yq / k10:.0f}x"),
    ("tiny input at most 3 ms", tiny <= 3, f"{tiny:.1f} ms"),
    ("100,000 items at most 11x the 10,000-item time", k100 <= 11 * k10, f"{k100 / k10:.1f}x"),
    ("peak RSS at most 4x the input, 10,000 items (above the tiny run's RSS)", rss10 - base <= 4 * size10, f"{(rss10 - base) / size10:.2f}x"),
    ("peak RSS at most 4x the input, 100,000 items (above the tiny run's RSS)", rss100 - base <= 4 * size100, f"{(rss100 - base) / size100:.2f}x"),
]
with open(path, "a") as f:
    f.write("\n| target | result | |\n|---|---:|---|\n")
    for name, ok, value in checks:
        f.write(f"| {name} | {value} | {'met' if ok else 'MISSED'} |\n")
PY

cat "$out/results.md"
if [ "${1:-}" = "--baseline" ]; then
  cp "$out/results.md" bench/baseline.md
  echo "bench/baseline.md updated"
fi
