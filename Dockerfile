# harbor-buildkit-fn as a container KRM function: one static binary on scratch.
#
#   docker build -t harbor-buildkit-fn:0.1.0 .
#
# Used as a kustomize `container:` function or a kpt `image:` function (README.md).

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

FROM scratch
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="harbor-buildkit-fn" \
      org.opencontainers.image.description="KRM function wiring BuildKit in Tekton to a Harbor registry: Harbor's CORE_URL patch, buildkitd.toml and a buildctl Task" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.documentation="README.md"
COPY --from=build /harbor-buildkit-fn /usr/local/bin/harbor-buildkit-fn
# The system CA store, for `doctor` against https registries (as buildctl trusts it).
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# Any non-root uid works: the function reads stdin and writes stdout, nothing else
# (`doctor` only makes outgoing requests).
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/harbor-buildkit-fn"]
