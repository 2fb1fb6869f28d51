#!/usr/bin/env bash
# Renders every kustomize overlay below ROOT that has a committed expected.yaml beside its
# kustomization.yaml, and fails with a unified diff when the output has drifted.
#
#   render-check.sh [--update] [ROOT ...]      (ROOT defaults to .)
#
# --update rewrites each expected.yaml from the rendered output (review with git diff).
# Needs harbor-buildkit-fn on PATH and a standalone kustomize: $KUSTOMIZE, or kustomize
# on PATH. `kubectl kustomize` cannot run exec functions, so it is not accepted here.
set -euo pipefail

update=false
if [ "${1:-}" = "--update" ]; then
  update=true
  shift
fi
if [ "$#" -eq 0 ]; then
  set -- .
fi
kustomize="${KUSTOMIZE:-kustomize}"

if ! command -v "$kustomize" >/dev/null 2>&1; then
  echo "render-check: $kustomize not found: install a standalone kustomize or set KUSTOMIZE" >&2
  exit 2
fi
if ! command -v harbor-buildkit-fn >/dev/null 2>&1; then
  echo "render-check: harbor-buildkit-fn is not on PATH" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
checked=0
drifted=0
while IFS= read -r -d '' expected; do
  dir="$(dirname "$expected")"
  [ -f "$dir/kustomization.yaml" ] || continue
  checked=$((checked + 1))
  if ! "$kustomize" build --enable-alpha-plugins --enable-exec "$dir" >"$tmp/rendered.yaml" 2>"$tmp/stderr"; then
    echo "FAIL $dir: kustomize build failed:" >&2
    cat "$tmp/stderr" >&2
    drifted=$((drifted + 1))
    continue
  fi
  if "$update"; then
    cp "$tmp/rendered.yaml" "$expected"
    echo "updated $expected"
  elif diff -u --label "$expected (committed)" --label "$dir (rendered now)" "$expected" "$tmp/rendered.yaml"; then
    echo "ok   $dir"
  else
    echo "FAIL $dir: the rendered output differs from $expected (diff above)." >&2
    echo "     If the change is intended: $0 --update $dir" >&2
    drifted=$((drifted + 1))
  fi
done < <(find "$@" -name expected.yaml -print0 | sort -z)

if [ "$checked" -eq 0 ]; then
  echo "render-check: no overlay with an expected.yaml below $*" >&2
  exit 2
fi
echo "render-check: $checked overlay(s) rendered, $drifted with differences"
[ "$drifted" -eq 0 ]
