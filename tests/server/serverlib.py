"""Helpers for the server tests: throwaway certificates, starting the real binary on a free
loopback port, TLS clients, AdmissionReviews built from the shared samples.

Every process started here is killed at exit (atexit and SIGTERM/SIGINT handlers), so a
failing test never leaves a server behind."""
import atexit
import base64
import copy
import hashlib
import http.client
import itertools
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

import yaml

BIN = os.environ.get("COCO_BIN", "")
SHARED = os.environ.get("COCO_SHARED", "")
BUILD = os.environ.get("COCO_BUILD", "")
LABEL = "coco.confidentialcontainers.org/enabled"

_procs = []
# What Server adds unless its caller sets a delay (a benchmark of an older binary clears it).
SHUTDOWN_DELAY_ARGS = ["--shutdown-delay", "0s"]


def _cleanup(*_args):
    for p in _procs:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


def _on_signal(signum, _frame):
    _cleanup()
    sys.exit(128 + signum)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def tmpdir():
    d = tempfile.mkdtemp(prefix="coco-server-test-")
    atexit.register(lambda: subprocess.run(["rm", "-rf", d], check=False))
    return d


def make_cert(directory, cn="localhost", days=2):
    """A self-signed P-256 certificate for 127.0.0.1 and localhost; returns (crt, key)."""
    os.makedirs(directory, exist_ok=True)
    crt = os.path.join(directory, "tls.crt")
    key = os.path.join(directory, "tls.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", crt, "-days", str(days), "-subj", "/CN=" + cn,
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    return crt, key


def make_rsa_cert(directory, cn="localhost", days=2):
    """A self-signed RSA-2048 certificate (RSA certificates allow RSA key transport and DHE,
    which the server must refuse by policy, not for want of a fitting key)."""
    os.makedirs(directory, exist_ok=True)
    crt = os.path.join(directory, "tls.crt")
    key = os.path.join(directory, "tls.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
         "-days", str(days), "-subj", "/CN=" + cn,
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return crt, key


def fingerprint_file(crt):
    out = subprocess.run(["openssl", "x509", "-in", crt, "-outform", "DER"], check=True,
                         stdout=subprocess.PIPE, timeout=30).stdout
    return hashlib.sha256(out).hexdigest()


class K8sVolume:
    """A directory laid out like a Kubernetes Secret/ConfigMap volume: files are symlinks
    through "..data", which points at a timestamped directory and is swapped atomically."""

    def __init__(self, root):
        self.root = root
        self.gen = 0
        os.makedirs(root, exist_ok=True)

    def publish(self, files):
        """files: {name: bytes}. Writes a new generation and swaps ..data to it."""
        self.gen += 1
        gen_dir = "..2026_%04d" % self.gen
        os.makedirs(os.path.join(self.root, gen_dir))
        for name, data in files.items():
            with open(os.path.join(self.root, gen_dir, name), "wb") as f:
                f.write(data)
        tmp = os.path.join(self.root, "..data_tmp")
        os.symlink(gen_dir, tmp)
        os.rename(tmp, os.path.join(self.root, "..data"))
        for name in files:
            link = os.path.join(self.root, name)
            if not os.path.islink(link):
                os.symlink(os.path.join("..data", name), link)

    def path(self, name):
        return os.path.join(self.root, name)


class Server:
    """The real binary, started on 127.0.0.1 with port 0; the port is read from its
    "listening" log line. It stops at once on SIGTERM (--shutdown-delay 0s) unless extra
    sets a delay."""

    def __init__(self, crt, key, extra=(), env=None, log_dir=None):
        self.log_path = os.path.join(log_dir or tmpdir(), "server.log")
        self.log = open(self.log_path, "wb")
        full_env = dict(os.environ)
        full_env.pop("POD_NAMESPACE", None)
        full_env.update(env or {})
        args = [BIN, "serve", "--listen", "127.0.0.1:0", "--tls-cert", crt, "--tls-key", key]
        args += list(extra)
        if "--shutdown-delay" not in args:
            args += SHUTDOWN_DELAY_ARGS
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log,
                                     env=full_env)
        _procs.append(self.proc)
        self.crt = crt
        self.port = None
        deadline = time.time() + 15
        while time.time() < deadline:
            for line in self.lines():
                if line.get("msg") == "listening":
                    self.port = line["port"]
                    return
            if self.proc.poll() is not None:
                raise AssertionError("server exited with %s:\n%s" % (self.proc.returncode,
                                                                     self.log_text()))
            time.sleep(0.05)
        raise AssertionError("server did not start:\n" + self.log_text())

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def lines(self):
        out = []
        for raw in self.log_text().splitlines():
            try:
                out.append(json.loads(raw))
            except ValueError:
                raise AssertionError("log line is not JSON: %r" % raw)
        return out

    def conn(self, timeout=10):
        return https_conn(self.port, timeout)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("server did not stop within %ss" % timeout)
        self.log.close()
        return rc

    def metrics(self):
        c = self.conn()
        c.request("GET", "/metrics")
        r = c.getresponse()
        text = r.read().decode()
        c.close()
        assert r.status == 200, r.status
        return parse_metrics(text)

    def wait_log(self, pred, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.lines():
                if pred(line):
                    return line
            time.sleep(0.05)
        raise AssertionError("log line not seen:\n" + self.log_text())


def client_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # rotation tests change the certificate under the client
    return ctx


def https_conn(port, timeout=10):
    return http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                       context=client_context())


def post(conn, path, body, content_type="application/json", headers=None):
    h = {"Content-Type": content_type} if content_type else {}
    h.update(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    conn.request("POST", path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    return r, data


def peer_fingerprint(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with client_context().wrap_socket(raw) as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


METRIC_LINE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? (-?[0-9.eE+-]+|\+Inf|NaN)$')


def parse_metrics(text):
    """Parses the Prometheus text format strictly; returns {(name, labels-tuple): value}."""
    assert text.endswith("\n"), "metrics text must end with a newline"
    out = {}
    types = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            assert typ in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types, "TYPE twice for " + name
            types[name] = typ
            continue
        m = METRIC_LINE.match(line)
        assert m, "bad metrics line: %r" % line
        labels = tuple(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"',
                                  m.group(3) or ""))
        key = (m.group(1), labels)
        assert key not in out, "duplicate series %r" % (key,)
        out[key] = float(m.group(4))
        base = re.sub(r"_(bucket|sum|count|total)$", "", m.group(1))
        assert m.group(1) in types or base in types, "series without TYPE: " + line
    return out


def metric(metrics, name, **labels):
    want = tuple(sorted(labels.items()))
    total = 0.0
    for (n, lbl), v in metrics.items():
        if n == name and all(item in lbl for item in want):
            total += v
    return total


# ---- AdmissionReviews ----

SAMPLE_VARS = {"OAI_NAME": "fraud-detection", "OAI_NS": "fraud-detection",
               "CLUSTER_ID": "abc123", "ARO_REGION": "eastus"}


def load_sample(name, kind):
    with open(os.path.join(SHARED, "samples", name)) as f:
        text = f.read()
    text = re.sub(r"\$\{([A-Z_]+)\}", lambda m: SAMPLE_VARS.get(m.group(1), "x"), text)
    for doc in yaml.safe_load_all(text):
        if doc and doc.get("kind") == kind:
            return doc
    raise AssertionError("no %s in %s" % (kind, name))


def fraud_pod():
    """The fraud-detection Pod as a user would write it before CoCo: no runtime class, its
    storage a PVC, opted in by label."""
    pod = load_sample("workshop-fraud-encrypted-datasets-pod.yaml", "Pod")
    pod["spec"].pop("runtimeClassName", None)
    pod["metadata"]["labels"][LABEL] = "true"
    for v in pod["spec"]["volumes"]:
        if v["name"] == "repo-storage":
            v.pop("emptyDir", None)
            v["persistentVolumeClaim"] = {"claimName": "repo-pvc"}
    return pod


def fraud_notebook():
    nb = load_sample("workshop-fraud-detection-oai-notebook.yaml", "Notebook")
    nb["spec"]["template"]["spec"].pop("runtimeClassName", None)
    nb["metadata"]["labels"][LABEL] = "true"
    for v in nb["spec"]["template"]["spec"]["volumes"]:
        if v["name"] == "app-root":
            v.pop("emptyDir", None)
            v["persistentVolumeClaim"] = {"claimName": "fraud-detection"}
    return nb


def review(obj, operation="CREATE", old=None, namespace=None, uid=None, dry_run=False):
    api = obj.get("apiVersion", "v1")
    group, _, version = api.rpartition("/")
    ns = namespace if namespace is not None else obj.get("metadata", {}).get("namespace", "")
    plural = {"Pod": "pods", "Notebook": "notebooks"}.get(obj.get("kind"), "things")
    req = {
        "uid": uid or str(uuid.uuid4()),
        "kind": {"group": group, "version": version, "kind": obj.get("kind")},
        "resource": {"group": group, "version": version, "resource": plural},
        "requestKind": {"group": group, "version": version, "kind": obj.get("kind")},
        "requestResource": {"group": group, "version": version, "resource": plural},
        "name": obj.get("metadata", {}).get("name", ""),
        "namespace": ns,
        "operation": operation,
        "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters"]},
        "object": obj if operation in ("CREATE", "UPDATE") else None,
        "oldObject": old,
        "dryRun": dry_run,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    }
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}


def check_response(rev, status, body):
    """Checks the envelope of a 200 answer; returns the response object."""
    assert status == 200, (status, body)
    out = json.loads(body)
    assert out["apiVersion"] == "admission.k8s.io/v1" and out["kind"] == "AdmissionReview", out
    resp = out["response"]
    assert resp["uid"] == rev["request"]["uid"], (resp["uid"], rev["request"]["uid"])
    assert ("patch" in resp) == ("patchType" in resp), resp
    if "patch" in resp:
        assert resp["patchType"] == "JSONPatch", resp
    for w in resp.get("warnings", []):
        assert len(w) <= 120, w
    for k in resp.get("auditAnnotations", {}):
        assert re.match(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$", k) and len(k) <= 63, k
    return resp


def apply_patch(obj, resp):
    """Applies the answer's patch with python3-jsonpatch and, when built, the Go oracle
    (evanphx/json-patch, as the API server); both must agree. Returns the patched object."""
    import jsonpatch
    if "patch" not in resp:
        return copy.deepcopy(obj)
    ops = json.loads(base64.b64decode(resp["patch"], validate=True))
    assert isinstance(ops, list) and ops, ops
    # python3-jsonpatch inserts patch values by reference: give it its own copy of ops.
    result = jsonpatch.JsonPatch(copy.deepcopy(ops)).apply(copy.deepcopy(obj))
    oracle = os.path.join(BUILD, "oracle", "jsonpatch-apply")
    if os.access(oracle, os.X_OK):
        d = tmpdir()
        with open(os.path.join(d, "doc.json"), "w") as f:
            json.dump(obj, f)
        with open(os.path.join(d, "patch.json"), "w") as f:
            json.dump(ops, f)
        p = subprocess.run([oracle, os.path.join(d, "doc.json"), os.path.join(d, "patch.json")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout) == result, "oracle and python3-jsonpatch disagree"
    return result


def group_registry():
    """(groups, group): test functions by group name, and the decorator that files one."""
    groups = {}

    def group(name):
        def deco(fn):
            groups.setdefault(name, []).append(fn)
            return fn
        return deco
    return groups, group


def run_groups(script, groups):
    """The main of a grouped test script: runs the group named by the one argument, each
    function in turn, and returns the exit status (1 when any failed, 2 on a usage error)."""
    if len(sys.argv) != 2 or sys.argv[1] not in groups:
        print("usage: %s {%s}" % (script, ",".join(groups)), file=sys.stderr)
        return 2
    if not BIN:
        print("COCO_BIN is not set", file=sys.stderr)
        return 2
    failed = 0
    for fn in groups[sys.argv[1]]:
        t0 = time.time()
        try:
            fn()
            print("ok   %s (%.1fs)" % (fn.__name__, time.time() - t0), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % fn.__name__, flush=True)
            traceback.print_exc()
    return 1 if failed else 0


def start_clients(port, n_clients, per_client, errors, make, record, stop=None, new_conn_every=0,
                  path="/mutate"):
    """Starts n_clients threads, each posting reviews of make(k, i) on its own keep-alive
    connection: per_client of them (None: until stop is set), a new connection every
    new_conn_every requests (0: only after the server closes one). record(obj, resp) is called
    with each checked answer; what goes wrong is appended to errors. Returns the threads."""
    def worker(k):
        c = None
        for i in itertools.count() if per_client is None else range(per_client):
            if stop is not None and stop.is_set():
                break
            if c is None or (new_conn_every and i % new_conn_every == 0):
                if c is not None:
                    c.close()
                c = https_conn(port)
            obj = make(k, i)
            rev = review(obj, uid="c%d-%d-%s" % (k, i, uuid.uuid4()))
            try:
                r, body = post(c, path, rev)
                record(obj, check_response(rev, r.status, body))
                if r.getheader("Connection", "").lower() == "close":
                    c.close()
                    c = None
            except Exception as e:  # recorded, checked by the test
                errors.append("client %d request %d: %r" % (k, i, e))
                if c is not None:
                    c.close()
                c = None
        if c is not None:
            c.close()
    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(n_clients)]
    for t in threads:
        t.start()
    return threads
