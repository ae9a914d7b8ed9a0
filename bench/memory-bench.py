#!/usr/bin/python3
"""Peak memory of `coco-webhook serve` for large reviews, and the latency of small reviews
while large ones are in flight.

Usage: memory-bench.py BIN [BIN...]   (each binary measured in turn, same inputs)

For each binary: (1) one 5.4 MB review (bench/scale-objects.py's pod-4096): the peak RSS
(VmHWM) above the RSS after a warm-up review, and that over the body size; the same for the
densest shapes a body can take, each on a fresh server: 3 MB of bare volumes, 3 MB of bare
containers, 2 MB of a container's command (dropped at the parse), 2 MB of zeros in a kept
list (no API server sends it: answered 413 once it has used its charge); (2) 8 concurrent
1 MiB reviews, several rounds: answers by status and the peak RSS; (3) small reviews (the
fraud-detection Pod) on one keep-alive connection while 8 clients post 1 MiB reviews: p50
and p99. The server runs with its defaults (budget: the cgroup's limit or 256 MiB)."""
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "server"))
import serverlib  # noqa: E402


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def padded_review(size):
    rev = serverlib.review(serverlib.fraud_pod())
    body = json.dumps(rev).encode()
    # Padding inside a string keeps it a valid object of the requested size.
    rev["request"]["object"]["metadata"].setdefault("annotations", {})["bench/pad"] = \
        "x" * (size - len(body) - 40)
    return json.dumps(rev).encode()


def dense_review(field, item, size):
    """A labelled Pod whose spec field (a list) holds copies of item (JSON text) up to about
    size bytes; field "command" puts them in the first container's command."""
    rev = serverlib.review(serverlib.fraud_pod())
    spec = rev["request"]["object"]["spec"]
    spec["volumes"] = []
    if field == "command":
        spec["containers"][0]["command"] = ["@@"]
    else:
        spec[field] = ["@@"]
    text = json.dumps(rev, separators=(",", ":"))
    n = max(1, (size - len(text)) // (len(item) + 1))
    return text.replace('"@@"', ",".join([item] * n)).encode()


SHAPES = {
    "bare_volumes": ("volumes", '{"name":""}', 3 << 20),
    "bare_containers": ("containers", '{"name":"c"}', 3 << 20),
    "dropped_command": ("command", '""', 2 << 20),
    "zeros_in_volumes": ("volumes", "0", 2 << 20),
}


def peak_of(binary, crt, key, small, body):
    srv = start(binary, crt, key)
    c = srv.conn(timeout=120)
    serverlib.post(c, "/mutate", small)
    base = status_kb(srv.proc.pid, "VmRSS")
    r, _ = serverlib.post(c, "/mutate?timeout=30s", body)
    peak = status_kb(srv.proc.pid, "VmHWM")
    c.close()
    srv.stop()
    return r.status, peak / 1024, (peak - base) * 1024 / len(body)


def start(binary, crt, key):
    serverlib.BIN = binary
    known = b"--shutdown-delay" in subprocess.run([binary, "serve", "--help"],
                                                   capture_output=True).stdout
    serverlib.SHUTDOWN_DELAY_ARGS = ["--shutdown-delay", "0s"] if known else []
    return serverlib.Server(crt, key)


def post_many(port, bodies, results):
    def one(b):
        c = serverlib.https_conn(port, timeout=120)
        t0 = time.monotonic()
        try:
            r, _ = serverlib.post(c, "/mutate?timeout=30s", b)
            results.append((r.status, time.monotonic() - t0))
        except Exception as e:  # noqa: BLE001
            results.append((repr(e), time.monotonic() - t0))
        c.close()
    ts = [threading.Thread(target=one, args=(b,)) for b in bodies]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def measure(binary, big):
    d = serverlib.tmpdir()
    crt, key = serverlib.make_cert(d)
    out = {}
    small = json.dumps(serverlib.review(serverlib.fraud_pod())).encode()
    # (1) one large review, then the densest shapes
    out["large_status"], out["large_peak_mib"], out["large_per_byte"] = peak_of(
        binary, crt, key, small, big)
    for name, (field, item, size) in SHAPES.items():
        status, peak_mib, per_byte = peak_of(binary, crt, key, small,
                                             dense_review(field, item, size))
        out[name] = "%d, %.1f MiB, %.1f times" % (status, peak_mib, per_byte)
    # (2) 8 concurrent 1 MiB reviews, 5 rounds
    srv = start(binary, crt, key)
    mib = padded_review(1 << 20)
    results = []
    for _ in range(5):
        post_many(srv.port, [mib] * 8, results)
    out["mib8_statuses"] = {str(k): sum(1 for s, _ in results if s == k)
                            for k in set(s for s, _ in results)}
    out["mib8_peak_mib"] = status_kb(srv.proc.pid, "VmHWM") / 1024
    # (3) small reviews while large ones are in flight
    lat = []
    stop = threading.Event()

    def large_load():
        while not stop.is_set():
            post_many(srv.port, [mib] * 8, [])
    lt = threading.Thread(target=large_load)
    lt.start()
    c = srv.conn(timeout=60)
    time.sleep(0.3)
    for _ in range(300):
        t0 = time.monotonic()
        r, _ = serverlib.post(c, "/mutate", small)
        lat.append(time.monotonic() - t0)
        assert r.status == 200, r.status
    stop.set()
    lt.join()
    lat.sort()
    out["small_p50_ms"] = lat[len(lat) // 2] * 1000
    out["small_p99_ms"] = lat[int(len(lat) * 0.99)] * 1000
    srv.stop()
    return out


def main():
    work = serverlib.tmpdir()
    subprocess.run([sys.executable, os.path.join(HERE, "scale-objects.py"), work, "--review"],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(work, "review-pod-4096.json"), "rb") as f:
        big = f.read()
    for binary in sys.argv[1:]:
        print(binary, json.dumps(measure(binary, big), indent=1), flush=True)


if __name__ == "__main__":
    main()
