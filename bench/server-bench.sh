#!/usr/bin/env bash
# Benchmark of `coco-webhook serve` against nginx answering a fixed response of the same size
# over the same TLS, on loopback (see README.md in this directory).
#   bench/server-bench.sh [BUILD_DIR]      default BUILD_DIR: build
# Environment: BENCH_SECONDS (per run, default 5), BENCH_ROUNDS (default 3),
# BENCH_CALLGRIND=0 to skip the instruction count.
# Needs: wrk, nginx (nginx-light), valgrind, openssl, /usr/bin/python3 (python3-yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=${1:-build}
bin=$top/$build/coco-webhook
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}
[ -x "$bin" ] || { echo "no $bin: build first" >&2; exit 2; }
for t in wrk nginx valgrind openssl; do
    command -v $t >/dev/null || { echo "needs $t" >&2; exit 2; }
done

. bench/lib.sh
bench_work coco-bench

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$work/tls.key" -out "$work/tls.crt" -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 2>/dev/null
COCO_SHARED=${COCO_SHARED:-$top/../shared} /usr/bin/python3 bench/make-reviews.py "$work" >&2

# ---- servers ----
coco_port=$(free_port)
"$bin" serve --listen 127.0.0.1:"$coco_port" --tls-cert "$work/tls.crt" \
    --tls-key "$work/tls.key" 2>/dev/null &
coco_pid=$!
pids+=("$coco_pid")
wait_port "$coco_port"

# nginx answers with the bytes coco-webhook answers the Pod review with.
curl -sk -H 'Content-Type: application/json' --data-binary @"$work/pod-review.json" \
    "https://127.0.0.1:$coco_port/mutate" >"$work/response.json"
grep -q "'" "$work/response.json" && { echo "response has a quote nginx cannot hold" >&2; exit 1; }
nginx_port=$(free_port)
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    server {
        listen 127.0.0.1:$nginx_port ssl;
        ssl_certificate $work/tls.crt;
        ssl_certificate_key $work/tls.key;
        ssl_protocols TLSv1.3;
        client_max_body_size 8m;
        location / {
            default_type application/json;
            return 200 '$(cat "$work/response.json")';
        }
    }
}
NGINX
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>"$work/nginx/logs/stderr" &
nginx_pid=$!
pids+=("$nginx_pid")
wait_port "$nginx_port"
nginx_worker=$(pgrep -P "$nginx_pid" | head -1)

cat >"$work/post.lua" <<'LUA'
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local pace = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
if pace > 0 then
    function delay() return pace end
end
done = function(summary, latency, requests)
    io.write(string.format("RESULT %d %.3f %.1f %.1f %d\n", summary.requests,
        summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
        summary.errors.status + summary.errors.connect + summary.errors.read +
        summary.errors.write + summary.errors.timeout))
end
LUA

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run NAME PID URL BODY CONNECTIONS [DELAY_MS] -> "rps p50_us p99_us cpu_us_per_req errors"
run() {
    local pid=$2 url=$3 body=$4 conns=$5 delay=${6:-0}
    local t0 t1 line
    t0=$(cpu_ticks "$pid")
    line=$(BENCH_BODY=$body BENCH_DELAY_MS=$delay wrk -t1 -c"$conns" -d"${secs}s" \
        -s "$work/post.lua" "$url" | grep '^RESULT')
    t1=$(cpu_ticks "$pid")
    local hz
    hz=$(getconf CLK_TCK)
    echo "$line" | awk -v t="$((t1 - t0))" -v hz="$hz" \
        '{printf "%.0f %.0f %.0f %.1f %d\n", $2/$3, $4, $5, t*1e6/hz/$2, $6}'
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A res
echo "# ${rounds} rounds of ${secs}s, alternating coco-webhook and nginx; medians" >&2
for r in $(seq "$rounds"); do
    for c in 1 8 64; do
        res[coco,pod,$c,$r]=$(run coco "$coco_pid" "https://127.0.0.1:$coco_port/mutate" \
            "$work/pod-review.json" "$c")
        res[nginx,pod,$c,$r]=$(run nginx "$nginx_worker" "https://127.0.0.1:$nginx_port/mutate" \
            "$work/pod-review.json" "$c")
        res[coco,nb,$c,$r]=$(run coco "$coco_pid" "https://127.0.0.1:$coco_port/mutate" \
            "$work/notebook-review.json" "$c")
    done
    res[coco,paced,1,$r]=$(run coco "$coco_pid" "https://127.0.0.1:$coco_port/mutate" \
        "$work/pod-review.json" 1 4)
    echo "round $r done" >&2
done

col() { # KEY FIELD
    for r in $(seq "$rounds"); do echo "${res[$1,$r]}" | awk -v f="$2" '{print $f}'; done | median
}
printf "\n%-28s %10s %9s %9s %12s %7s\n" "run (TLS keep-alive)" "req/s" "p50 us" "p99 us" "CPU us/req" "errors"
for c in 1 8 64; do
    for who in "coco,pod" "nginx,pod" "coco,nb"; do
        k="$who,$c"
        printf "%-28s %10s %9s %9s %12s %7s\n" "${who/,/ } c=$c" "$(col "$k" 1)" "$(col "$k" 2)" \
            "$(col "$k" 3)" "$(col "$k" 4)" "$(col "$k" 5)"
    done
    printf "%-28s %10.3f\n" "  ratio coco/nginx c=$c" \
        "$(echo "$(col "coco,pod,$c" 1) $(col "nginx,pod,$c" 1)" | awk '{print $1/$2}')"
done
k="coco,paced,1"
printf "%-28s %10s %9s %9s %12s %7s\n" "coco pod paced ~200/s" "$(col "$k" 1)" "$(col "$k" 2)" \
    "$(col "$k" 3)" "$(col "$k" 4)" "$(col "$k" 5)"
printf "peak RSS (VmHWM): coco-webhook %s, nginx worker %s\n" \
    "$(awk '/VmHWM/ {print $2 " " $3}' /proc/"$coco_pid"/status)" \
    "$(awk '/VmHWM/ {print $2 " " $3}' /proc/"$nginx_worker"/status)"
printf "Pod review %d bytes, response %d bytes\n" "$(stat -c %s "$work/pod-review.json")" \
    "$(stat -c %s "$work/response.json")"

# ---- instructions per request: marginal count over N and M requests on one connection ----
if [ "${BENCH_CALLGRIND:-1}" != 0 ]; then
    n=200
    m=1200
    irn=$(callgrind_ir $n "$work/pod-review.json" "")
    irm=$(callgrind_ir $m "$work/pod-review.json" "")
    echo "instructions/request (callgrind, marginal over $n..$m requests on one connection):" \
        "$(( (irm - irn) / (m - n) ))"
fi
