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
