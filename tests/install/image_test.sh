#!/usr/bin/env bash
# Builds the Containerfile with podman from a Debian 12 base made here (debootstrap from the
# machine's configured Debian mirror, imported as a local image: no registry is needed) and
# runs the image as Kubernetes runs the Deployment: read-only root, user 65532, no
# capabilities, the TLS Secret and the ConfigMap mounted in the kubelet's volume layout
# ("..data" symlinks to a timestamped directory, files mode 0444 as defaultMode sets them).
# Checks: the image's size (< 30 MiB), that it has no shell and no package manager, that it
# keeps the packages' dpkg status for scanners, its labels and user; /readyz and a real
# AdmissionReview over TLS verified with the CA; a certificate rotation inside the mount
# (the new certificate is served); SIGTERM (podman stop) and exit code 0.
#
# Everything podman keeps (storage, run state, containers.conf) lives under
# $COCO_BUILD/image-test; the base tarball and the image layers are cached there, so that a
# rerun takes seconds. The network is the host's loopback (--network host, 127.0.0.1 only).
# Needs root, podman, runc, debootstrap (scripts/dev.sh installs them). When podman cannot
# build or run here, the test fails with podman's own error: it never skips.
set -uo pipefail
: "${COCO_SRC:?}" "${COCO_BUILD:?}" "${COCO_BIN:?}"
work=$COCO_BUILD/image-test
base_tar=$work/debian-bookworm-minbase.tar
base_image=localhost/coco-webhook-test-base:bookworm
image=localhost/coco-webhook:test
name=coco-webhook-image-test-$$
max_size=$((30 * 1024 * 1024))
failures=0

die() {
    echo "FAIL: $*"
    exit 1
}
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

[ "$(id -u)" -eq 0 ] || die "needs root (podman with storage under the build directory)"
for tool in podman runc debootstrap curl openssl python3; do
    command -v "$tool" >/dev/null || die "$tool not found: run scripts/dev.sh deps"
done

mkdir -p "$work/tmp"
run_dir=$(mktemp -d "$work/tmp/run.XXXXXX")
cleanup() {
    "${P[@]}" rm -f -t 0 "$name" >/dev/null 2>&1
    rm -rf "$run_dir"
}
trap cleanup EXIT

# podman with its storage, run state and containers.conf under $work; the base from debootstrap.
# shellcheck source=scripts/podman-lib.sh
. "$COCO_SRC/scripts/podman-lib.sh"
podman_setup "$work" 2>"$run_dir/podman.err" || die "$(cat "$run_dir/podman.err")"
cat "$run_dir/podman.err"
driver=$PODMAN_DRIVER
debian_base "$work" "$base_tar" 2>"$run_dir/base.err" || die "$(cat "$run_dir/base.err")"
if ! "${P[@]}" image exists "$base_image"; then
    "${P[@]}" import "$base_tar" "$base_image" >"$run_dir/import.log" 2>&1 ||
        die "podman import failed: $(cat "$run_dir/import.log")"
fi

version=$(sed -n 's/^project(coco-webhook VERSION \([0-9.]*\).*/\1/p' "$COCO_SRC/CMakeLists.txt")
source_url=https://example.org/coco-webhook.git
echo "podman build ($driver storage)"
if ! "${P[@]}" build --isolation chroot --network host \
    --build-arg BUILD_IMAGE="$base_image" --build-arg RUNTIME_IMAGE="$base_image" \
    --build-arg VERSION="$version" --build-arg SOURCE="$source_url" \
    -t "$image" -f "$COCO_SRC/Containerfile" "$COCO_SRC" >"$run_dir/build.log" 2>&1; then
    tail -30 "$run_dir/build.log"
    die "podman build failed"
fi

# The image: size, contents, labels, user.
size=$("${P[@]}" image inspect --format '{{.Size}}' "$image")
echo "image size: $size bytes ($((size / 1024 / 1024)) MiB uncompressed)"
[ "$size" -lt "$max_size" ] || fail "image is $size bytes, want < $max_size"
user=$("${P[@]}" image inspect --format '{{.Config.User}}' "$image")
[ "$user" = 65532:65532 ] || fail "image user '$user', want 65532:65532"
label() { "${P[@]}" image inspect --format "{{index .Labels \"org.opencontainers.image.$1\"}}" "$image"; }
[ "$(label version)" = "$version" ] || fail "label version '$(label version)', want $version"
[ "$(label source)" = "$source_url" ] || fail "label source '$(label source)', want $source_url"
[ "$(label licenses)" = Apache-2.0 ] || fail "label licenses '$(label licenses)', want Apache-2.0"
root=$("${P[@]}" image mount "$image") || die "podman image mount failed"
for f in bin/sh usr/bin/sh bin/bash bin/dash usr/bin/dpkg usr/bin/apt usr/bin/apt-get \
    usr/bin/env bin/busybox usr/bin/perl; do
    [ -e "$root/$f" ] || [ -L "$root/$f" ] && fail "the image has /$f"
done
[ -x "$root/usr/local/bin/coco-webhook" ] || fail "the image has no /usr/local/bin/coco-webhook"
grep -q '^ID=debian' "$root/etc/os-release" 2>/dev/null || fail "no Debian /etc/os-release"
grep -q '^nonroot:x:65532:65532:' "$root/etc/passwd" || fail "no nonroot (65532) in /etc/passwd"
# Every shared library the binary loads belongs to a package with a dpkg status entry.
for pkg in libc6 libssl3 libgnutls30 libmicrohttpd12 libcjson1 libyaml-0-2 base-files; do
    st=$root/var/lib/dpkg/status.d/$pkg
    if [ -f "$st" ]; then
        grep -q "^Package: $pkg\$" "$st" && grep -q '^Version: ' "$st" &&
            grep -q '^Status: install ok installed$' "$st" || fail "status.d/$pkg: incomplete entry"
    else
        fail "no dpkg status entry for $pkg (status.d/$pkg)"
    fi
done
python3 - "$root" <<'EOF' || fail "the status entries do not cover the image's libraries"
import glob, os, sys
root = sys.argv[1]
owned = set()
for md5 in glob.glob(os.path.join(root, "var/lib/dpkg/status.d/*.md5sums")):
    for line in open(md5):
        owned.add("/" + line.split(None, 1)[1].strip())
missing = []
for lib in glob.glob(os.path.join(root, "usr/lib/*-linux-gnu/*.so*")) + \
           glob.glob(os.path.join(root, "usr/lib/*-linux-gnu/*/*.so*")):
    rel = "/" + os.path.relpath(lib, root)
    if not os.path.islink(lib) and rel not in owned:
        missing.append(rel)
if missing:
    print("no package lists: " + " ".join(sorted(missing)))
    sys.exit(1)
EOF
"${P[@]}" image unmount "$image" >/dev/null

# The Secret and ConfigMap volumes as the kubelet writes them.
# publish DIR STAMP FILE...: a new timestamped directory, "..data" swapped to it atomically,
# one symlink per file through "..data"; files 0444 (defaultMode), owned by root.
publish() {
    local dir=$1 stamp=$2 f old
    shift 2
    mkdir -p "$dir/$stamp"
    for f in "$@"; do
        cp "$f" "$dir/$stamp/" && chmod 0444 "$dir/$stamp/$(basename "$f")"
    done
    chmod 0755 "$dir/$stamp"
    old=$(readlink "$dir/..data" 2>/dev/null)
    ln -sfn "$stamp" "$dir/..data_tmp" && mv -T "$dir/..data_tmp" "$dir/..data"
    for f in "$@"; do
        [ -L "$dir/$(basename "$f")" ] || ln -s "..data/$(basename "$f")" "$dir/$(basename "$f")"
    done
    [ -n "$old" ] && rm -rf "${dir:?}/$old"
    return 0
}
"$COCO_BIN" certs --out "$run_dir/certs1" >/dev/null || die "coco-webhook certs failed"
"$COCO_BIN" certs --out "$run_dir/certs2" >/dev/null || die "coco-webhook certs failed"
[ "$(stat -c %a "$run_dir/certs1/tls.key")" = 600 ] || fail "certs: tls.key not 0600"
mkdir -p "$run_dir/tls" "$run_dir/config"
publish "$run_dir/tls" ..2026_01_01_00_00_00.000000001 "$run_dir/certs1/tls.crt" "$run_dir/certs1/tls.key"
publish "$run_dir/config" ..2026_01_01_00_00_00.000000002 "$COCO_SRC/manifests/base/config.yaml"
chmod 0755 "$run_dir" "$run_dir/tls" "$run_dir/config"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
host=coco-webhook.coco-webhook.svc
if ! "${P[@]}" run -d --name "$name" --network host --read-only --read-only-tmpfs=false \
    --user 65532:65532 --cap-drop ALL --security-opt no-new-privileges \
    -e POD_NAMESPACE=coco-webhook \
    -v "$run_dir/tls:/etc/coco-webhook/tls:ro" -v "$run_dir/config:/etc/coco-webhook/config:ro" \
    "$image" serve --config /etc/coco-webhook/config/config.yaml \
    --tls-cert /etc/coco-webhook/tls/tls.crt --tls-key /etc/coco-webhook/tls/tls.key \
    --listen "127.0.0.1:$port" >"$run_dir/run.log" 2>&1; then
    die "podman run failed: $(cat "$run_dir/run.log")"
fi

https() { # https PATH [curl args...]: prints the body, verifying the server with the CA only
    local path=$1
    shift
    curl -sS --max-time 10 --cacert "$run_dir/certs1/ca.crt" --resolve "$host:$port:127.0.0.1" \
        "$@" "https://$host:$port$path"
}
ready=
for _ in $(seq 1 600); do
    if [ "$(https /readyz -o /dev/null -w '%{http_code}' 2>/dev/null)" = 200 ]; then
        ready=1
        break
    fi
    [ "$("${P[@]}" inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" = true ] || break
    sleep 0.1
done
if [ -z "$ready" ]; then
    "${P[@]}" logs "$name" 2>&1 | tail -20
    die "the container did not become ready on 127.0.0.1:$port"
fi

# A real AdmissionReview: a labelled Pod gets the runtime class.
cat >"$run_dir/review.json" <<'EOF'
{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
 "request": {"uid": "0b8f3c1e-5d7a-4c2e-9f00-image-test", "operation": "CREATE",
  "kind": {"group": "", "version": "v1", "kind": "Pod"},
  "resource": {"group": "", "version": "v1", "resource": "pods"},
  "namespace": "team-a", "name": "app",
  "object": {"apiVersion": "v1", "kind": "Pod",
   "metadata": {"name": "app", "namespace": "team-a",
                "labels": {"coco.confidentialcontainers.org/enabled": "true"}},
   "spec": {"containers": [{"name": "app", "image": "registry.example/app:1"}]}}}}
EOF
https "/mutate?timeout=10s" -H 'Content-Type: application/json' --data-binary @"$run_dir/review.json" \
    >"$run_dir/response.json" 2>"$run_dir/curl.err" || fail "POST /mutate: $(cat "$run_dir/curl.err")"
python3 - "$run_dir/response.json" <<'EOF' || fail "AdmissionReview response: $(head -c 600 "$run_dir/response.json")"
import base64, json, sys
r = json.load(open(sys.argv[1]))["response"]
assert r["uid"] == "0b8f3c1e-5d7a-4c2e-9f00-image-test", r
assert r["allowed"] is True, r
assert r["patchType"] == "JSONPatch", r
patch = json.loads(base64.b64decode(r["patch"]))
assert {"op": "add", "path": "/spec/runtimeClassName", "value": "kata-remote"} in patch, patch
EOF

# Rotation inside the mount: the kubelet swaps ..data to a new timestamped directory.
served() {
    openssl s_client -connect "127.0.0.1:$port" -servername "$host" </dev/null 2>/dev/null |
        openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
want=$(openssl x509 -in "$run_dir/certs2/tls.crt" -noout -fingerprint -sha256)
[ "$(served)" = "$(openssl x509 -in "$run_dir/certs1/tls.crt" -noout -fingerprint -sha256)" ] ||
    fail "the first certificate is not the one served"
publish "$run_dir/tls" ..2026_01_01_01_00_00.000000003 "$run_dir/certs2/tls.crt" "$run_dir/certs2/tls.key"
rotated=
for _ in $(seq 1 300); do # the server polls the files every second; 30 s is generous
    if [ "$(served)" = "$want" ]; then
        rotated=1
        break
    fi
    sleep 0.1
done
[ -n "$rotated" ] || fail "after the rotation the new certificate is not served (got: $(served))"
code=$(curl -sS --max-time 10 --cacert "$run_dir/certs2/ca.crt" --resolve "$host:$port:127.0.0.1" \
    -o /dev/null -w '%{http_code}' "https://$host:$port/readyz" 2>&1)
[ "$code" = 200 ] || fail "after the rotation /readyz with the new CA: $code"

# SIGTERM (podman stop sends the image's stop signal, SIGTERM) and a clean exit.
"${P[@]}" stop -t 30 "$name" >/dev/null 2>&1 || fail "podman stop failed"
status=$("${P[@]}" inspect --format '{{.State.ExitCode}}' "$name")
[ "$status" = 0 ] || fail "exit code $status after SIGTERM, want 0"
"${P[@]}" logs "$name" >"$run_dir/container.log" 2>&1
grep -q '"level":"error"' "$run_dir/container.log" && fail "errors in the log: $(grep '"level":"error"' "$run_dir/container.log" | head -3)"

if [ "$failures" -gt 0 ]; then
    echo "--- container log"
    tail -30 "$run_dir/container.log"
    echo "$failures failure(s)"
    exit 1
fi
echo "image: built, $((size / 1024)) KiB; ran read-only as 65532, served, rotated, stopped cleanly"
