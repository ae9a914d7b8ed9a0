#!/usr/bin/env bash
# Instructions per request (callgrind, marginal) of `coco-webhook serve` answering the
# fraud-detection Pod review with no pod-VM profile configured, for two builds in the same
# run, alternating: what the pod-VM profile step (SPEC §2.7) costs a cluster that does not use
# it. A third figure, with a profile for the Pod's namespace, shows its cost where it is used.
#   bench/podvm-callgrind.sh BEFORE_BUILD_DIR [AFTER_BUILD_DIR] [ROUNDS]
# AFTER_BUILD_DIR defaults to build, ROUNDS to 1. Needs: valgrind, openssl,
# /usr/bin/python3 (python3-yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
before=$(cd "$1" && pwd)/coco-webhook
after=$(cd "${2:-build}" && pwd)/coco-webhook
rounds=${3:-1}
for b in "$before" "$after"; do
    [ -x "$b" ] || { echo "no $b: build first" >&2; exit 2; }
done
command -v valgrind >/dev/null || { echo "needs valgrind" >&2; exit 2; }

. bench/lib.sh
bench_work coco-podvm-bench

COCO_SHARED=${COCO_SHARED:-$top/../shared} /usr/bin/python3 bench/make-reviews.py "$work" >&2
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/tls.key" \
    -out "$work/tls.crt" -days 2 -subj /CN=localhost 2>/dev/null
printf 'logLevel: info\n' >"$work/none.yaml"
ns=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["request"]["namespace"])' \
    "$work/pod-review.json")
printf 'podVM:\n  namespaces:\n    %s: {machineType: Standard_DC8as_v5, gpus: 1,\n      allowedMachineTypes: [Standard_DC4as_v5, Standard_DC8as_v5]}\n' \
    "$ns" >"$work/profile.yaml"

n=200
m=1200
measure() { # BINARY CONFIG
    bin=$1
    local irn irm
    irn=$(callgrind_ir $n "$work/pod-review.json" "" --config "$2")
    irm=$(callgrind_ir $m "$work/pod-review.json" "" --config "$2")
    echo $(((irm - irn) / (m - n)))
}
for r in $(seq "$rounds"); do
    b=$(measure "$before" "$work/none.yaml")
    a=$(measure "$after" "$work/none.yaml")
    p=$(measure "$after" "$work/profile.yaml")
    awk -v r="$r" -v b="$b" -v a="$a" -v p="$p" 'BEGIN {
        printf "round %d: no profile: before %d, after %d instructions/request (%+.2f%%); " \
               "with a profile for the namespace: %d (%+.2f%%)\n", r, b, a, 100 * (a - b) / b,
               p, 100 * (p - b) / b }'
done
