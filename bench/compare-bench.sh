#!/usr/bin/env bash
# The same measurements of two builds in one run (say, main and a branch), alternating:
#   bench/compare-bench.sh BEFORE_BIN AFTER_BIN
# - instructions per request of the fraud-detection Pod review (callgrind, marginal count over
#   200..1200 requests on one keep-alive connection, as server-bench.sh);
# - memory-bench.py: peak RSS of one 5.4 MB review and of 8 concurrent 1 MiB reviews, and the
#   p50/p99 of small reviews while 1 MiB ones are in flight.
# A binary that knows --shutdown-delay is run with 0s, so that its SIGTERM exits at once.
# Needs: valgrind, openssl, /usr/bin/python3 (python3-yaml), the shared samples (COCO_SHARED).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
[ $# -eq 2 ] || { echo "usage: $0 BEFORE_BIN AFTER_BIN" >&2; exit 2; }
before=$(realpath "$1")
after=$(realpath "$2")
export COCO_SHARED=${COCO_SHARED:-$top/../shared}

. bench/lib.sh
bench_work coco-compare
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$work/tls.key" -out "$work/tls.crt" -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 2>/dev/null
/usr/bin/python3 bench/make-reviews.py "$work" >&2

delay_args() { # BIN
    if "$1" serve --help | grep -q -- --shutdown-delay; then echo --shutdown-delay 0s; fi
}
n=200
m=1200
for bin in "$before" "$after"; do
    # shellcheck disable=SC2046
    irn=$(callgrind_ir $n "$work/pod-review.json" "" $(delay_args "$bin"))
    # shellcheck disable=SC2046
    irm=$(callgrind_ir $m "$work/pod-review.json" "" $(delay_args "$bin"))
    echo "$bin: instructions/request $(( (irm - irn) / (m - n) ))"
done
/usr/bin/python3 bench/memory-bench.py "$before" "$after"
