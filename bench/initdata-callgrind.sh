#!/usr/bin/env bash
# Instructions per request (callgrind, marginal) of `coco-webhook serve` answering the
# fraud-detection Pod review with and without an initdata document of about 4 KB (a rendered
# document with a Trustee certificate and the default policy): the cost of the initdata
# mutation on the request path (see README.md in this directory).
#   bench/initdata-callgrind.sh [BUILD_DIR]      default BUILD_DIR: build
# Needs: valgrind, openssl, /usr/bin/python3 (python3-yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
bin=$top/${1:-build}/coco-webhook
[ -x "$bin" ] || { echo "no $bin: build first" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "needs valgrind" >&2; exit 2; }

. bench/lib.sh
bench_work coco-initdata-bench

COCO_SHARED=${COCO_SHARED:-$top/../shared} /usr/bin/python3 bench/make-reviews.py "$work" >&2
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/tls.key" \
    -out "$work/tls.crt" -days 2 -subj /CN=localhost 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/trustee.key" -out "$work/trustee.crt" \
    -days 2 -subj /CN=trustee.fraud.example 2>/dev/null
"$bin" initdata render --trustee-url https://trustee.fraud.example:8080 \
    --trustee-cert "$work/trustee.crt" -o "$work/doc.toml"
printf 'initdata:\n  documents: {fraud: doc.toml}\n  default: fraud\n' >"$work/with.yaml"
printf 'logLevel: info\n' >"$work/without.yaml"

n=200
m=1200
printf "document: %d bytes, annotation value %d bytes\n" "$(stat -c %s "$work/doc.toml")" \
    "$("$bin" initdata encode "$work/doc.toml" | tr -d '\n' | wc -c)"
for cfg in without with; do
    want=0
    [ $cfg = with ] && want=1
    irn=$(callgrind_ir $n "$work/pod-review.json" $want --config "$work/$cfg.yaml")
    irm=$(callgrind_ir $m "$work/pod-review.json" $want --config "$work/$cfg.yaml")
    echo "$cfg initdata: $(( (irm - irn) / (m - n) )) instructions/request (marginal over $n..$m)"
done
