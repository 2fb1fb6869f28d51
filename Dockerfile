# harbor-buildkit-fn as a container KRM function: one static binary on scratch.
#
#   docker build -t localhost/harbor-buildkit-fn:0.1.0 .
#
# builds it from source (the build stage pulls the Rust image). Offline, from a static
# binary built before (`cargo build --release --target x86_64-unknown-linux-musl`) and the
# machine's CA bundle copied to target/image/ca-certificates.crt, as .ci/container-image does:
#
#   docker build --build-arg BINARY_FROM=prebuilt -t localhost/harbor-buildkit-fn:0.1.0 .
#
# Only the stage BINARY_FROM names is built. Used as a kpt `image:` function or a
# kustomize `container:` function (README.md, functions/).

# Where the binary and the CA bundle come from: `build` (compiled below) or `prebuilt`
# (taken from the build context).
ARG BINARY_FROM=build

FROM docker.io/library/rust:1.95-bookworm AS build
WORKDIR /src
# The musl target links statically with its own C runtime; ring (the TLS of `doctor`)
# compiles C for it with musl-gcc.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add x86_64-unknown-linux-musl
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --target x86_64-unknown-linux-musl \
    && cp target/x86_64-unknown-linux-musl/release/harbor-buildkit-fn /harbor-buildkit-fn

# The same two files, from the build context (.dockerignore lets exactly these through).
FROM scratch AS prebuilt
COPY target/x86_64-unknown-linux-musl/release/harbor-buildkit-fn /harbor-buildkit-fn
COPY target/image/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt

FROM ${BINARY_FROM} AS binary

FROM scratch
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="harbor-buildkit-fn" \
      org.opencontainers.image.description="KRM function wiring BuildKit in Tekton to a Harbor registry: Harbor's CORE_URL patch, buildkitd.toml and a buildctl Task" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.documentation="README.md"
# kpt and kustomize run container functions with `--user nobody`, which the runtime
# looks up in the image's /etc/passwd: nobody (65534) and the image's own user nonroot
# (65532) are defined there, both without a shell or a home.
COPY image/passwd image/group /etc/
COPY --from=binary /harbor-buildkit-fn /usr/local/bin/harbor-buildkit-fn
# The system CA store, for `doctor` against https registries (as buildctl trusts it).
COPY --from=binary /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# Any non-root uid works: the function reads stdin and writes stdout, nothing else
# (`doctor` only makes outgoing requests).
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/harbor-buildkit-fn"]
