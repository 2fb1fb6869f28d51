//! In-process benchmarks: the function on ResourceLists shaped like kustomize's
//! (annotations, multi-line strings), and the two ResourceList readers.
//!
//! `cargo bench --bench function`. Whole-process time and peak memory, with `yq .` as
//! the baseline, are measured by `bench/run.sh`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use harbor_buildkit_fn::testing::ResourceList;

/// `n` ConfigMaps as kustomize sends them; with `harbor`, Harbor's core ConfigMap and
/// a buildkitd.toml ConfigMap to patch as well (without, the spec leaves Harbor out: its
/// patch would have nowhere to land).
fn resource_list(n: usize, harbor: bool) -> String {
    let mut s = String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n");
    for i in 0..n {
        s.push_str(&format!(
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: app-{i}\n    namespace: team-{}\n    labels:\n      app.kubernetes.io/name: app-{i}\n    annotations:\n      config.kubernetes.io/index: '{i}'\n      internal.config.kubernetes.io/index: '{i}'\n      config.kubernetes.io/path: 'apps/app-{i}.yaml'\n      internal.config.kubernetes.io/path: 'apps/app-{i}.yaml'\n  data:\n    enabled: \"on\"\n    replicas: \"3\"\n    startup.sh: |\n      #!/bin/sh\n      exec /app --id {i}\n",
            i % 10
        ));
    }
    if harbor {
        s.push_str("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: harbor-core\n    namespace: default\n  data:\n    EXT_ENDPOINT: \"https://harbor.example.com\"\n    CORE_URL: \"http://harbor-core:80\"\n    TOKEN_SERVICE_URL: \"http://harbor-core:80/service/token\"\n");
        s.push_str("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: buildkitd-config\n    namespace: ci\n  data:\n    buildkitd.toml: |\n      debug = true\n      [registry.\"docker.io\"]\n        mirrors = [\"mirror.gcr.io\"]\n");
    }
    // BuildKit's daemon, which the function mounts buildkitd.toml into.
    s.push_str("- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: buildkitd\n    namespace: buildkit\n  spec:\n    template:\n      metadata:\n        labels:\n          app: buildkitd\n      spec:\n        containers:\n        - name: buildkitd\n          image: moby/buildkit:v0.26.3-rootless\n");
    s.push_str("functionConfig:\n  apiVersion: fn.harbor-buildkit.dev/v1alpha1\n  kind: HarborBuildkit\n  metadata:\n    name: harbor-buildkit\n  spec:\n    registry: harbor-core.default.svc.cluster.local\n    scheme: http\n    namespace: ci\n");
    if !harbor {
        s.push_str("    generate: [buildkitdConfig, task]\n");
    }
    s
}

fn tiny() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/resource-lists/generator.yaml"
    ))
    .unwrap_or_default()
}

fn run(c: &mut Criterion) {
    let mut g = c.benchmark_group("run");
    let tiny = tiny();
    g.throughput(Throughput::Bytes(tiny.len() as u64));
    g.bench_function("tiny-generator", |b| {
        b.iter(|| harbor_buildkit_fn::run(tiny.as_bytes()))
    });
    for n in [1_000, 10_000] {
        for harbor in [false, true] {
            let input = resource_list(n, harbor);
            g.throughput(Throughput::Bytes(input.len() as u64));
            let name = if harbor {
                "with-harbor"
            } else {
                "pass-through"
            };
            g.bench_with_input(BenchmarkId::new(name, n), &input, |b, input| {
                b.iter(|| harbor_buildkit_fn::run(input.as_bytes()))
            });
        }
    }
    g.finish();
}

fn read(c: &mut Criterion) {
    let mut g = c.benchmark_group("read-10000");
    let input = resource_list(10_000, false);
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("fast", |b| {
        b.iter(|| ResourceList::parse_fast(&input).map(|rl| rl.len()))
    });
    g.bench_function("slow", |b| {
        b.iter(|| ResourceList::parse_slow(&input).map(|rl| rl.len()))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = run, read
}
criterion_main!(benches);
