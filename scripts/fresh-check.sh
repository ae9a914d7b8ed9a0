#!/usr/bin/env bash
# Runs the README's two quick-start commands as a new user would, in a fresh Debian 12 container:
# a debootstrap minbase (from this machine's Debian mirror) with the committed HEAD of this
# checkout and the shared reference folder beside it, nothing else installed. First
# `scripts/dev.sh run`, with the README's example review sent to it once it serves; then
# `scripts/dev.sh test` (all three builds). Prints what each step printed last and the result;
# exits 0 only if both commands did what the README says.
#
# Root, podman, runc and debootstrap are needed (scripts/dev.sh deps installs them). The
# container is privileged (the image test inside it runs podman) and uses the host's network
# (Debian's packages and the npm registry; the quick start serves on 127.0.0.1:8443, which must
# be free). Everything is kept in build-fresh/ (the base tarball is reused); a run takes
# 30 minutes or more. Logs: build-fresh/run.log, build-fresh/test.log.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/build-fresh
shared=${COCO_SHARED_DIR:-$top/../shared}
image=localhost/coco-webhook-fresh:bookworm
name=coco-webhook-fresh-$$

die() {
    echo "fresh-check: $*" >&2
    exit 1
}
[ "$(id -u)" -eq 0 ] || die "needs root (podman with its storage under build-fresh/)"
for tool in podman runc debootstrap git python3; do
    command -v "$tool" >/dev/null || die "$tool not found: run scripts/dev.sh deps"
done
[ -f "$shared/SPEC.md" ] || die "no shared reference folder at $shared (COCO_SHARED_DIR)"
if (exec 3<>/dev/tcp/127.0.0.1/8443) 2>/dev/null; then
    die "127.0.0.1:8443 is in use here; the quick start serves there"
fi

# shellcheck source=scripts/podman-lib.sh
. "$top/scripts/podman-lib.sh"
mkdir -p "$work"
podman_setup "$work"
debian_base "$work" "$work/debian-bookworm-minbase.tar"
"${P[@]}" image exists "$image" || "${P[@]}" import "$work/debian-bookworm-minbase.tar" "$image" >/dev/null

# The committed tree, as a fresh clone has it, and the reference folder beside it.
rm -rf "$work/src"
mkdir -p "$work/src/coco-webhook"
git -C "$top" archive HEAD | tar -x -C "$work/src/coco-webhook"
cp -a "$shared" "$work/src/shared"
rev=$(git -C "$top" rev-parse --short HEAD)

# Inside: the quick start, word for word, and the README's example review.
cat >"$work/src/steps.sh" <<'STEPS'
set -u
cd /src/coco-webhook
export DEBIAN_FRONTEND=noninteractive
echo "== scripts/dev.sh run"
scripts/dev.sh run >/src/run.log 2>&1 &
run_pid=$!
ready=
for _ in $(seq 1 1200); do
    kill -0 "$run_pid" 2>/dev/null || break
    if [ -f certs/dev/ca.crt ] && command -v curl >/dev/null &&
        curl -sf --cacert certs/dev/ca.crt https://127.0.0.1:8443/readyz >/dev/null 2>&1; then
        ready=1
        break
    fi
    sleep 1
done
if [ -z "$ready" ]; then
    tail -20 /src/run.log
    echo "RESULT run: FAIL (not serving)"
    exit 1
fi
# The README's example: the curl command block of "Running the server".
python3 - <<'PY' >/src/review.sh
import re
text = open("README.md").read()
block = re.search(r"```sh\n(curl -sS --cacert certs/dev/ca\.crt.*?)```", text, re.S)
print(block.group(1))
PY
bash /src/review.sh >/src/review.out 2>&1
cat /src/review.out
kill "$run_pid"
wait "$run_pid" 2>/dev/null
if grep -q '"allowed": true' /src/review.out && grep -q kata-remote /src/review.out; then
    echo "RESULT run: ok (served, and the README's review was allowed with a patch)"
else
    echo "RESULT run: FAIL (the README's review was not answered as documented)"
    exit 1
fi
echo "== scripts/dev.sh test"
if scripts/dev.sh test >/src/test.log 2>&1; then
    grep -E "tests passed|tests failed" /src/test.log
    echo "RESULT test: ok"
else
    grep -E "tests passed|tests failed|\(Failed\)|\(Not Run\)|Timeout|dev.sh:" /src/test.log | tail -30
    tail -5 /src/test.log
    echo "RESULT test: FAIL"
    exit 1
fi
STEPS

# The machine's own trust anchors (a TLS-inspecting proxy's CA, say) go in as a machine on
# this network has them: Debian's ca-certificates adds them to the system store when it is
# installed, and Node.js reads that store through NODE_EXTRA_CA_CERTS.
trust=()
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    trust=(-v /usr/local/share/ca-certificates:/usr/local/share/ca-certificates:ro
        -e NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
fi

echo "fresh-check: Debian 12 minbase ($PODMAN_DRIVER storage), HEAD $rev"
start=$SECONDS
set +e
"${P[@]}" run --rm --name "$name" --privileged --network host \
    -v "$work/src:/src" "${trust[@]}" "$image" bash /src/steps.sh
rc=$?
set -e
cp -f "$work/src/run.log" "$work/run.log" 2>/dev/null || true
cp -f "$work/src/test.log" "$work/test.log" 2>/dev/null || true
echo "fresh-check: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(((SECONDS - start) / 60)) min (HEAD $rev)"
exit $rc
