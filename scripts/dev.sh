#!/usr/bin/env bash
# Developer entry point (the README's quick start).
#   scripts/dev.sh run    install what is missing, build, serve on https://127.0.0.1:8443
#                         with a self-signed development certificate and the default config
#   scripts/dev.sh test   install what is missing, build, run every test in a normal build,
#                         again under AddressSanitizer + UndefinedBehaviorSanitizer, and
#                         again built by clang with the libFuzzer targets fuzzed briefly
#   scripts/dev.sh deps   only install the Debian packages (the guard test's npm packages
#                         are installed into each build tree by its first test run)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

# Debian 12 packages: build, test oracles, benchmarks, and the image test (podman).
packages=(
    build-essential cmake pkg-config git ca-certificates
    libcjson-dev libyaml-dev libmicrohttpd-dev libgnutls28-dev libssl-dev zlib1g-dev openssl
    libcmocka-dev clang libclang-rt-14-dev
    golang-go golang-github-evanphx-json-patch-dev golang-k8s-sigs-yaml-dev
    python3 python3-jsonpatch python3-jsonschema python3-yaml python3-jwcrypto python3-tomli
    xxd
    curl libcurl4-openssl-dev gnutls-bin testssl.sh
    podman runc debootstrap
)

deps() {
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    # kubectl renders the manifests in the tests; Debian ships it as kubernetes-client.
    command -v kubectl >/dev/null || missing+=(kubernetes-client)
    # Node.js and npm run the guard's CEL test (tests/guard); its npm packages are installed
    # into the build tree by the test run itself (tests/guard/npm-install.sh). A Node.js of
    # another origin that brings its own npm is used as it is.
    command -v node >/dev/null || missing+=(nodejs)
    command -v npm >/dev/null || missing+=(npm)
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}" >&2
    local sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
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
    sed -n '2,10p' "$0" >&2
    exit 2
    ;;
esac
