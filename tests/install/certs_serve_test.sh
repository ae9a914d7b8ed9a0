#!/usr/bin/env bash
# The certificates of `coco-webhook certs` work with `coco-webhook serve`: a client that
# trusts only ca.crt reaches the server under the Service's DNS names (as the API server
# does) and, with the developer script's certificates, under localhost and 127.0.0.1.
# Loopback only.
set -uo pipefail
: "${COCO_BIN:?}"
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME CERTDIR: serves on a free loopback port; sets $port.
start() {
    local name=$1 dir=$2 i
    port=$(free_port)
    "$COCO_BIN" serve --listen "127.0.0.1:$port" --tls-cert "$dir/tls.crt" --tls-key "$dir/tls.key" \
        --shutdown-delay 0s 2>"$tmp/$name.log" &
    pids+=($!)
    for i in $(seq 1 100); do
        if curl -sk -o /dev/null "https://127.0.0.1:$port/healthz"; then
            return 0
        fi
        if ! kill -0 "${pids[-1]}" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    fail "$name: server did not come up on 127.0.0.1:$port"
    tail -20 "$tmp/$name.log" | sed 's/^/  /'
    return 1
}

# get CA HOST PORT PATH: prints the HTTP status, verifying the server with CA only.
get() {
    curl -sS --max-time 5 --cacert "$1" --resolve "$2:$3:127.0.0.1" -o /dev/null \
        -w '%{http_code}' "https://$2:$3$4" 2>"$tmp/curl.err"
}

"$COCO_BIN" certs --out "$tmp/svc" >/dev/null || { echo "FAIL: certs"; exit 1; }
"$COCO_BIN" certs --out "$tmp/other" >/dev/null || { echo "FAIL: certs"; exit 1; }
"$COCO_BIN" certs --out "$tmp/dev" --service localhost --ip 127.0.0.1 >/dev/null ||
    { echo "FAIL: certs (dev)"; exit 1; }

if start svc "$tmp/svc"; then
    for host in coco-webhook.coco-webhook.svc coco-webhook.coco-webhook.svc.cluster.local; do
        for path in /healthz /readyz; do
            code=$(get "$tmp/svc/ca.crt" "$host" "$port" "$path")
            [ "$code" = 200 ] || fail "https://$host$path: status $code $(cat "$tmp/curl.err")"
        done
    done
    # Trusting another CA, or asking for a name not in the certificate, must fail.
    get "$tmp/other/ca.crt" coco-webhook.coco-webhook.svc "$port" /healthz >/dev/null &&
        fail "a client trusting another CA was accepted"
    get "$tmp/svc/ca.crt" coco-webhook.elsewhere.svc "$port" /healthz >/dev/null &&
        fail "a name outside the certificate was accepted"
fi

if start dev "$tmp/dev"; then
    code=$(curl -sS --max-time 5 --cacert "$tmp/dev/ca.crt" -o /dev/null -w '%{http_code}' \
        "https://127.0.0.1:$port/healthz" 2>"$tmp/curl.err")
    [ "$code" = 200 ] || fail "dev: https://127.0.0.1/healthz: status $code $(cat "$tmp/curl.err")"
    code=$(get "$tmp/dev/ca.crt" localhost "$port" /healthz)
    [ "$code" = 200 ] || fail "dev: https://localhost/healthz: status $code $(cat "$tmp/curl.err")"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "certs with serve: TLS verifies under the Service names, localhost and 127.0.0.1"
