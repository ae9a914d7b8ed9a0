#!/usr/bin/env bash
# The command line: help for every command, exit statuses, and input errors that name the
# file and line. Uses the real binary ($COCO_BIN).
set -u
bin=${COCO_BIN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

check() { # check NAME EXPECTED_STATUS PATTERN_IN_OUTPUT -- COMMAND...
    local name=$1 want=$2 pattern=$3
    shift 4
    local out status
    out=$("$@" 2>&1)
    status=$?
    if [ "$status" -ne "$want" ]; then
        echo "FAIL $name: exit $status, wanted $want: $out"
        failed=$((failed + 1))
    elif ! grep -qE -- "$pattern" <<<"$out"; then
        echo "FAIL $name: output lacks /$pattern/: $out"
        failed=$((failed + 1))
    else
        echo "ok   $name"
        passed=$((passed + 1))
    fi
}

check no-args 2 'Usage: coco-webhook COMMAND' -- "$bin"
check help 0 'Commands:' -- "$bin" --help
check version 0 '^coco-webhook [0-9]+\.[0-9]+\.[0-9]+$' -- "$bin" version
check unknown-command 2 'unknown command "frobnicate"' -- "$bin" frobnicate
for cmd in serve mutate certs seal version; do
    check "help-$cmd" 0 'Usage: coco-webhook '"$cmd" -- "$bin" "$cmd" --help
done

check mutate-bad-output 2 'unknown output format "xml"' -- "$bin" mutate -o xml
check mutate-bad-option 2 'unknown option' -- "$bin" mutate --frobnicate
check mutate-missing-value 2 'needs a value' -- "$bin" mutate -f
check mutate-missing-file 1 'no-such\.yaml: No such file' -- "$bin" mutate -f "$tmp/no-such.yaml"

printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: indent\n' >"$tmp/bad.yaml"
check mutate-bad-yaml 1 'bad\.yaml:[0-9]+' -- "$bin" mutate -f "$tmp/bad.yaml"
printf 'a: 1\na: 2\n' >"$tmp/dup.yaml"
check mutate-duplicate-key 1 'dup\.yaml:2.*duplicate' -- "$bin" mutate -f "$tmp/dup.yaml"
printf 'listen: ":8443"\nfrobnicate: true\n' >"$tmp/config.yaml"
check mutate-bad-config 1 'config\.yaml:2.*frobnicate' -- "$bin" mutate --config "$tmp/config.yaml" -f /dev/null

pod='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"coco.confidentialcontainers.org/enabled":"true"}},"spec":{"containers":[{"name":"c","image":"i"}]}}'
check mutate-stdin 0 'runtimeClassName: kata-remote' -- bash -c "printf '%s' '$pod' | '$bin' mutate"
check mutate-stdin-dash 0 '"runtimeClassName": "kata-remote"' -- bash -c "printf '%s' '$pod' | '$bin' mutate -f - -o json"
check mutate-empty-input 0 '^$' -- "$bin" mutate -f /dev/null
# A denial prints nothing on stdout even when other objects were fine.
printf '%s\n---\n%s\n' "$pod" "${pod/\"spec\":\{/\"spec\":\{\"runtimeClassName\":\"runc\",}" >"$tmp/mixed.yaml"
out=$("$bin" mutate -f "$tmp/mixed.yaml" 2>/dev/null)
status=$?
if [ "$status" -eq 1 ] && [ -z "$out" ]; then
    echo "ok   mutate-denial-prints-nothing"
    passed=$((passed + 1))
else
    echo "FAIL mutate-denial-prints-nothing: exit $status, stdout: $out"
    failed=$((failed + 1))
fi

# Small frictions: kubectl's "-o=json", a file named without -f, YAML's own error for a
# mis-indented config, the syntax of a sealed-secret entry.
check mutate-o-equals-json 0 '"runtimeClassName": "kata-remote"' -- bash -c "printf '%s' '$pod' | '$bin' mutate -o=json"
check mutate-o-equals-patch 0 '"op": "add"' -- bash -c "printf '%s' '$pod' | '$bin' mutate -o=patch"
printf '%s\n' "$pod" >"$tmp/pod.yaml"
check mutate-file-without-f 2 'unexpected argument ".*pod\.yaml" \(to read that file, use -f .*pod\.yaml\)' -- \
    "$bin" mutate "$tmp/pod.yaml"
check mutate-f-equals 0 'runtimeClassName: kata-remote' -- "$bin" mutate -f="$tmp/pod.yaml"
printf 'storage:\n  replacePersistentVolumes: true\n   emptyDir: {}\n' >"$tmp/indent.yaml"
check mutate-config-misindented 1 'indent\.yaml:3: invalid YAML: mapping values are not allowed' -- \
    "$bin" mutate --config "$tmp/indent.yaml" -f /dev/null
check serve-config-misindented 1 'indent\.yaml:3: invalid YAML' -- \
    "$bin" serve --config "$tmp/indent.yaml" --listen 127.0.0.1:0
printf 'sealedSecrets:\n  namespaces:\n    team-a: ["a:b:c"]\n' >"$tmp/sealed.yaml"
check config-sealed-entry-syntax 1 'more than one .:.; expected SECRET\[:MOUNTPATH\]' -- \
    "$bin" mutate --config "$tmp/sealed.yaml" -f /dev/null

# One integer grammar for every flag (intparse.h): digits only, no sign or space games, and
# nothing written when a value is refused.
for days in " +30" "+30" "30 " "-30" "0x1e" "" "36501"; do
    check "certs-days-refused-'$days'" 2 'days "'"${days//+/\\+}"'" must be a whole number from 1 to 36500' -- \
        "$bin" certs --out "$tmp/days" --days "$days"
done
check certs-ca-days-refused 2 'ca-days " 60" must be a whole number' -- \
    "$bin" certs --out "$tmp/days" --ca-days " 60"
if [ -e "$tmp/days" ]; then
    echo "FAIL certs-days-refused-writes-nothing"
    failed=$((failed + 1))
fi
check certs-days-equals 0 'valid 30 days' -- "$bin" certs --out "$tmp/days-ok" --days=30
# The one flag syntax: attached short values, --flag=VALUE, and -- ending the flags.
check mutate-o-attached 0 '"runtimeClassName": "kata-remote"' -- bash -c "printf '%s' '$pod' | '$bin' mutate -ojson"
check mutate-output-equals 0 '"runtimeClassName": "kata-remote"' -- bash -c "printf '%s' '$pod' | '$bin' mutate --output=json"
check certs-double-dash 2 'unexpected argument "--days"' -- "$bin" certs --out "$tmp/dd" -- --days 30
check certs-bool-with-value 2 'option --force takes no value' -- "$bin" certs --out "$tmp/dd" --force=yes
check serve-unknown-flag 2 'unknown option "--frobnicate"' -- "$bin" serve --frobnicate
check serve-missing-value 2 'option --listen needs a value' -- "$bin" serve --listen

# expect_quiet NAME CMD...: CMD succeeds and writes nothing on stderr.
expect_quiet() {
    local name=$1 out
    shift
    out=$("$@" 2>&1 >/dev/null)
    if [ -z "$out" ]; then
        echo "ok   $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name: $out"
        failed=$((failed + 1))
    fi
}

# SPEC §6: warnings where the offline result differs from the cluster's, and kubectl's error
# for a label value that is not a string.
printf 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n' >"$tmp/compose.yaml"
check mutate-compose-warns 0 'Warning: .*compose\.yaml: no Kubernetes object in the input' -- \
    "$bin" mutate -f "$tmp/compose.yaml"
printf '%s\n---\nservices: {}\n' "$pod" >"$tmp/half.yaml"
check mutate-non-object-document 0 'Warning: .*half\.yaml: document 2 is not a Kubernetes object' -- \
    "$bin" mutate -f "$tmp/half.yaml"
expect_quiet mutate-k8s-input-no-warning "$bin" mutate -f "$tmp/pod.yaml"
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    coco.confidentialcontainers.org/enabled: true\nspec:\n  containers: [{name: c, image: i}]\n' >"$tmp/bool.yaml"
check mutate-label-bool 1 'Error: Pod p: metadata\.labels\.coco\.confidentialcontainers\.org/enabled: true is not a string.*quote it: "true".*cannot unmarshal bool' -- \
    "$bin" mutate -f "$tmp/bool.yaml"
out=$("$bin" mutate -f "$tmp/bool.yaml" 2>/dev/null)
if [ -z "$out" ]; then
    echo "ok   mutate-label-bool-prints-nothing"
    passed=$((passed + 1))
else
    echo "FAIL mutate-label-bool-prints-nothing: $out"
    failed=$((failed + 1))
fi
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector: {matchLabels: {app: d}}\n  template:\n    metadata:\n      labels: {app: d}\n      annotations: {replicas: 2}\n    spec:\n      containers: [{name: c, image: i}]\n' >"$tmp/ann.yaml"
check mutate-template-annotation-number 1 'spec\.template\.metadata\.annotations\.replicas: 2 is not a string.*cannot unmarshal number' -- \
    "$bin" mutate -f "$tmp/ann.yaml"
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels: {coco.confidentialcontainers.org/enabled: "true"}\nspec:\n  selector: {matchLabels: {app: d}}\n  template:\n    metadata:\n      labels: {app: d}\n    spec:\n      containers: [{name: c, image: i}]\n' >"$tmp/own.yaml"
check mutate-own-label-warns 0 'Warning: Deployment d: selected by its own label only.*spec\.template\.metadata' -- \
    "$bin" mutate -f "$tmp/own.yaml"
sed 's/labels: {app: d}/labels: {app: d, coco.confidentialcontainers.org\/enabled: "true"}/' "$tmp/own.yaml" >"$tmp/both.yaml"
expect_quiet mutate-template-label-no-warning "$bin" mutate -f "$tmp/both.yaml"

# serve: a busy port gives the system's error; --log-level debug starts without a
# libmicrohttpd line.
"$bin" certs --out "$tmp/certs" --service localhost --ip 127.0.0.1 >/dev/null
out=$(/usr/bin/python3 - "$bin" "$tmp/certs" <<'EOF'
import socket, subprocess, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
port = s.getsockname()[1]
r = subprocess.run([sys.argv[1], "serve", "--listen", "127.0.0.1:%d" % port,
                    "--tls-cert", sys.argv[2] + "/tls.crt", "--tls-key", sys.argv[2] + "/tls.key"],
                   capture_output=True, text=True, timeout=30)
print(r.returncode, r.stderr)
EOF
)
if grep -q '^1 ' <<<"$out" && grep -q 'cannot listen on "127.0.0.1:[0-9]*": .*Address already in use' <<<"$out"; then
    echo "ok   serve-busy-port"
    passed=$((passed + 1))
else
    echo "FAIL serve-busy-port: $out"
    failed=$((failed + 1))
fi
"$bin" serve --listen 127.0.0.1:0 --tls-cert "$tmp/certs/tls.crt" --tls-key "$tmp/certs/tls.key" \
    --log-level debug 2>"$tmp/debug.log" &
serve_pid=$!
for _ in $(seq 1 100); do
    grep -q '"msg":"listening"' "$tmp/debug.log" && break
    sleep 0.1
done
kill -TERM "$serve_pid"
wait "$serve_pid"
serve_status=$?
if grep -q '"msg":"listening"' "$tmp/debug.log" && ! grep -q libmicrohttpd "$tmp/debug.log" &&
    [ "$serve_status" -eq 0 ]; then
    echo "ok   serve-debug-start-quiet"
    passed=$((passed + 1))
else
    echo "FAIL serve-debug-start-quiet: exit $serve_status: $(cat "$tmp/debug.log")"
    failed=$((failed + 1))
fi

# The README's examples run as written.
src=${COCO_SRC:?}
check readme-example-yaml 0 'runtimeClassName: kata-remote' -- \
    "$bin" mutate -f "$src/examples/fraud-detection-workbench.yaml"
check readme-example-patch 0 '"op": "remove"' -- \
    "$bin" mutate -f "$src/examples/fraud-detection-workbench.yaml" -o patch
check readme-example-config 0 '"sizeLimit": "20Gi"' -- \
    "$bin" mutate -f "$src/examples/fraud-detection-workbench.yaml" \
    --config "$src/examples/config.yaml" -o json

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
