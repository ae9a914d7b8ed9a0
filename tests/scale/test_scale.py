"""Cost regression: the largest objects the caps allow are mutated in time linear in their
size, offline (`mutate`) and through the real server over TLS (SPEC §3).

The shapes: the 0.1.0 worst case (50 containers x 64 sealed-secret entries: over a minute
then), a Pod at the 8 MiB body cap with thousands of containers and volumes of every kind
(bench/scale-objects.py), a Pod with 10,000 PVC volumes, and one whose mutation would need
more than the patch cap (denied with a clear message). Every patch is applied by the API
server's library (evanphx/json-patch) and python3-jsonpatch.

No timed assertion in the usual sense: each bound is about 100x the cost measured on the
2-core machine class (CPU seconds of the `mutate` process; wall seconds of one request to
the server), so that a machine under load never fails it while cost that grows with the
square of the input (minutes at these sizes) always does."""
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "server"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
sys.dont_write_bytecode = True
import serverlib  # noqa: E402

scale = __import__("scale-objects")

BIN = os.environ["COCO_BIN"]
# Sanitizer builds run the same code several times slower.
SLOW = 4.0 if os.environ.get("COCO_SANITIZE") == "ON" else 1.0
CAP = 8 * 1024 * 1024
SEALED = "coco.confidentialcontainers.org/sealed-secrets"

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL", msg)
    return cond


def cap_pod():
    """The largest scale-objects Pod whose review fits the body cap."""
    k, best = 1, None
    while True:
        rev = scale.review(scale.pod(k))
        if len(json.dumps(rev, separators=(",", ":"))) > CAP:
            return best
        best, k = scale.pod(k), k * 2


def many_volumes_pod(n=10000):
    p = scale.pod(1)
    p["metadata"]["name"] = "many-volumes"
    p["spec"]["initContainers"] = []
    p["spec"]["containers"] = [scale.container("app", 0, 1)]
    p["spec"]["containers"][0]["volumeMounts"] = []
    p["spec"]["volumes"] = [scale.volume("pvc" if i % 5 == 0 else "cm", i) for i in range(n)]
    return p


def mounts_added(before, after):
    n = 0
    for field in ("containers", "initContainers"):
        for b, a in zip(before["spec"].get(field, []), after["spec"].get(field, [])):
            n += len(a.get("volumeMounts", [])) - len(b.get("volumeMounts", []))
    return n


def expect_coco(name, before, after, mounts):
    check(after["spec"].get("runtimeClassName") == "kata-remote", f"{name}: runtime class")
    left = [v["name"] for v in after["spec"].get("volumes", [])
            if "persistentVolumeClaim" in v or "ephemeral" in v]
    check(not left, f"{name}: PVC or ephemeral volumes left: {left[:3]}")
    got = mounts_added(before, after)
    check(got == mounts, f"{name}: {got} sealed-secret mounts added, expected {mounts}")


def run_mutate(name, obj, bound):
    d = serverlib.tmpdir()
    path = os.path.join(d, name + ".json")
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run([BIN, "mutate", "-f", path, "-o", "patch"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=max(600, bound * 3))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"mutate {name}: {len(json.dumps(obj)) / 1e6:.2f} MB, {cpu:.3f} s CPU "
          f"(bound {bound:.0f} s)")
    check(cpu < bound, f"mutate {name}: {cpu:.2f} s CPU, bound {bound} s")
    return p


def run_server(srv, name, obj, bound):
    rev = serverlib.review(obj, namespace="scale")
    body = json.dumps(rev, separators=(",", ":")).encode()
    conn = srv.conn(timeout=max(600, bound * 3))
    t0 = time.monotonic()
    r, data = serverlib.post(conn, "/mutate", body)
    took = time.monotonic() - t0
    conn.close()
    print(f"server {name}: {len(body) / 1e6:.2f} MB review, {took:.3f} s (bound {bound:.0f} s)")
    check(took < bound, f"server {name}: {took:.2f} s, bound {bound} s")
    return rev, serverlib.check_response(rev, r.status, data[:2000] if r.status != 200 else data)


def allowed_case(srv, name, obj, mounts, bound_mutate, bound_server):
    p = run_mutate(name, obj, bound_mutate * SLOW)
    if check(p.returncode == 0, f"mutate {name}: exit {p.returncode}: {p.stderr[-300:]!r}"):
        ops = json.loads(p.stdout)
        result = serverlib.apply_patch(obj, {"patch": __import__("base64").b64encode(
            json.dumps(ops).encode()).decode()})
        expect_coco(f"mutate {name}", obj, result, mounts)
    rev, resp = run_server(srv, name, obj, bound_server * SLOW)
    if check(resp.get("allowed") is True, f"server {name}: not allowed: {resp.get('status')}"):
        expect_coco(f"server {name}", obj, serverlib.apply_patch(obj, resp), mounts)


def main():
    d = serverlib.tmpdir()
    crt, key = serverlib.make_cert(d)
    srv = serverlib.Server(crt, key)
    try:
        worst = scale.worst_case_pod()
        allowed_case(srv, "50 containers x 64 entries", worst, 50 * 64, 10, 10)

        big = cap_pod()
        n_cont = len(big["spec"]["containers"])
        n_init = len(big["spec"]["initContainers"])
        print(f"cap pod: {n_cont} containers, {n_init} init containers, "
              f"{len(big['spec']['volumes'])} volumes")
        check(n_cont >= 2000, "the cap pod has thousands of containers")
        allowed_case(srv, "pod at the body cap", big, 4 * n_cont, 300, 300)

        allowed_case(srv, "10,000 volumes, 2,000 of them PVCs", many_volumes_pod(), 4, 60, 60)

        # 8,000 replaced volumes: the record of them would push the annotations past what
        # the API server accepts; denied with that reason instead of refused after admission.
        many = many_volumes_pod()
        many["spec"]["volumes"] = [scale.volume("pvc", i) for i in range(8000)]
        p = run_mutate("8,000 PVC volumes", many, 60 * SLOW)
        check(p.returncode == 1 and b"would hold more than 262144 bytes" in p.stderr,
              f"mutate 8,000 PVCs: exit {p.returncode}, {p.stderr[-300:]!r}")
        rev, resp = run_server(srv, "8,000 PVC volumes", many, 60 * SLOW)
        check(resp.get("allowed") is False and resp["status"]["code"] == 400
              and "would hold more than 262144 bytes" in resp["status"]["message"],
              f"server 8,000 PVCs: {resp}")

        # 1,600 containers x 64 entries would need 102,400 mounts: past the patch cap, the
        # object is denied at once with what to do about it.
        over = scale.worst_case_pod(containers=1600)
        p = run_mutate("past the patch cap", over, 60 * SLOW)
        check(p.returncode == 1 and b"more than 100000 changes" in p.stderr
              and b"sealed-secrets-containers" in p.stderr,
              f"mutate past the patch cap: exit {p.returncode}, {p.stderr[-300:]!r}")
        rev, resp = run_server(srv, "past the patch cap", over, 60 * SLOW)
        check(resp.get("allowed") is False and resp["status"]["code"] == 400
              and "more than 100000 changes" in resp["status"]["message"],
              f"server past the patch cap: {resp}")

        # More annotation bytes than the API server accepts: no work is spent on it.
        fat = scale.pod(1)
        fat["metadata"]["annotations"].update(
            {f"example.com/blob-{i}": "x" * 1000 for i in range(300)})
        p = run_mutate("annotations past the API server's limit", fat, 10 * SLOW)
        check(p.returncode == 1 and b"more than 262144 bytes" in p.stderr,
              f"mutate fat annotations: exit {p.returncode}, {p.stderr[-300:]!r}")
        rev, resp = run_server(srv, "annotations past the API server's limit", fat, 10 * SLOW)
        check(resp.get("allowed") is False and resp["status"]["code"] == 400
              and "more than 262144 bytes" in resp["status"]["message"], f"server fat: {resp}")

        # Reinvocation with a long record (merged through a hash set past 16 entries): the
        # volumes replaced before stay listed once, also one replaced again; the new one is
        # added.
        many = many_volumes_pod(100)  # 20 PVCs
        d = serverlib.tmpdir()
        first = os.path.join(d, "first.json")
        with open(first, "w") as f:
            json.dump(many, f)
        p = subprocess.run([BIN, "mutate", "-f", first, "-o", "json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        check(p.returncode == 0, f"reinvocation first pass: {p.stderr[-300:]!r}")
        again = json.loads(p.stdout)
        again["spec"]["volumes"].append(scale.volume("pvc", 1000))
        # Another webhook put pvc-0's claim back: replaced again, listed once.
        again["spec"]["volumes"][0] = scale.volume("pvc", 0)
        second = os.path.join(d, "second.json")
        with open(second, "w") as f:
            json.dump(again, f)
        p = subprocess.run([BIN, "mutate", "-f", second, "-o", "json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        record = json.loads(json.loads(p.stdout)["metadata"]["annotations"][
            "coco.confidentialcontainers.org/mutated"])
        names = [v["volume"] for v in record.get("replacedVolumes", [])]
        check(p.returncode == 0 and len(names) == 21 and len(set(names)) == 21 and
              names[-1] == "pvc-1000", f"reinvocation record: {names}")

        # The server is still answering normal reviews.
        rev, resp = run_server(srv, "fraud-detection pod afterwards", serverlib.fraud_pod(), 10)
        check(resp.get("allowed") is True, "fraud-detection pod afterwards")
    finally:
        rc = srv.stop()
        check(rc == 0, f"server exit {rc}")
    print(f"{0 if failures else 8} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
