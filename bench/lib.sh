# Shared by the bench scripts (sourced): a work folder removed on exit with the processes
# started in it, loopback ports, and the callgrind instruction count of `serve`.
# The caller sets bin (the coco-webhook binary) before calling callgrind_ir.

bench_work() { # PREFIX: sets work, pids and the cleanup trap
    work=$(mktemp -d "/tmp/$1.XXXXXX")
    pids=()
    trap bench_cleanup EXIT INT TERM
}
bench_cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() { # PORT
    for _ in $(seq 100); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "port $1 did not open" >&2
    return 1
}

# Instructions of `serve` (every thread) answering REQUESTS reviews from REVIEW on one
# keep-alive connection, from start to SIGTERM. CHECK: bench/post-reviews.py's --initdata-ops
# value, or "" for none; SERVE_ARGS: more `serve` flags (--config FILE).
callgrind_ir() { # REQUESTS REVIEW CHECK [SERVE_ARGS...]
    local n=$1 review=$2 check=$3 port out vpid
    shift 3
    port=$(free_port)
    out=$work/callgrind.$port.$n
    valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no \
        "$bin" serve --listen 127.0.0.1:"$port" --tls-cert "$work/tls.crt" \
        --tls-key "$work/tls.key" "$@" 2>/dev/null &
    vpid=$!
    pids+=("$vpid")
    wait_port "$port"
    /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/post-reviews.py" "$port" "$n" "$review" \
        ${check:+--initdata-ops "$check"}
    kill -TERM "$vpid"
    wait "$vpid" || true
    cat "$out"* | awk '/^summary:/ {s += $2} END {print s}'
}
