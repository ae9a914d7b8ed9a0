#!/usr/bin/python3
"""Scaling benchmark: how the cost of one object grows with its size, offline and through
the server (SPEC §3: linear).

Usage: bench/scaling-bench.py BUILD_DIR [--rounds N]

Grows Pods and Notebooks (bench/scale-objects.py: containers, init containers, volumes of
every kind, mounts, annotations, sealed-secret entries) 1x, 2x, 4x ... up to the 8 MiB body
cap and measures, per object, the median of N rounds of
  - `coco-webhook mutate -o patch`: CPU seconds of the process (user + system);
  - the server: wall seconds of one AdmissionReview over a TLS keep-alive connection.
It prints a table with the growth exponent between neighbouring sizes (1 = linear, 2 =
quadratic) and the ratio time(32x) / time(1x) (target: at most 40), and the largest time
at the cap (target: 200 ms). Run it on an idle machine: it is a benchmark, not a test."""
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "server"))
sys.dont_write_bytecode = True
os.environ.setdefault("COCO_SHARED", os.path.join(HERE, "..", "..", "shared"))
scale = __import__("scale-objects")


def cpu_of(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build = os.path.abspath(sys.argv[1])
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    binary = os.path.join(build, "coco-webhook")
    os.environ["COCO_BIN"] = binary
    os.environ.setdefault("COCO_BUILD", build)
    import serverlib

    work = tempfile.mkdtemp(prefix="coco-scaling-")
    crt, key = serverlib.make_cert(work)
    srv = serverlib.Server(crt, key)
    conn = srv.conn(timeout=600)
    rows = []
    k = 1
    while True:
        objs = {"Pod": scale.pod(k), "Notebook": scale.notebook(k)}
        bodies = {n: json.dumps(serverlib.review(o, namespace="scale"),
                                separators=(",", ":")).encode() for n, o in objs.items()}
        if max(len(b) for b in bodies.values()) > 8 * 1024 * 1024:
            break
        for name, obj in objs.items():
            path = os.path.join(work, f"{name}-{k}.json")
            with open(path, "w") as f:
                json.dump(obj, f, separators=(",", ":"))
            mut = statistics.median(cpu_of([binary, "mutate", "-f", path, "-o", "patch"])
                                    for _ in range(rounds))
            walls = []
            for _ in range(rounds):
                t0 = time.monotonic()
                r, data = serverlib.post(conn, "/mutate", bodies[name])
                walls.append(time.monotonic() - t0)
                assert r.status == 200 and b'"allowed":true' in data, data[:300]
            rows.append((name, k, len(bodies[name]), mut, statistics.median(walls)))
        k *= 2
    conn.close()
    srv.stop()

    print(f"{'kind':9} {'scale':>6} {'review bytes':>13} {'mutate CPU s':>13} {'exp':>5} "
          f"{'server s':>10} {'exp':>5}")
    for name in ("Pod", "Notebook"):
        prev = None
        for row in (r for r in rows if r[0] == name):
            e1 = e2 = ""
            if prev:
                e1 = f"{math.log(row[3] / prev[3], row[2] / prev[2]):.2f}"
                e2 = f"{math.log(row[4] / prev[4], row[2] / prev[2]):.2f}"
            print(f"{name:9} {row[1]:>5}x {row[2]:>13} {row[3]:>13.4f} {e1:>5} {row[4]:>10.4f} "
                  f"{e2:>5}")
            prev = row
        mine = {r[1]: r for r in rows if r[0] == name}
        if 32 in mine:
            print(f"{name}: time(32x)/time(1x): mutate {mine[32][3] / mine[1][3]:.1f}, "
                  f"server {mine[32][4] / mine[1][4]:.1f} (target <= 40)")
        top = max(mine)
        print(f"{name}: at the cap ({top}x, {mine[top][2]} bytes): server "
              f"{mine[top][4] * 1000:.0f} ms (target 200 ms)")


if __name__ == "__main__":
    main()
