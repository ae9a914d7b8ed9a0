"""End-to-end tests of `coco-webhook serve`: the real binary on loopback over TLS.

Usage: test_server.py GROUP   (cli, admission, http, budget, parallel, flood, tls, testssl, reload,
                               shutdown)
Each group starts its own servers; see serverlib.py for the helpers."""
import base64
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import warnings

from serverlib import (BIN, LABEL, K8sVolume, Server, apply_patch, check_response,
                       client_context, fingerprint_file, fraud_notebook, fraud_pod, https_conn,
                       make_cert, make_rsa_cert, metric, peer_fingerprint, post, review,
                       group_registry, run_groups, start_clients, tmpdir)

GROUPS, group = group_registry()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def simple_pod(labels=None, **spec):
    s = {"containers": [{"name": "c", "image": "busybox"}]}
    s.update(spec)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "demo", "labels": labels or {}}, "spec": s}


def ask(srv, rev, path="/mutate", conn=None):
    c = conn or srv.conn()
    r, body = post(c, path, rev)
    if conn is None:
        c.close()
    return check_response(rev, r.status, body)


# ---------------------------------------------------------------- cli

@group("cli")
def test_help_shows_default_listen():
    p = subprocess.run([BIN, "serve", "--help"], stdout=subprocess.PIPE, timeout=10)
    assert p.returncode == 0
    assert b'":8443"' in p.stdout and b"/mutate-namespace" in p.stdout, p.stdout


@group("cli")
def test_unreadable_cert_exits_1():
    d = tmpdir()
    p = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--tls-cert",
                        os.path.join(d, "missing.crt"), "--tls-key", os.path.join(d, "k")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 1, p.returncode
    assert b"missing.crt" in p.stderr, p.stderr


@group("cli")
def test_mismatched_key_exits_1():
    d = tmpdir()
    crt, _ = make_cert(os.path.join(d, "a"))
    _, key = make_cert(os.path.join(d, "b"))
    p = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--tls-cert", crt,
                        "--tls-key", key], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=10)
    assert p.returncode == 1 and b"does not belong" in p.stderr, p.stderr


@group("cli")
def test_bad_flags():
    p = subprocess.run([BIN, "serve", "--log-level", "loud"], stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 2, p.returncode
    p = subprocess.run([BIN, "serve", "--bogus"], stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 2, p.returncode
    d = tmpdir()
    crt, key = make_cert(d)
    p = subprocess.run([BIN, "serve", "--listen", "nowhere", "--tls-cert", crt, "--tls-key", key],
                       stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 1 and b"port" in p.stderr, p.stderr


@group("cli")
def test_config_file_settings_and_flags_win():
    d = tmpdir()
    crt, key = make_cert(d)
    cfg = os.path.join(d, "config.yaml")
    with open(cfg, "w") as f:
        f.write("listen: \"127.0.0.1:1\"\nlogLevel: error\ntlsCert: /nonexistent.crt\n"
                "tlsKey: /nonexistent.key\n")
    # Flags win over the file: --listen, --tls-cert/--tls-key and --log-level.
    srv = Server(crt, key, ["--config", cfg, "--log-level", "info"])
    ask(srv, review(simple_pod({LABEL: "true"})))
    assert srv.stop() == 0
    assert [x for x in srv.lines() if x.get("msg") == "admission"], srv.log_text()
    # Without the flags, the file's settings apply: its certificate path is used.
    p = subprocess.run([BIN, "serve", "--config", cfg], stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 1 and b"/nonexistent.crt" in p.stderr, p.stderr
    # And its log level: with "error", a good start logs nothing at info.
    with open(cfg, "w") as f:
        f.write("listen: \"127.0.0.1:%d\"\nlogLevel: error\ntlsCert: %s\ntlsKey: %s\n"
                "shutdownDelay: 0s\n" % (free_port(), crt, key))
    p = subprocess.Popen([BIN, "serve", "--config", cfg], stderr=subprocess.PIPE)
    time.sleep(1)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 0 and err == b"", err


# ---------------------------------------------------------------- admission

@group("admission")
def test_golden_fraud_pod():
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key)
    pod = fraud_pod()
    rev = review(pod)
    resp = ask(srv, rev)
    assert resp["allowed"] is True, resp
    out = apply_patch(pod, resp)
    assert out["spec"]["runtimeClassName"] == "kata-remote", out["spec"]
    vol = [v for v in out["spec"]["volumes"] if v["name"] == "repo-storage"][0]
    assert "persistentVolumeClaim" not in vol and "emptyDir" in vol, vol
    assert "coco.confidentialcontainers.org/mutated" in out["metadata"]["annotations"]
    assert any("repo-pvc" in w for w in resp["warnings"]), resp
    assert "mutated" in resp["auditAnnotations"], resp
    # Idempotent: the mutated pod gets no patch.
    again = ask(srv, review(out))
    assert again["allowed"] and "patch" not in again, again
    # The decision log line.
    line = srv.wait_log(lambda x: x.get("msg") == "admission" and x.get("uid") == rev["request"]["uid"])
    for k in ("ts", "level", "uid", "kind", "namespace", "name", "operation", "result",
              "changes", "duration_ms"):
        assert k in line, (k, line)
    assert line["result"] == "mutated" and line["name"] == "fraud-encrypted-datasets", line
    assert "aro_workshop123" not in srv.log_text()  # never whole objects
    assert srv.stop() == 0


@group("admission")
def test_golden_notebook_create_update_dryrun():
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key)
    nb = fraud_notebook()
    for op, old, dry in (("CREATE", None, False), ("UPDATE", fraud_notebook(), False),
                         ("CREATE", None, True)):
        rev = review(nb, operation=op, old=old, dry_run=dry)
        resp = ask(srv, rev)
        assert resp["allowed"], resp
        out = apply_patch(nb, resp)
        spec = out["spec"]["template"]["spec"]
        assert spec["runtimeClassName"] == "kata-remote", spec
        vol = [v for v in spec["volumes"] if v["name"] == "app-root"][0]
        assert "persistentVolumeClaim" not in vol and "emptyDir" in vol, vol
    assert srv.stop() == 0


@group("admission")
def test_pod_vm_profile_metrics_and_log():
    """SPEC §2.7 through the server: the profile set on the fraud-detection Pod, the decision
    log line naming it, a denial, and pods counted per machine type with a label set bounded
    by the config, however many machine type names users make up."""
    d = tmpdir()
    crt, key = make_cert(d)
    cfg = os.path.join(d, "config.yaml")
    with open(cfg, "w") as f:
        f.write("podVM:\n  namespaces:\n    fraud-detection:\n"
                "      machineType: Standard_NCC40ads_H100_v5\n      gpus: 1\n"
                "      allowedMachineTypes: [Standard_NCC40ads_H100_v5, Standard_DC8as_v5]\n")
    srv = Server(crt, key, ["--config", cfg])
    c = srv.conn()
    pod = fraud_pod()
    rev = review(pod)
    resp = ask(srv, rev, conn=c)
    out = apply_patch(pod, resp)
    ann = out["metadata"]["annotations"]
    assert ann["io.katacontainers.config.hypervisor.machine_type"] == \
        "Standard_NCC40ads_H100_v5", ann
    assert ann["io.katacontainers.config.hypervisor.default_gpus"] == "1", ann
    assert "io.katacontainers.config.hypervisor.default_vcpus" not in ann, ann
    record = json.loads(ann["coco.confidentialcontainers.org/mutated"])
    assert record["podVM"] == {"profile": "fraud-detection",
                               "machineType": "Standard_NCC40ads_H100_v5", "gpus": "1"}, record
    line = srv.wait_log(lambda x: x.get("msg") == "admission"
                        and x.get("uid") == rev["request"]["uid"])
    assert line["pod_vm_profile"] == "fraud-detection", line
    assert line["pod_vm_set"] == "machineType=Standard_NCC40ads_H100_v5,gpus=1", line
    # Reinvoked after the peer-pods webhook: unchanged, counted again as such.
    out["metadata"]["annotations"]["io.katacontainers.config.hypervisor.default_vcpus"] = "4"
    again = ask(srv, review(out), conn=c)
    assert again["allowed"] and "patch" not in again, again
    # The user's own allowed machine type, and one outside the list.
    own = fraud_pod()
    own["metadata"].setdefault("annotations", {})[
        "io.katacontainers.config.hypervisor.machine_type"] = "Standard_DC8as_v5"
    assert ask(srv, review(own), conn=c)["allowed"]
    own["metadata"]["annotations"]["io.katacontainers.config.hypervisor.machine_type"] = \
        "Standard_ND96asr_v4"
    resp = ask(srv, review(own), conn=c)
    assert resp["allowed"] is False and resp["status"]["code"] == 403, resp
    assert "Standard_NCC40ads_H100_v5, Standard_DC8as_v5" in resp["status"]["message"], resp
    # A hostile user in a namespace without a profile: 200 made-up names, one label.
    for i in range(200):
        p = simple_pod({LABEL: "true"})
        p["metadata"]["annotations"] = {
            "io.katacontainers.config.hypervisor.machine_type": "made-up-%d" % i}
        assert ask(srv, review(p), conn=c)["allowed"]
    assert ask(srv, review(simple_pod({LABEL: "true"})), conn=c)["allowed"]
    c.close()
    m = srv.metrics()
    name = "coco_webhook_pod_vm_pods_total"
    assert metric(m, name, machine_type="Standard_NCC40ads_H100_v5", result="mutated") == 1, m
    assert metric(m, name, machine_type="Standard_NCC40ads_H100_v5", result="unchanged") == 1
    assert metric(m, name, machine_type="Standard_DC8as_v5", result="mutated") == 1
    assert metric(m, name, machine_type="_other") == 200
    assert metric(m, name, machine_type="_none") == 1
    assert len([k for k in m if k[0] == name]) == 5, [k for k in m if k[0] == name]
    assert metric(m, "coco_webhook_denials_total", reason="pod_vm_machine_type") == 1
    assert "made-up" not in str(m)
    assert srv.stop() == 0


@group("admission")
def test_selection_and_scopes():
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key, env={"POD_NAMESPACE": "coco-system"})
    c = srv.conn()
    # Unlabelled on /mutate: unchanged. The same on /mutate-namespace: mutated.
    pod = simple_pod()
    resp = ask(srv, review(pod), conn=c)
    assert resp["allowed"] and "patch" not in resp, resp
    resp = ask(srv, review(pod), "/mutate-namespace", conn=c)
    assert apply_patch(pod, resp)["spec"]["runtimeClassName"] == "kata-remote"
    # Labelled "false": unchanged on both paths.
    off = simple_pod({LABEL: "false"})
    for path in ("/mutate", "/mutate-namespace"):
        resp = ask(srv, review(off), path, conn=c)
        assert resp["allowed"] and "patch" not in resp, resp
    # Namespace from request.namespace when the object lacks it: kube-system is excluded.
    on = simple_pod({LABEL: "true"})
    del on["metadata"]["namespace"]
    resp = ask(srv, review(on, namespace="kube-system"), conn=c)
    assert "patch" not in resp, resp
    resp = ask(srv, review(on, namespace="demo"), conn=c)
    assert "patch" in resp, resp
    # The server's own namespace (POD_NAMESPACE) is excluded.
    resp = ask(srv, review(on, namespace="coco-system"), conn=c)
    assert "patch" not in resp, resp
    # Pods on UPDATE, DELETE and CONNECT: admitted unchanged.
    resp = ask(srv, review(on, operation="UPDATE", old=on, namespace="demo"), conn=c)
    assert resp["allowed"] and "patch" not in resp, resp
    for op in ("DELETE", "CONNECT"):
        rev = review(on, operation=op, old=on, namespace="demo")
        resp = ask(srv, rev, conn=c)
        assert resp["allowed"] and "patch" not in resp, resp
    # Denial: a class not allowed.
    runc = simple_pod({LABEL: "true"}, runtimeClassName="runc")
    resp = ask(srv, review(runc), conn=c)
    assert resp["allowed"] is False and resp["status"]["code"] == 403, resp
    assert "runc" in resp["status"]["message"], resp
    # Malformed annotation: 400 denial.
    bad = simple_pod({LABEL: "true"})
    bad["metadata"]["annotations"] = {"coco.confidentialcontainers.org/sealed-secrets": "Bad_Name"}
    resp = ask(srv, review(bad), conn=c)
    assert resp["allowed"] is False and resp["status"]["code"] == 400, resp
    m = srv.metrics()
    assert metric(m, "coco_webhook_requests_total", result="denied") == 2, m
    assert metric(m, "coco_webhook_denials_total") == 2
    assert metric(m, "coco_webhook_requests_total", kind="Pod", operation="CREATE",
                  result="mutated") == 2
    c.close()
    assert srv.stop() == 0


def malformed_bodies():
    good = review(simple_pod({LABEL: "true"}))
    cases = {}

    def mod(name, fn):
        r = json.loads(json.dumps(good))
        fn(r)
        cases[name] = json.dumps(r).encode()

    cases["not json"] = b"{not json"
    cases["empty"] = b""
    cases["trailing garbage"] = json.dumps(good).encode() + b" x"
    cases["two documents"] = json.dumps(good).encode() + b"{}"
    cases["embedded NUL"] = json.dumps(good).encode() + b"\x00"
    cases["array"] = b"[]"
    mod("no request", lambda r: r.pop("request"))
    mod("request null", lambda r: r.__setitem__("request", None))
    mod("no uid", lambda r: r["request"].pop("uid"))
    mod("empty uid", lambda r: r["request"].__setitem__("uid", ""))
    mod("uid not a string", lambda r: r["request"].__setitem__("uid", 7))
    mod("long uid", lambda r: r["request"].__setitem__("uid", "u" * 200))
    mod("uid with a control character", lambda r: r["request"].__setitem__("uid", "a\tb"))
    mod("uid with a NUL", lambda r: r["request"].__setitem__("uid", "a\u0000b"))
    mod("NUL in a label key", lambda r: r["request"]["object"]["metadata"].__setitem__(
        "labels", {"app\u0000x": "y"}))
    cases["uid of invalid UTF-8"] = json.dumps(good).encode().replace(
        good["request"]["uid"].encode(), b"\xff\xfe", 1)
    # cJSON reads \uZZZZ as U+0000: the uid would be echoed cut to "ab".
    cases["uid with a \\u escape that is not hex"] = json.dumps(good).encode().replace(
        good["request"]["uid"].encode(), b"ab\\uZZZZ", 1)
    for name, raw in STRICT_TEXT_CASES.items():
        cases[name] = json.dumps(good).encode().replace(b'"image": "', b'"image": "' + raw, 1)
    # cJSON skips any byte up to the space between tokens; RFC 8259 only tab, LF, CR, space.
    cases["a control byte between tokens"] = json.dumps(good).encode().replace(
        b'"AdmissionReview",', b'"AdmissionReview",\x01', 1)
    mod("wrong apiVersion", lambda r: r.__setitem__("apiVersion", "admission.k8s.io/v1beta1"))
    mod("wrong kind", lambda r: r.__setitem__("kind", "AdmissionRequest"))
    mod("no request.kind", lambda r: r["request"].pop("kind"))
    mod("bad operation", lambda r: r["request"].__setitem__("operation", "PATCH"))
    mod("object null", lambda r: r["request"].__setitem__("object", None))
    mod("object missing", lambda r: r["request"].pop("object"))
    mod("object other kind", lambda r: r["request"]["object"].__setitem__("kind", "Service"))
    mod("object other apiVersion",
        lambda r: r["request"]["object"].__setitem__("apiVersion", "apps/v1"))
    text = json.dumps(good)
    cases["duplicate key in envelope"] = text.replace('"kind": "AdmissionReview"',
                                                      '"kind": "AdmissionReview", "kind": "X"').encode()
    cases["duplicate label key"] = text.replace(
        '"%s": "true"' % LABEL, '"%s": "false", "%s": "true"' % (LABEL, LABEL)).encode()
    return cases


# Bytes put at the start of the container image: each a 400 naming that field.
STRICT_TEXT_CASES = {
    "invalid UTF-8 in an image": b"\xff",
    "overlong UTF-8 in an image": b"\xc0\xaf",
    "a UTF-16 surrogate in an image": b"\xed\xa0\x80",
    "a raw newline in an image": b"\n",
    "a raw tab in an image": b"\t",
    "a \\u escape without hex digits in an image": b"\\u12G4",
}


@group("admission")
def test_strict_json_text_names_the_field():
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key)
    c = srv.conn()
    good = review(simple_pod({LABEL: "true"}))
    for name, raw in STRICT_TEXT_CASES.items():
        body = json.dumps(good).encode().replace(b'"image": "', b'"image": "' + raw, 1)
        r, data = post(c, "/mutate", body)
        err = json.loads(data)["error"]
        assert r.status == 400 and "request.object.spec.containers[0].image" in err, (name, r.status, err)
    # Valid UTF-8 beyond ASCII, and escaped controls, are fine.
    ok = review(simple_pod({LABEL: "true", "team": "x"}))
    ok["request"]["object"]["metadata"]["annotations"] = {"note": "caf\u00e9 \U0001F600 a\tb"}
    body = json.dumps(ok, ensure_ascii=False).encode()
    assert "é".encode() in body
    r, data = post(c, "/mutate", body)
    check_response(ok, r.status, data)
    c.close()
    assert srv.stop() == 0


@group("admission")
def test_malformed_reviews_are_400():
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key)
    c = srv.conn()
    for name, body in malformed_bodies().items():
        r, data = post(c, "/mutate", body)
        assert r.status == 400, (name, r.status, data)
        assert r.getheader("Content-Type") == "application/json", name
        err = json.loads(data)
        assert set(err) == {"error"} and err["error"], (name, err)
        if r.getheader("Connection", "").lower() == "close":
            c.close()
            c = srv.conn()
    # Still serving normally afterwards.
    ask(srv, review(simple_pod({LABEL: "true"})), conn=c)
    m = srv.metrics()
    assert metric(m, "coco_webhook_http_responses_total", code="400") == len(malformed_bodies())
    c.close()
    assert srv.stop() == 0


# ---------------------------------------------------------------- http

def raw_tls(port):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return client_context().wrap_socket(raw)


def read_status(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]) if data else None


@group("http")
def test_http_edges():
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key)
    rev = review(simple_pod({LABEL: "true"}))
    body = json.dumps(rev).encode()

    def fresh(method, path, body=None, headers=None):
        c = srv.conn()
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data

    r, data = fresh("GET", "/mutate")
    assert r.status == 405 and r.getheader("Allow") == "POST", (r.status, r.getheaders())
    assert json.loads(data)["error"]
    r, _ = fresh("PUT", "/mutate-namespace", body, {"Content-Type": "application/json"})
    assert r.status == 405 and r.getheader("Allow") == "POST"
    r, _ = fresh("POST", "/healthz", b"{}", {"Content-Type": "application/json"})
    assert r.status == 405 and "GET" in r.getheader("Allow")
    r, data = fresh("GET", "/nope")
    assert r.status == 404 and json.loads(data)["error"]
    r, data = fresh("POST", "/mutate/", body, {"Content-Type": "application/json"})
    assert r.status == 404
    for ct in ("text/plain", "application/jsonx", "application/json; charset=latin1", None):
        h = {"Content-Type": ct} if ct else {}
        r, data = fresh("POST", "/mutate", body, h)
        assert r.status == 415, (ct, r.status)
        assert json.loads(data)["error"]
    for ct in ("application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"):
        r, data = fresh("POST", "/mutate", body, {"Content-Type": ct})
        assert r.status == 200, (ct, r.status, data)
    # ?timeout= as the API server sends it, and malformed.
    for q, want in (("10s", 200), ("1m0s", 200), ("500ms", 200), ("abc", 400), ("10", 400),
                    ("", 400)):
        r, _ = fresh("POST", "/mutate?timeout=" + q, body, {"Content-Type": "application/json"})
        assert r.status == want, (q, r.status)
    # GET routes.
    for path, want in (("/healthz", 200), ("/readyz", 200), ("/metrics", 200)):
        r, _ = fresh("GET", path)
        assert r.status == want, (path, r.status)
    # 413 from Content-Length, decided before the body is sent.
    s = raw_tls(srv.port)
    s.sendall(b"POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % (8 * 1024 * 1024 + 1))
    assert read_status(s) == 413
    s.close()
    # Exactly the cap is read (and is then not a valid review).
    big = b'{"pad":"' + b"x" * (8 * 1024 * 1024 - 10) + b'"}'
    assert len(big) == 8 * 1024 * 1024
    r, _ = fresh("POST", "/mutate", big, {"Content-Type": "application/json"})
    assert r.status == 400, r.status
    # 413 for a chunked body over the cap.
    s = raw_tls(srv.port)
    s.sendall(b"POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * (1024 * 1024)
    for _ in range(9):
        s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    s.sendall(b"0\r\n\r\n")
    assert read_status(s) == 413
    s.close()
    # A chunked body under the cap works.
    s = raw_tls(srv.port)
    s.sendall(b"POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n")
    for i in range(0, len(body), 100):
        part = body[i:i + 100]
        s.sendall(b"%x\r\n%s\r\n" % (len(part), part))
    s.sendall(b"0\r\n\r\n")
    assert read_status(s) == 200
    s.close()
    # A body completed after the request's ?timeout= passed: 503, no work done.
    s = raw_tls(srv.port)
    s.sendall(b"POST /mutate?timeout=200ms HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
              + body[:50])
    time.sleep(0.4)
    s.sendall(body[50:])
    assert read_status(s) == 503
    s.close()
    m = srv.metrics()
    assert metric(m, "coco_webhook_http_responses_total", code="503") == 1
    assert metric(m, "coco_webhook_http_responses_total", code="413") == 2
    assert metric(m, "coco_webhook_http_responses_total", code="415") == 4
    assert srv.stop() == 0


def padded_review(size):
    """A valid review of a labelled Pod, size bytes long (padding in an annotation)."""
    rev = review(simple_pod({LABEL: "true"}))
    n = len(json.dumps(rev).encode())
    rev["request"]["object"]["metadata"]["annotations"] = {"pad": "x" * (size - n - 30)}
    return rev, json.dumps(rev).encode()


def config_file(text):
    path = os.path.join(tmpdir(), "config.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def timed_post(port, path, body, out, timeout=60):
    """Posts body on a new connection; appends (status, seconds, data) to out."""
    t0 = time.monotonic()
    c = https_conn(port, timeout)
    try:
        r, data = post(c, path, body)
        out.append((r.status, time.monotonic() - t0, data))
    except Exception as e:  # recorded, checked by the test
        out.append((repr(e), time.monotonic() - t0, b""))
    finally:
        c.close()


# A budget with room for one 1 MiB review at a time (ADMISSION_MEMORY_PER_BODY_BYTE 16, two
# would take 32 MiB): memoryLimit less the 24 MiB reserve leaves 26 MiB.
ONE_AT_A_TIME = "memoryLimit: 50Mi\n"


@group("budget")
def test_requests_wait_for_memory_and_expire_at_their_deadline():
    """With a budget too small for two 1 MiB reviews they queue and are all answered;
    a request whose ?timeout= passes while it waits gets 503 at its deadline; small reviews
    pass meanwhile; a chunked body (charged for the cap) waits for the whole budget."""
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key, extra=["--config", config_file(ONE_AT_A_TIME)])
    mib_rev, mib = padded_review(1 << 20)
    # Eight at once: one at a time, every one answered 200.
    out = []
    ts = [threading.Thread(target=timed_post, args=(srv.port, "/mutate?timeout=30s", mib, out))
          for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert [o[0] for o in out] == [200] * 8, [o[:2] for o in out]
    for status, _, data in out:
        check_response(mib_rev, status, data)
    # A holds the budget: its headers promise 1 MiB and only the first bytes come.
    a = raw_tls(srv.port)
    a.sendall(b"POST /mutate?timeout=60s HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(mib)
              + mib[:1024])
    time.sleep(0.3)
    # B cannot be answered within its 1 s: 503 at the deadline, not later.
    out_b, out_c, out_ch = [], [], []
    tb = threading.Thread(target=timed_post, args=(srv.port, "/mutate?timeout=1s", mib, out_b))
    tc = threading.Thread(target=timed_post, args=(srv.port, "/mutate?timeout=60s", mib, out_c))
    chunked = raw_tls(srv.port)
    tb.start()
    tc.start()
    time.sleep(0.2)
    chunked.sendall(b"POST /mutate?timeout=60s HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    tb.join()
    status, seconds, data = out_b[0]
    assert status == 503 and b"waited for memory" in data, out_b
    assert 0.9 <= seconds <= 3.0, seconds
    # Small reviews pass the queue.
    for _ in range(3):
        c = srv.conn()
        rev = review(simple_pod({LABEL: "true"}))
        resp, data = post(c, "/mutate", rev)
        check_response(rev, resp.status, data)
        c.close()
    assert not out_c  # C still waits
    # A completes (its body is no review: 400): C and then the chunked body are answered.
    a.sendall(mib[1024:-1] + b"x")
    assert read_status(a) == 400
    a.close()
    tc.join()
    assert out_c[0][0] == 200, out_c[0][:2]
    small = json.dumps(review(simple_pod({LABEL: "true"}))).encode()
    chunked.sendall(b"%x\r\n" % len(small) + small + b"\r\n0\r\n\r\n")
    assert read_status(chunked) == 200
    chunked.close()
    assert srv.stop() == 0


def peak_rss_sampler(pid, stop, peak):
    """Samples VmRSS every 5 ms into peak[0] (KiB) until stop is set; VmHWM at the end."""
    def field(name):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
        return 0
    while not stop.is_set():
        peak[0] = max(peak[0], field("VmRSS"))
        time.sleep(0.005)
    peak[0] = max(peak[0], field("VmHWM"))


@group("budget")
def test_concurrent_large_reviews_within_a_memory_limit():
    """Eight 1 MiB reviews at once, several rounds, and a 5.4 MB one among them, under a
    memory limit set by config: every one answered 200 within its deadline, and the peak RSS
    stays under the limit."""
    limit_mib = 160
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key, extra=["--config", config_file("memoryLimit: %dMi\n" % limit_mib)])
    scale = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench",
                         "scale-objects.py")
    subprocess.run([sys.executable, scale, d, "--review", "--max-bytes", str(6 << 20)],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(d, "review-pod-4096.json"), "rb") as f:
        big = f.read()
    assert len(big) > 5 << 20
    _, mib = padded_review(1 << 20)
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=peak_rss_sampler, args=(srv.proc.pid, stop, peak))
    sampler.start()
    out = []
    for rnd in range(4):
        bodies = [mib] * 8 + ([big] if rnd == 1 else [])
        ts = [threading.Thread(target=timed_post, args=(srv.port, "/mutate?timeout=30s", b, out))
              for b in bodies]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    stop.set()
    sampler.join()
    assert len(out) == 33
    bad = [o[:2] for o in out if o[0] != 200 or o[1] >= 30]
    assert not bad, bad
    print("  peak RSS %.1f MiB (limit %d MiB)" % (peak[0] / 1024, limit_mib))
    if not os.environ.get("COCO_SANITIZED"):
        assert peak[0] <= limit_mib * 1024, peak[0]
    assert srv.stop() == 0


# ADMISSION_MEMORY_PER_BODY_BYTE: what the server charges a request per byte of its body.
MEMORY_PER_BODY_BYTE = 16


def peak_over_base(srv, c, body, timeout="60s"):
    """Posts body on c after a small review; returns (status, answer, peak RSS over the RSS
    after the small one, per byte of body)."""
    rev = review(simple_pod({LABEL: "true"}))
    r, data = post(c, "/mutate?timeout=10s", rev)
    check_response(rev, r.status, data)

    def field(name):
        with open("/proc/%d/status" % srv.proc.pid) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
        return 0
    base = field("VmRSS")
    r, data = post(c, "/mutate?timeout=" + timeout, body)
    return r.status, data, (field("VmHWM") - base) * 1024 / len(body)


def dense_review(spec, size):
    """A labelled Pod whose spec holds spec, with "@@" in it replaced by as many copies of
    its item (spec["@item"], JSON text) as make the body about size bytes."""
    item = spec.pop("@item")
    text = json.dumps(review(simple_pod({LABEL: "true"}, **spec)), separators=(",", ":"))
    n = max(1, (size - len(text)) // (len(item) + 1))
    return text.replace('"@@"', ",".join([item] * n)).encode()


@group("budget")
def test_large_review_within_its_charge():
    """The densest shapes take at their peak no more memory than the server charges them,
    ADMISSION_MEMORY_PER_BODY_BYTE times the body over the RSS after a small review: the Pod
    at scale 4096 of bench/scale-objects.py (5.4 MB; measured 6.4 times), a list of bare
    volumes and one of bare containers, the densest lists a pod spec keeps (measured 13 and
    14.2 times)."""
    d = tmpdir()
    crt, key = make_cert(d)
    scale = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench",
                         "scale-objects.py")
    subprocess.run([sys.executable, scale, d, "--review", "--max-bytes", str(6 << 20)],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(d, "review-pod-4096.json"), "rb") as f:
        big = f.read()
    assert len(big) > 5 << 20
    shapes = {
        "Pod at scale 4096": big,
        "bare volumes": dense_review({"volumes": ["@@"], "@item": '{"name":""}'}, 3 << 20),
        "bare containers": dense_review({"containers": ["@@"], "@item": '{"name":"c"}'},
                                        3 << 20),
    }
    for name, body in shapes.items():
        srv = Server(crt, key)
        c = srv.conn(timeout=120)
        status, _, per_byte = peak_over_base(srv, c, body)
        assert status == 200, (name, status)
        print("  %s: peak over the body %.1f times (charged %d)"
              % (name, per_byte, MEMORY_PER_BODY_BYTE))
        if not os.environ.get("COCO_SANITIZED"):
            assert per_byte <= MEMORY_PER_BODY_BYTE, (name, per_byte)
        c.close()
        assert srv.stop() == 0


@group("budget")
def test_review_denser_than_its_charge_is_413():
    """A body no API server sends, a kept list of 2 MiB of zeros (cJSON's tree of it would be
    32 times its size), is answered 413 once it has taken its charge, not the memory of the
    requests beside it; the next review is served."""
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key)
    c = srv.conn(timeout=60)
    body = dense_review({"volumes": ["@@"], "@item": "0"}, 2 << 20)
    status, data, per_byte = peak_over_base(srv, c, body)
    assert status == 413, status
    err = json.loads(data)["error"]
    assert "no object the API server sends is that dense" in err, err
    print("  peak over the body: %.1f times" % per_byte)
    if not os.environ.get("COCO_SANITIZED"):
        assert per_byte <= MEMORY_PER_BODY_BYTE, per_byte
    rev = review(simple_pod({LABEL: "true"}))
    r, data = post(c, "/mutate?timeout=10s", rev)
    check_response(rev, r.status, data)
    c.close()
    assert srv.stop() == 0


@group("budget")
def test_amplified_patch_within_the_charge():
    """64 sealed secrets in every container make a patch far larger than the body (1,500
    containers: 12.5 MB of patch from 0.54 MB, 61 times the body at the peak before). The
    patch may take what the charge leaves after the parse, at least 1 MiB: 100 containers
    (0.9 MB of patch) are mutated, 1,500 denied (400) saying what to do, within the charge."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("scale_objects", os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "scale-objects.py"))
    scale = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scale)
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key)
    c = srv.conn(timeout=60)
    rev = review(scale.worst_case_pod(containers=100))
    r, data = post(c, "/mutate?timeout=30s", rev)
    check_response(rev, r.status, data)
    assert json.loads(data)["response"]["allowed"] is True
    big = json.dumps(review(scale.worst_case_pod(containers=1500)),
                     separators=(",", ":")).encode()
    status, data, per_byte = peak_over_base(srv, c, big)
    assert status == 200, status
    resp = json.loads(data)["response"]
    assert resp["allowed"] is False and resp["status"]["code"] == 400, resp
    msg = resp["status"]["message"]
    assert "needs a patch of more than" in msg and "sealed-secrets-containers" in msg, msg
    # The charge, plus the floor's work (3 times 1 MiB), which is not charged.
    limit = MEMORY_PER_BODY_BYTE + (64 * 1024 + 3 * (1 << 20)) / len(big)
    print("  peak over the body: %.1f times (limit %.1f)" % (per_byte, limit))
    if not os.environ.get("COCO_SANITIZED"):
        assert per_byte <= limit, per_byte
    c.close()
    assert srv.stop() == 0


@group("budget")
def test_dropped_values_cost_nothing():
    """What the webhook never reads (here a container's command of 700,000 empty strings, 24
    times its size as a tree) is checked and dropped as it is parsed: the review is served
    within about its own size."""
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key)
    c = srv.conn(timeout=60)
    body = dense_review({"containers": [{"name": "c", "command": ["@@"]}], "@item": '""'},
                        2 << 20)
    status, data, per_byte = peak_over_base(srv, c, body)
    assert status == 200, (status, data[:200])
    print("  peak over the body: %.1f times" % per_byte)
    if not os.environ.get("COCO_SANITIZED"):
        assert per_byte <= 3, per_byte
    c.close()
    assert srv.stop() == 0


@group("http")
def test_keep_alive_reuses_connection():
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key)
    c = srv.conn()
    c.connect()
    sock = c.sock
    for i in range(200):
        rev = review(simple_pod({LABEL: "true"}))
        r, body = post(c, "/mutate?timeout=10s", rev)
        check_response(rev, r.status, body)
        assert r.getheader("Connection", "").lower() != "close"
        assert c.sock is sock, "connection was not reused at request %d" % i
    for path in ("/healthz", "/metrics", "/readyz"):
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        assert r.status == 200 and c.sock is sock, path
    c.close()
    assert srv.stop() == 0


# ---------------------------------------------------------------- flood

def open_from(source, port, n, tls_hello=False, partial=None):
    """n connections to the server from the loopback address source: idle (TCP only), or
    through the TLS handshake with partial bytes of a request sent and never finished."""
    socks = []
    for _ in range(n):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10,
                                       source_address=(source, 0))
        if tls_hello:
            raw = client_context().wrap_socket(raw)
            if partial:
                raw.sendall(partial)
        socks.append(raw)
    return socks


def timed_review(srv):
    rev = review(simple_pod({LABEL: "true"}))
    t0 = time.time()
    c = srv.conn(timeout=5)
    r, body = post(c, "/mutate?timeout=10s", rev)
    resp = check_response(rev, r.status, body)
    c.close()
    assert "patch" in resp, resp
    return time.time() - t0


@group("flood")
def test_idle_and_slow_clients_do_not_starve_requests():
    """Connections that never speak TLS, and TLS clients that send half a request and stall
    (slowloris), from other loopback addresses: the API server's requests (here 127.0.0.1)
    are still answered, because handlers never block and each address has a connection
    limit that a flood hits first."""
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key)
    held = []
    try:
        # More idle TCP connections from one address than its per-address limit (256,
        # webhook/server/server.h): the server closes the ones over the limit at once.
        flood = open_from("127.0.0.2", srv.port, 300)
        held += flood
        time.sleep(0.5)
        closed = 0
        for sock in flood:
            sock.setblocking(False)
            try:
                closed += sock.recv(1) == b""
            except (BlockingIOError, ssl.SSLWantReadError):
                pass
            except OSError:
                closed += 1
        assert closed >= 300 - 256, "only %d of 300 connections refused" % closed
        # Slow clients: handshake done, headers half sent, never finished.
        held += open_from("127.0.0.3", srv.port, 64, tls_hello=True,
                          partial=b"POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Le")
        # Slow bodies: a complete header announcing more body than is ever sent.
        held += open_from("127.0.0.4", srv.port, 64, tls_hello=True,
                          partial=b"POST /mutate HTTP/1.1\r\nHost: x\r\n"
                                  b"Content-Type: application/json\r\n"
                                  b"Content-Length: 100000\r\n\r\n{\"apiVersion\":")
        for _ in range(20):
            # 5 s is not a speed target: it only tells "answered" from "starved".
            assert timed_review(srv) < 5
        m = srv.metrics()
        assert metric(m, "coco_webhook_requests_total", kind="Pod", operation="CREATE",
                      result="mutated") >= 20, m
    finally:
        for sock in held:
            sock.close()
    # With the flood gone, the server is still healthy and stops cleanly.
    assert timed_review(srv) < 5
    assert srv.stop() == 0


# ---------------------------------------------------------------- parallel

def load_clients(port, n_clients, per_client, errors, done, stop=None, new_conn_every=0,
                 path="/mutate", make=None):
    """Labelled Pods (or make()'s objects); a selected one must get a patch."""
    def record(obj, resp):
        if obj["metadata"]["labels"].get(LABEL) == "true":
            assert "patch" in resp, resp
        done.append(resp)
    return start_clients(port, n_clients, per_client, errors,
                         lambda k, i: make() if make else simple_pod({LABEL: "true"}), record,
                         stop=stop, new_conn_every=new_conn_every, path=path)


@group("parallel")
def test_64_parallel_clients():
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key)
    errors, done = [], []
    threads = load_clients(srv.port, 64, 30, errors, done)
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:5]
    assert len(done) == 64 * 30, len(done)
    m = srv.metrics()
    assert metric(m, "coco_webhook_requests_total") == 64 * 30
    assert srv.stop() == 0


# ---------------------------------------------------------------- tls

def s_client(port, *args):
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port] + list(args),
                       input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    return p.returncode, p.stdout.decode("utf-8", "replace")


@group("tls")
def test_tls_versions():
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key)
    for flag in ("-tls1", "-tls1_1"):
        rc, out = s_client(srv.port, flag, "-cipher", "DEFAULT@SECLEVEL=0")
        # The server refused: the ClientHello went out and the handshake failed there, not in
        # our client.
        assert rc != 0 and refused_by_server(out), (flag, out)
    for flag, proto in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        rc, out = s_client(srv.port, flag)
        assert rc == 0 and proto in out, (flag, out)
    fp = fingerprint_file(crt)
    assert peer_fingerprint(srv.port) == fp
    # Python's client: TLS 1.1 maximum is refused, by the server.
    ctx = tls11_client()
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    try:
        conn = ctx.wrap_socket(raw)
        raise AssertionError("TLS 1.1 handshake succeeded: %s" % conn.version())
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError, BrokenPipeError):
        pass  # the server closed the connection on the ClientHello
    except ssl.SSLError as e:
        # An alert from the server; a failure inside our client would name another reason.
        assert e.reason in ("TLSV1_ALERT_PROTOCOL_VERSION", "SSLV3_ALERT_HANDSHAKE_FAILURE"), e
    finally:
        raw.close()
    assert srv.stop() == 0


def tls11_client():
    """A Python client context that offers TLS 1.1 and nothing newer, shown able to complete a
    TLS 1.1 handshake with a local Python server first: a client that cannot offer TLS 1.1
    here (an OpenSSL build or policy without it) fails the test instead of passing it for
    the wrong reason."""
    warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1 is, on purpose
    d = tmpdir()
    crt, key = make_rsa_cert(d)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.minimum_version = sctx.maximum_version = ssl.TLSVersion.TLSv1_1
    sctx.set_ciphers("DEFAULT@SECLEVEL=0")  # raises when TLS 1.1 suites cannot be enabled
    sctx.load_cert_chain(crt, key)
    ctx = client_context()
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT@SECLEVEL=0")
    listener = socket.create_server(("127.0.0.1", 0))
    served = {}

    def serve():
        conn, _ = listener.accept()
        try:
            with sctx.wrap_socket(conn, server_side=True) as tls:
                served["version"] = tls.version()
        except (ssl.SSLError, OSError) as e:
            served["error"] = e

    t = threading.Thread(target=serve)
    t.start()
    try:
        with socket.create_connection(listener.getsockname(), timeout=10) as raw:
            with ctx.wrap_socket(raw) as tls:
                version = tls.version()
    except (ssl.SSLError, OSError) as e:
        raise AssertionError("this client cannot complete a TLS 1.1 handshake even with a "
                             "server that allows it (%r, server side: %r): the refusal test "
                             "would prove nothing" % (e, served.get("error")))
    finally:
        t.join(10)
        listener.close()
    assert version == "TLSv1.1" and served.get("version") == "TLSv1.1", (version, served)
    return ctx


def renegotiate(port):
    """A TLS 1.2 client that asks for a renegotiation (openssl s_client, command R) once the
    handshake is done. Returns (exit code, transcript with -msg)."""
    p = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_2",
                          "-msg"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    p.stdin.write(b"R\n")
    p.stdin.flush()
    try:
        out, _ = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        # Still connected: the renegotiation went through and s_client waits for input.
        p.stdin.close()
        p.kill()
        out, _ = p.communicate()
    return p.returncode, out.decode("utf-8", "replace")


@group("tls")
def test_renegotiation_refused():
    d = tmpdir()
    for crt, key in (make_cert(os.path.join(d, "ec")), make_rsa_cert(os.path.join(d, "rsa"))):
        srv = Server(crt, key, ["--log-level", "debug"])
        for _ in range(3):
            rc, out = renegotiate(srv.port)
            assert "RENEGOTIATING" in out, out
            after = out.split("RENEGOTIATING", 1)[1]
            # No second handshake: no ServerHello after the request ...
            assert ", ServerHello" not in after, out
            # ... but an explicit refusal: the no_renegotiation alert, and the client fails
            # its renegotiation (a plain close would read as "accepted" to scanners).
            assert "Alert [length 0002], warning no_renegotiation" in after, out
            assert rc != 0, out
        # GnuTLS's client agrees.
        p = subprocess.run(["gnutls-cli", "--insecure", "--rehandshake", "--priority",
                            "NORMAL:-VERS-ALL:+VERS-TLS1.2", "-p", str(srv.port), "127.0.0.1"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=20)
        text = p.stdout.decode("utf-8", "replace")
        assert "- Handshake was completed" in text and "ReHandshake has failed" in text, text
        # The server goes on serving, on new connections and with TLS 1.2.
        ask(srv, review(simple_pod({LABEL: "true"})))
        rc, out = s_client(srv.port, "-tls1_2")
        assert rc == 0 and "TLSv1.2" in out, out
        assert srv.stop() == 0
        assert any(x.get("msg") == "TLS renegotiation refused" for x in srv.lines())


def refused_by_server(out):
    """True when a handshake failed at the server, not in our client: the ClientHello was sent,
    and the server answered it with an alert or closed the connection without a word
    (libmicrohttpd drops a failed handshake)."""
    if "no ciphers available" in out or "no protocols available" in out:
        return False
    sent = re.search(r"SSL handshake has read (\d+) bytes and written (\d+) bytes", out)
    return bool(sent) and int(sent.group(2)) > 0 and (
        "unexpected eof while reading" in out or re.search(r"alert (handshake failure|"
                                                           r"protocol version|insufficient "
                                                           r"security)", out) is not None)


@group("tls")
def test_only_ecdhe_aead_suites():
    d = tmpdir()
    ec = make_cert(os.path.join(d, "ec"))
    rsa = make_rsa_cert(os.path.join(d, "rsa"))
    for (crt, key), kind in ((ec, "ECDSA"), (rsa, "RSA")):
        srv = Server(crt, key)
        for suite in ("ECDHE-%s-AES128-GCM-SHA256", "ECDHE-%s-AES256-GCM-SHA384",
                      "ECDHE-%s-CHACHA20-POLY1305"):
            rc, out = s_client(srv.port, "-tls1_2", "-cipher", suite % kind)
            assert rc == 0 and "Cipher is " + suite % kind in out, out
        refused = ["ECDHE-%s-AES128-SHA" % kind, "ECDHE-%s-AES256-SHA384" % kind]  # CBC
        if kind == "RSA":
            refused += ["AES128-GCM-SHA256", "AES256-GCM-SHA384",  # RSA key transport
                        "AES128-SHA256",
                        "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-CHACHA20-POLY1305"]  # DHE
        else:
            refused += ["ECDHE-ECDSA-AES128-CCM"]  # AEAD, but neither GCM nor ChaCha20
        for suite in refused:
            rc, out = s_client(srv.port, "-tls1_2", "-cipher", suite + "@SECLEVEL=0")
            assert rc != 0 and refused_by_server(out), (suite, out)
        # TLS 1.3: the GCM and ChaCha20 suites; CCM refused.
        for suite in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                      "TLS_CHACHA20_POLY1305_SHA256"):
            rc, out = s_client(srv.port, "-tls1_3", "-ciphersuites", suite)
            assert rc == 0 and "TLSv1.3, Cipher is " + suite in out, out
        rc, out = s_client(srv.port, "-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256")
        assert rc != 0 and refused_by_server(out), out
        # Finite-field groups only: refused under TLS 1.3 as well.
        rc, out = s_client(srv.port, "-tls1_3", "-groups", "ffdhe2048")
        assert rc != 0 and refused_by_server(out), out
        # Python's client, CBC only.
        ctx = client_context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-%s-AES128-SHA:ECDHE-%s-AES256-SHA" % (kind, kind))
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw:
            try:
                ctx.wrap_socket(raw).close()
                raise AssertionError("a CBC-only client was served")
            except ssl.SSLError:
                pass
        assert srv.stop() == 0


@group("tls")
def test_tls_min_version():
    d = tmpdir()
    crt, key = make_cert(d)
    cfg13 = os.path.join(d, "tls13.yaml")
    with open(cfg13, "w") as f:
        f.write('tlsMinVersion: "1.3"\n')
    cfg12 = os.path.join(d, "tls12.yaml")
    with open(cfg12, "w") as f:
        f.write('tlsMinVersion: "1.2"\n')
    cases = ((["--config", cfg13], "1.3"), (["--tls-min-version", "1.3"], "1.3"),
             (["--config", cfg12, "--tls-min-version=1.3"], "1.3"),
             (["--config", cfg13, "--tls-min-version", "1.2"], "1.2"),
             ([], "1.2"))
    for extra, want in cases:
        srv = Server(crt, key, extra)
        assert srv.wait_log(lambda x: x.get("msg") == "listening")["tls_min_version"] == want
        rc, out = s_client(srv.port, "-tls1_3")
        assert rc == 0 and "TLSv1.3" in out, (extra, out)
        rc, out = s_client(srv.port, "-tls1_2")
        if want == "1.3":
            assert rc != 0 and refused_by_server(out), (extra, out)
            ctx = client_context()
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw:
                try:
                    ctx.wrap_socket(raw).close()
                    raise AssertionError("a TLS 1.2 client was served")
                except ssl.SSLError:
                    pass
        else:
            assert rc == 0 and "TLSv1.2" in out, (extra, out)
        ask(srv, review(simple_pod({LABEL: "true"})))
        assert srv.stop() == 0
    # Wrong values: the flag is a usage error, the config key an error naming file and line.
    p = subprocess.run([BIN, "serve", "--tls-min-version", "1.1", "--tls-cert", crt,
                        "--tls-key", key], stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 2 and b"--tls-min-version" in p.stderr, p.stderr
    with open(cfg13, "w") as f:
        f.write("logLevel: info\ntlsMinVersion: 1.3\n")
    p = subprocess.run([BIN, "serve", "--config", cfg13, "--tls-cert", crt, "--tls-key", key],
                       stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 1 and b'tls13.yaml:2: key "tlsMinVersion"' in p.stderr, p.stderr


@group("tls")
def test_tls_min_version_is_read_at_start():
    d = tmpdir()
    crt, key = make_cert(d)
    vol = K8sVolume(os.path.join(d, "cfg"))
    vol.publish({"config.yaml": b'tlsMinVersion: "1.2"\n'})
    srv = Server(crt, key, ["--config", vol.path("config.yaml")])
    vol.publish({"config.yaml": b'tlsMinVersion: "1.3"\nlogLevel: debug\n'})
    line = srv.wait_log(lambda x: x.get("msg", "").startswith("tlsMinVersion changed"))
    assert line["level"] == "warn" and line["in_force"] == "1.2" and line["configured"] == "1.3"
    srv.wait_log(lambda x: x.get("msg") == "config reloaded")
    # The rest of the file applied; TLS 1.2 is still served until the next start.
    rc, out = s_client(srv.port, "-tls1_2")
    assert rc == 0 and "TLSv1.2" in out, out
    assert srv.stop() == 0


# ---------------------------------------------------------------- testssl

# Findings of these ids must be present and rated OK (or INFO): they show that the checks
# that matter here did run, so that a scan that could not test something never passes
# silently.
TESTSSL_REQUIRED = ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3", "cipherlist_NULL",
                    "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
                    "cipherlist_3DES_IDEA", "cipherlist_AVERAGE", "cipherlist_STRONG",
                    "heartbleed", "CCS", "ROBOT", "secure_renego", "secure_client_renego",
                    "CRIME_TLS", "POODLE_SSL", "SWEET32", "FREAK", "LOGJAM", "BEAST",
                    "LUCKY13")


@group("testssl")
def test_testssl_scan():
    """Debian's testssl.sh against the real server on loopback: protocols, cipher categories
    and the vulnerability checks; nothing rated MEDIUM or above."""
    d = tmpdir()
    crt, key = make_rsa_cert(d)  # RSA: RSA key transport, DHE and ROBOT become testable
    srv = Server(crt, key)
    report = os.path.join(d, "testssl.json")
    # Loopback answers at once: shorter waits for answers that never come (a heartbeat, a
    # CCS injection, an HTTP banner) keep the scan at a couple of minutes.
    env = dict(os.environ, HEADER_MAXSLEEP="2", MAX_WAITSOCK="4", CCS_MAX_WAITSOCK="2",
               HEARTBLEED_MAX_WAITSOCK="2")
    p = subprocess.run(["testssl", "--protocols", "--std", "--vulnerable", "--quiet",
                        "--warnings", "off", "--color", "0", "--nodns", "none",
                        "--jsonfile", report, "127.0.0.1:%d" % srv.port],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=900)
    text = p.stdout.decode("utf-8", "replace")
    with open(report) as f:
        findings = json.load(f)
    assert isinstance(findings, list) and findings, text
    bad = [x for x in findings
           if x.get("severity") in ("MEDIUM", "HIGH", "CRITICAL", "FATAL")]
    assert not bad, "testssl findings rated MEDIUM or above:\n%s\n%s" % (
        json.dumps(bad, indent=1), text)
    by_id = {x.get("id"): x for x in findings}
    for id_ in TESTSSL_REQUIRED:
        assert id_ in by_id, "testssl did not report %s (only %s)" % (id_, sorted(by_id))
        assert by_id[id_]["severity"] in ("OK", "INFO"), (by_id[id_], text)
    for id_ in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "cipherlist_AVERAGE", "cipherlist_NULL"):
        assert "not offered" in by_id[id_]["finding"], by_id[id_]
    assert by_id["TLS1_2"]["finding"].startswith("offered"), by_id["TLS1_2"]
    assert by_id["TLS1_3"]["finding"].startswith("offered"), by_id["TLS1_3"]
    assert by_id["secure_client_renego"]["finding"].startswith("not vulnerable"), by_id
    # The server survived the scan.
    ask(srv, review(simple_pod({LABEL: "true"})))
    assert srv.stop() == 0


# ---------------------------------------------------------------- reload

@group("reload")
def test_certificate_rotation_under_load():
    d = tmpdir()
    vol = K8sVolume(os.path.join(d, "tls"))
    a = make_cert(os.path.join(d, "a"), cn="first")
    b = make_cert(os.path.join(d, "b"), cn="second")
    c_ = make_cert(os.path.join(d, "c"), cn="third")
    read = lambda p: open(p, "rb").read()
    vol.publish({"tls.crt": read(a[0]), "tls.key": read(a[1])})
    srv = Server(vol.path("tls.crt"), vol.path("tls.key"))
    assert peer_fingerprint(srv.port) == fingerprint_file(a[0])
    errors, done, stop = [], [], threading.Event()
    threads = load_clients(srv.port, 8, 100000, errors, done, stop=stop, new_conn_every=5)
    time.sleep(1)
    vol.publish({"tls.crt": read(b[0]), "tls.key": read(b[1])})
    want = fingerprint_file(b[0])
    deadline = time.time() + 10
    while time.time() < deadline and peer_fingerprint(srv.port) != want:
        time.sleep(0.1)
    assert peer_fingerprint(srv.port) == want, "new connections do not see the new certificate"
    rc, out = s_client(srv.port, "-tls1_3")
    assert rc == 0 and "CN = second" in out, out
    # A bad new pair (key of another certificate) is kept out.
    vol.publish({"tls.crt": read(c_[0]), "tls.key": read(a[1])})
    deadline = time.time() + 10
    while time.time() < deadline and metric(srv.metrics(), "coco_webhook_reloads_total",
                                            file="certificate", result="failure") < 1:
        time.sleep(0.1)
    time.sleep(0.5)
    assert peer_fingerprint(srv.port) == want
    # Then a good one again, by SIGHUP too.
    vol.publish({"tls.crt": read(c_[0]), "tls.key": read(c_[1])})
    srv.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline and peer_fingerprint(srv.port) != fingerprint_file(c_[0]):
        time.sleep(0.1)
    assert peer_fingerprint(srv.port) == fingerprint_file(c_[0])
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:5]
    assert len(done) > 100, len(done)
    m = srv.metrics()
    assert metric(m, "coco_webhook_reloads_total", file="certificate", result="success") >= 2, m
    assert metric(m, "coco_webhook_reloads_total", file="certificate", result="failure") >= 1
    expiry = metric(m, "coco_webhook_certificate_expiry_timestamp_seconds")
    assert time.time() < expiry < time.time() + 3 * 86400, expiry
    assert srv.stop() == 0


@group("reload")
def test_config_reload_under_load():
    d = tmpdir()
    crt, key = make_cert(d)
    vol = K8sVolume(os.path.join(d, "cfg"))
    vol.publish({"config.yaml": b"runtimeClass:\n  name: kata-remote\n"})
    srv = Server(crt, key, ["--config", vol.path("config.yaml")])
    errors, done, stop = [], [], threading.Event()
    threads = load_clients(srv.port, 8, 100000, errors, done, stop=stop)

    def class_now():
        obj = simple_pod({LABEL: "true"})
        return apply_patch(obj, ask(srv, review(obj)))["spec"]["runtimeClassName"]

    assert class_now() == "kata-remote"
    vol.publish({"config.yaml": b"runtimeClass:\n  name: kata-qemu-snp\n"})
    deadline = time.time() + 10
    while time.time() < deadline and class_now() != "kata-qemu-snp":
        time.sleep(0.1)
    assert class_now() == "kata-qemu-snp"
    # An invalid config is kept out and counted.
    vol.publish({"config.yaml": b"runtimeClass:\n  nmae: typo\n"})
    deadline = time.time() + 10
    while time.time() < deadline and metric(srv.metrics(), "coco_webhook_reloads_total",
                                            file="config", result="failure") < 1:
        time.sleep(0.1)
    m = srv.metrics()
    assert metric(m, "coco_webhook_reloads_total", file="config", result="failure") == 1, m
    assert metric(m, "coco_webhook_reloads_total", file="config", result="success") == 1, m
    assert class_now() == "kata-qemu-snp"
    failed = [x for x in srv.lines() if x.get("msg", "").startswith("config reload failed")]
    assert failed and "nmae" in failed[0]["error"], failed
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:5]
    assert srv.stop() == 0


@group("reload")
def test_pod_vm_profile_reload():
    """SPEC §2.7, §4: a new pod-VM profile applies after a reload without a restart; a bad one
    (an empty allowedMachineTypes) is refused naming file, line and key, and the last good
    profile stays in use."""
    d = tmpdir()
    crt, key = make_cert(d)
    vol = K8sVolume(os.path.join(d, "cfg"))
    vol.publish({"config.yaml": b"podVM:\n  default: {machineType: Standard_DC2as_v5}\n"})
    srv = Server(crt, key, ["--config", vol.path("config.yaml")])

    def machine_type_now():
        obj = simple_pod({LABEL: "true"})
        out = apply_patch(obj, ask(srv, review(obj)))
        return out["metadata"]["annotations"]["io.katacontainers.config.hypervisor.machine_type"]

    assert machine_type_now() == "Standard_DC2as_v5"
    vol.publish({"config.yaml": b"podVM:\n  default: {machineType: Standard_DC4as_v5}\n"})
    deadline = time.time() + 10
    while time.time() < deadline and machine_type_now() != "Standard_DC4as_v5":
        time.sleep(0.1)
    assert machine_type_now() == "Standard_DC4as_v5"
    vol.publish({"config.yaml": b"podVM:\n  default:\n    machineType: Standard_DC8as_v5\n"
                                b"    allowedMachineTypes: []\n"})
    deadline = time.time() + 10
    while time.time() < deadline and metric(srv.metrics(), "coco_webhook_reloads_total",
                                            file="config", result="failure") < 1:
        time.sleep(0.1)
    assert machine_type_now() == "Standard_DC4as_v5"
    failed = [x for x in srv.lines() if x.get("msg", "").startswith("config reload failed")]
    assert failed and 'config.yaml:4: key "podVM.default.allowedMachineTypes": an empty list' \
        in failed[0]["error"], failed
    assert srv.stop() == 0


# ---------------------------------------------------------------- shutdown

@group("shutdown")
def test_sigterm_under_load():
    """SPEC §4: on SIGTERM /readyz fails at once, yet the server accepts and answers new
    connections for the shutdown delay, every answer with "Connection: close"; then it stops
    accepting, finishes the request in flight and exits 0."""
    d = tmpdir()
    crt, key = make_cert(d)
    srv = Server(crt, key, extra=["--shutdown-delay", "3s"])
    # A request in flight: headers and half the body sent before SIGTERM.
    rev = review(simple_pod({LABEL: "true"}))
    body = json.dumps(rev).encode()
    s = raw_tls(srv.port)
    s.sendall(b"POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body[:100])
    kept = srv.conn()  # a kept-alive connection, used before and during the delay
    resp, data = post(kept, "/mutate", rev)
    check_response(rev, resp.status, data)
    assert resp.getheader("Connection", "").lower() != "close"
    errors, done, stop = [], [], threading.Event()
    threads = load_clients(srv.port, 16, 100000, errors, done, stop=stop)
    time.sleep(1)
    n_before = len(done)
    t_term = time.monotonic()
    srv.signal(signal.SIGTERM)
    srv.wait_log(lambda x: x.get("msg") == "shutting down", timeout=10)
    c = srv.conn()
    c.request("GET", "/readyz")
    r = c.getresponse()
    r.read()
    assert r.status == 503, r.status
    c.close()
    # During the delay: the kept-alive connection and new ones are served, told to close.
    resp, data = post(kept, "/mutate", rev)
    check_response(rev, resp.status, data)
    assert resp.getheader("Connection", "").lower() == "close"
    kept.close()
    for _ in range(3):
        c = srv.conn()
        resp, data = post(c, "/mutate", rev)
        check_response(rev, resp.status, data)
        assert resp.getheader("Connection", "").lower() == "close"
        c.close()
    assert time.monotonic() - t_term < 3.0  # all within the delay
    s.sendall(body[100:])
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), data[:200]
    assert b"\r\nConnection: close" in head, head
    check_response(rev, 200, payload)
    n_during = len(done)
    code = srv.proc.wait(timeout=30)
    assert code == 0, (code, srv.log_text()[-3000:])
    assert time.monotonic() - t_term >= 3.0
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert n_before > 0 and n_during > n_before
    # After the stop, clients only fail to connect; no answer was cut or wrong.
    bad = [e for e in errors if "ConnectionRefused" not in e and "RemoteDisconnected" not in e
           and "BrokenPipe" not in e and "ConnectionReset" not in e]
    assert not bad, bad[:5]
    assert srv.stop() == 0
    assert any(x.get("msg") == "stopped" for x in srv.lines())


def main():
    return run_groups("test_server.py", GROUPS)


if __name__ == "__main__":
    sys.exit(main())
