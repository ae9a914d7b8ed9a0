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

work=$(mktemp -d /tmp/coco-initdata-bench.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

COCO_SHARED=${COCO_SHARED:-$top/../shared} /usr/bin/python3 bench/make-reviews.py "$work" >&2
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/tls.key" \
    -out "$work/tls.crt" -days 2 -subj /CN=localhost 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/trustee.key" -out "$work/trustee.crt" \
    -days 2 -subj /CN=trustee.fraud.example 2>/dev/null
"$bin" initdata render --trustee-url https://trustee.fraud.example:8080 \
    --trustee-cert "$work/trustee.crt" -o "$work/doc.toml"
printf 'initdata:\n  documents: {fraud: doc.toml}\n  default: fraud\n' >"$work/with.yaml"
printf 'logLevel: info\n' >"$work/without.yaml"

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
    for _ in $(seq 100); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "port $1 did not open" >&2
    return 1
}
ir_for() { # CONFIG REQUESTS EXPECTED-INITDATA-OPS
    local port out
    port=$(free_port)
    out=$work/callgrind.$(basename "$1").$2
    valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no \
        "$bin" serve --listen 127.0.0.1:"$port" --tls-cert "$work/tls.crt" \
        --tls-key "$work/tls.key" --config "$1" 2>/dev/null &
    local vpid=$!
    pids+=("$vpid")
    wait_port "$port"
    /usr/bin/python3 - "$port" "$2" "$work/pod-review.json" "$3" <<'PY'
import base64, http.client, json, ssl, sys
port, n, path, want = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
body = open(path, "rb").read()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
for _ in range(n):
    c.request("POST", "/mutate", body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    assert r.status == 200
patch = json.loads(base64.b64decode(json.loads(data)["response"]["patch"]))
assert sum(1 for op in patch if "cc_init_data" in json.dumps(op)) == want, patch
c.close()
PY
    kill -TERM "$vpid"
    wait "$vpid" || true
    cat "$out"* | awk '/^summary:/ {s += $2} END {print s}'
}
n=200
m=1200
printf "document: %d bytes, annotation value %d bytes\n" "$(stat -c %s "$work/doc.toml")" \
    "$("$bin" initdata encode "$work/doc.toml" | tr -d '\n' | wc -c)"
for cfg in without with; do
    want=0
    [ $cfg = with ] && want=1
    irn=$(ir_for "$work/$cfg.yaml" $n $want)
    irm=$(ir_for "$work/$cfg.yaml" $m $want)
    echo "$cfg initdata: $(( (irm - irn) / (m - n) )) instructions/request (marginal over $n..$m)"
done
