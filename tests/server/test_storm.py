"""Storm: hostile and valid AdmissionReviews from several client processes over keep-alive TLS.

Usage: test_storm.py

The cases are made once (seeded, so every run sends the same bytes): byte flips and
truncations of valid reviews, type confusion at every node the engine reads, hostile
annotation values (1 MiB, 10,000 entries, NUL, lone surrogates), 10,000 volumes, 5,000
containers, deep nesting, duplicate keys, some bodies sent chunked. Each client process walks
all cases in its own order on one keep-alive connection (reconnecting only when the server
closes it) and checks every answer: a 4xx with a JSON body, or a 200 AdmissionReview with the
request's uid; never a 5xx, a reset or an answer later than the bound (2 s; COCO_STORM_BOUND_S
for sanitizer builds). The one 5xx allowed is the server's 503 for a large body (over 256 KiB)
while another is being worked on: it takes large bodies one at a time. Every patch answered is then applied to its object with the API
server's library (the evanphx/json-patch oracle) and python3-jsonpatch. Afterwards the server
must still answer and stop cleanly."""
import copy
import http.client
import json
import multiprocessing
import os
import random
import sys
import time

from serverlib import (BIN, LABEL, Server, apply_patch, client_context, fraud_notebook,
                       fraud_pod, make_cert, review, tmpdir)

CLIENTS = 4
BOUND_S = float(os.environ.get("COCO_STORM_BOUND_S", "2"))
STORM_DEADLINE_S = 600  # the whole storm; clients stop there and the test fails
BODY_MAX = 8 * 1024 * 1024
SEED = 8
LARGE_BODY = 256 * 1024  # webhook/server/server.h SERVER_LARGE_BODY

ANN_SEALED = "coco.confidentialcontainers.org/sealed-secrets"
ANN_SEALED_CONTAINERS = "coco.confidentialcontainers.org/sealed-secrets-containers"
ANN_RUNTIME_CLASS = "coco.confidentialcontainers.org/runtime-class"
ANN_KEEP_VOLUMES = "coco.confidentialcontainers.org/keep-volumes"
ANN_RECORD = "coco.confidentialcontainers.org/mutated"


class Case:
    def __init__(self, name, body, chunked=False):
        self.name = name
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.chunked = chunked
        assert len(self.body) <= BODY_MAX, (name, len(self.body))
        try:
            self.body.decode("utf-8")
            self.utf8 = True
        except UnicodeDecodeError:
            self.utf8 = False

    def parsed(self):
        """The body as Python reads it, leniently: a flipped byte may leave a raw control
        character or invalid UTF-8 inside a string, which cJSON takes as it is (the API
        server never sends either)."""
        return json.loads(self.body.decode("utf-8", "surrogateescape"), strict=False)


def pod(containers=1, volumes=0, annotations=None, labelled=True):
    p = {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "storm", "namespace": "storm",
                      "labels": {LABEL: "true"} if labelled else {},
                      "annotations": annotations or {}},
         "spec": {"containers": [], "volumes": []}}
    for i in range(containers):
        c = {"name": "c%d" % i, "image": "busybox"}
        if volumes:
            c["volumeMounts"] = [{"name": "v%d" % (i % volumes), "mountPath": "/m%d" % i}]
        p["spec"]["containers"].append(c)
    for i in range(volumes):
        p["spec"]["volumes"].append({"name": "v%d" % i,
                                     "persistentVolumeClaim": {"claimName": "pvc%d" % i}})
    return p


def paths(node, prefix=()):
    """Every path in a JSON tree, parents first."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


def replaced(doc, path, value):
    out = copy.deepcopy(doc)
    if not path:
        return value
    node = out
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return out


def make_cases():
    rng = random.Random(SEED)
    cases = []
    valid = [("fraud-pod", review(fraud_pod())), ("fraud-notebook", review(fraud_notebook())),
             ("simple-pod", review(pod(containers=2, volumes=1))),
             ("update", review(pod(), operation="UPDATE", old=pod()))]
    for name, rev in valid:
        cases.append(Case("valid " + name, rev))
        cases.append(Case("valid chunked " + name, rev, chunked=True))

    # Byte flips and truncations of valid reviews.
    for name, rev in valid[:2]:
        raw = json.dumps(rev).encode()
        for i in range(150):
            b = bytearray(raw)
            for _ in range(rng.choice((1, 1, 2, 8))):
                b[rng.randrange(len(b))] = rng.randrange(256)
            cases.append(Case("flip %s #%d" % (name, i), bytes(b), chunked=i % 5 == 0))
        for i in range(40):
            cut = rng.randrange(len(raw))
            cases.append(Case("truncate %s at %d" % (name, cut), raw[:cut], chunked=i % 4 == 0))

    # Type confusion: every node of the valid reviews replaced by values of other types.
    others = [None, 0, -1.5, True, "", "x", [], [{}], {}, {"": None}]
    for name, rev in valid[:2]:
        for path in paths(rev):
            for value in rng.sample(others, 3):
                cases.append(Case("type %s %s=%r" % (name, "/".join(map(str, path)), value),
                                  replaced(rev, path, value)))

    # Hostile annotation values.
    mib = "a" * (1024 * 1024)
    many = ",".join("s%d" % i for i in range(10000))
    hostile = {
        "sealed 1 MiB": {ANN_SEALED: mib},
        "sealed 10000 entries": {ANN_SEALED: many},
        "sealed containers 10000": {ANN_SEALED: "s:/sealed/x", ANN_SEALED_CONTAINERS: many},
        "keep-volumes 10000": {ANN_KEEP_VOLUMES: many},
        "runtime-class 1 MiB": {ANN_RUNTIME_CLASS: mib},
        "record 1 MiB": {ANN_RECORD: mib},
        "10000 annotations": {"example.com/a%d" % i: "v" for i in range(10000)},
        "sealed NUL": {ANN_SEALED: "s\u0000:/sealed/x"},
        "runtime-class NUL": {ANN_RUNTIME_CLASS: "kata\u0000-remote"},
        "key NUL": {"example.com/a\u0000b": "v"},
        "sealed lone surrogate": {ANN_SEALED: "s\ud800:/sealed/x"},
        "runtime-class lone surrogate": {ANN_RUNTIME_CLASS: "\udc00"},
        "key lone surrogate": {"example.com/\ud800": "v"},
        "sealed empty entries": {ANN_SEALED: ",,,,:,:/,"},
    }
    for name, ann in hostile.items():
        rev = review(pod(containers=3, volumes=2, annotations=ann))
        cases.append(Case("annotation " + name, rev))
        cases.append(Case("annotation chunked " + name, rev, chunked=True))
    # NUL and lone surrogates in the names the webhook reads and echoes.
    for field, value in (("uid", "u\u0000id"), ("name", "a\u0000b"), ("namespace", "n\u0000s"),
                         ("uid", "\ud800"), ("operation", "CREATE\u0000")):
        rev = review(pod())
        rev["request"][field] = value
        cases.append(Case("request.%s %r" % (field, value), rev))
    for value in ("true\u0000", "\ud800"):
        cases.append(Case("label %r" % value,
                          review(replaced(pod(), ("metadata", "labels", LABEL), value))))

    # Sizes: 10,000 volumes, 5,000 containers, both at once near the body cap.
    cases.append(Case("10000 volumes", review(pod(containers=1, volumes=10000))))
    cases.append(Case("5000 containers", review(pod(containers=5000, volumes=1))))
    cases.append(Case("5000 containers 5000 volumes", review(pod(containers=5000,
                                                                 volumes=5000))))
    big = pod(containers=2000, volumes=2000,
              annotations={ANN_SEALED: ",".join("s%d" % i for i in range(64))})
    for c in big["spec"]["containers"]:
        c["volumeMounts"] += [{"name": "v%d" % j, "mountPath": "/x%d" % j} for j in range(3)]
    cases.append(Case("2000x2000 with mounts and entries", review(big), chunked=True))
    # The shapes whose cost grew polynomially (containers x volumes x sealed-secret entries).
    for n_c, n_v, n_e in ((20, 10, 64), (50, 0, 60), (200, 200, 10), (1000, 0, 2)):
        ann = {ANN_SEALED: ",".join("sec%d:/sealed/s%d" % (i, i) for i in range(n_e))}
        cases.append(Case("%d containers %d volumes %d entries" % (n_c, n_v, n_e),
                          review(pod(containers=n_c, volumes=n_v, annotations=ann))))
    # At the body cap: the bytes in a container's args (annotations are capped lower).
    padded = review(pod(containers=100, volumes=100))
    padded["request"]["object"]["spec"]["containers"][0]["args"] = [
        "p" * 1000 for _ in range((BODY_MAX - 200000) // 1004)]
    cases.append(Case("at the body cap", padded))

    # Deep nesting: below cJSON's limit (1000) and above it.
    for depth in (100, 990, 1200, 5000):
        rev = review(pod())
        rev["request"]["object"]["spec"]["affinity"] = "DEEP"
        raw = json.dumps(rev).replace('"DEEP"', "[" * depth + '"bottom"' + "]" * depth)
        cases.append(Case("nesting %d" % depth, raw.encode()))
    cases.append(Case("nesting raw 100000", b"[" * 100000 + b"]" * 100000))

    # Duplicate keys at every level the engine reads.
    base = json.dumps(review(pod(containers=2, volumes=1)))
    for needle, dup in (('"apiVersion": ', '"apiVersion": "v0", '),
                        ('"uid": ', '"uid": "other", '),
                        ('"object": ', '"object": {}, '),
                        ('"metadata": ', '"metadata": {}, '),
                        ('"labels": ', '"labels": {}, '),
                        ('"coco.confidentialcontainers.org/enabled": ',
                         '"coco.confidentialcontainers.org/enabled": "false", '),
                        ('"containers": ', '"containers": [], '),
                        ('"volumes": ', '"volumes": [], '),
                        ('"name": "c0"', '"name": "c9", "name": "c0"'),
                        ('"claimName": ', '"claimName": "x", ')):
        assert needle in base, needle
        cases.append(Case("duplicate " + needle.split('"')[1], base.replace(needle, dup + needle,
                                                                            1).encode()))
    # Not an object at all, and odd but valid JSON.
    for raw in (b"", b"null", b"[]", b"0", b'"x"', b"{}", b'{"request": {}}', b"\xef\xbb\xbf{}",
                b"{" + b" " * 100000 + b"}", b'{"a":"\\ud800"}'):
        cases.append(Case("raw %r" % raw[:20], raw))
    return cases


def chunks(body, rng):
    i = 0
    while i < len(body):
        n = rng.choice((1, 7, 1000, 16384, 65536, 1 << 20))
        yield body[i:i + n]
        i += n


def client(k, port, cases, order, out):
    """One client process: all cases in its order over one keep-alive connection."""
    rng = random.Random(SEED * 100 + k)
    fails, patched = [], {}
    worst = (0.0, "")
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=client_context())
    reconnects = 0
    start = time.monotonic()
    for n, i in enumerate(order):
        if time.monotonic() - start > STORM_DEADLINE_S:
            fails.append("client %d: storm deadline passed after %d cases" % (k, n))
            break
        c = cases[i]
        uid_note = ""
        try:
            t0 = time.monotonic()
            if conn.sock is None:
                reconnects += 1
            body = chunks(c.body, rng) if c.chunked else c.body
            conn.request("POST", "/mutate?timeout=10s", body=body,
                         headers={"Content-Type": "application/json"},
                         encode_chunked=c.chunked)
            r = conn.getresponse()
            data = r.read()
            took = time.monotonic() - t0
        except Exception as e:  # a reset, a timeout, a protocol error: all failures
            fails.append("%s: %s: %r" % (c.name, type(e).__name__, e))
            conn.close()
            continue
        if took > worst[0]:
            worst = (took, c.name)
        if took > BOUND_S:
            fails.append("%s: answered after %.2f s (bound %.1f s)" % (c.name, took, BOUND_S))
        try:
            answer = json.loads(data)
        except ValueError:
            fails.append("%s: %d with a body that is not JSON: %r" % (c.name, r.status,
                                                                      data[:200]))
            continue
        if 400 <= r.status < 500:
            if not isinstance(answer, dict) or not isinstance(answer.get("error"), str):
                fails.append("%s: %d without an error message: %r" % (c.name, r.status,
                                                                      data[:200]))
            continue
        if (r.status == 503 and len(c.body) > LARGE_BODY and isinstance(answer, dict) and
                "as many large requests" in str(answer.get("error"))):
            continue  # another client's large body is being worked on: by design
        if r.status != 200:
            fails.append("%s: status %d: %r" % (c.name, r.status, data[:300]))
            continue
        try:
            uid_note = c.parsed()["request"]["uid"]
        except Exception:
            fails.append("%s: 200 for a body Python does not read as a review" % c.name)
            continue
        resp = answer.get("response") if isinstance(answer, dict) else None
        if (answer.get("apiVersion") != "admission.k8s.io/v1" or
                answer.get("kind") != "AdmissionReview" or not isinstance(resp, dict) or
                resp.get("uid") != uid_note or not isinstance(uid_note, str)):
            fails.append("%s: not an AdmissionReview for uid %r: %r" % (c.name, uid_note,
                                                                       data[:300]))
            continue
        if "patch" in resp and i not in patched:
            patched[i] = resp
    conn.close()
    out.put((k, fails, patched, worst, reconnects, len(order)))


def main():
    sys.setrecursionlimit(20000)  # the deep-nesting cases, read back here
    if not BIN:
        print("COCO_BIN is not set", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    cases = make_cases()
    print("%d cases, %.1f MB, made in %.1f s" % (
        len(cases), sum(len(c.body) for c in cases) / 1e6, time.monotonic() - t0), flush=True)
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key)
    q = multiprocessing.Queue()
    procs = []
    for k in range(CLIENTS):
        order = list(range(len(cases)))
        random.Random(SEED + k).shuffle(order)
        p = multiprocessing.Process(target=client, args=(k, srv.port, cases, order, q))
        p.start()
        procs.append(p)
    fails, patched, worst, answered = [], {}, (0.0, ""), 0
    for _ in procs:
        k, f, pt, w, reconnects, n = q.get(timeout=STORM_DEADLINE_S + 120)
        print("client %d: %d cases, %d failures, %d reconnects, slowest %.2f s (%s)"
              % (k, n, len(f), reconnects, w[0], w[1]), flush=True)
        fails += f
        patched.update(pt)
        worst = max(worst, w)
        answered += n
    for p in procs:
        p.join(timeout=30)
    storm_s = time.monotonic() - t0
    print("storm: %d requests in %.1f s, slowest answer %.2f s (%s)"
          % (answered, storm_s, worst[0], worst[1]), flush=True)

    # The server is alive and answers, on a new connection.
    c = srv.conn()
    c.request("GET", "/healthz")
    r = c.getresponse()
    assert r.status == 200 and r.read() == b"ok\n", r.status
    rev = review(fraud_pod())
    c.request("POST", "/mutate", body=json.dumps(rev).encode(),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    out = json.loads(r.read())
    assert r.status == 200 and out["response"]["uid"] == rev["request"]["uid"], out
    assert out["response"]["allowed"] is True and "patch" in out["response"], out
    c.close()

    # Every patch applies with the API server's library (and python3-jsonpatch agrees). Bodies
    # that are not UTF-8 have no faithful copy for the Go oracle (it reads U+FFFD).
    not_utf8 = [i for i in patched if not cases[i].utf8]
    for i in not_utf8:
        del patched[i]
    for i, resp in sorted(patched.items()):
        obj = cases[i].parsed()["request"]["object"]
        try:
            apply_patch(obj, resp)
        except Exception as e:
            fails.append("%s: the patch does not apply: %r" % (cases[i].name, e))
    print("%d patches applied with the oracle (%d answers to non-UTF-8 bodies not applied)"
          % (len(patched), len(not_utf8)), flush=True)

    try:
        rc = srv.stop()
        if rc != 0:
            fails.append("server exited with %d" % rc)
    except AssertionError as e:
        fails.append(str(e))
    for line in srv.lines():
        if line.get("level") == "error" and line.get("msg") != "admission":
            fails.append("server logged an error: %r" % line)
    if fails:
        print("FAIL %d problems:" % len(fails))
        for f in fails[:200]:
            print("  " + f)
        return 1
    print("ok   storm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
