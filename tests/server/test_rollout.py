"""Rollouts under load: zero failed admissions (SPEC §4).

Usage: test_rollout.py GROUP APICLIENT   (rollout)

A client that calls the webhook as the API server does (apiclient/main.go: Go's net/http
with a keep-alive pool, several goroutines, never retrying, each new connection sent to one
of the current endpoints as kube-proxy does) loads two instances of the real binary while
they are replaced one after the other, as a Deployment's rolling update does: the new
instance is started and added to the endpoints once ready, the old one gets SIGTERM and is
removed from the endpoints 1.2 s later (endpoint propagation), then exits on
its own. Every request must be answered 200; the same with the serving certificate rotated
(a new one from the same CA, swapped by symlink as Secret volumes are) in the middle."""
import json
import os
import signal
import subprocess
import sys
import time

import serverlib
from serverlib import K8sVolume, Server, fraud_pod, group_registry, review, tmpdir

GROUPS, group = group_registry()
APICLIENT = ""
SHUTDOWN_DELAY = "2500ms"
PROPAGATION_S = 1.2  # SIGTERM to the endpoint's removal


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=30)


class CA:
    """A CA (the webhook configuration's caBundle) and serving certificates it signs."""

    def __init__(self, d):
        self.d = d
        self.key = os.path.join(d, "ca.key")
        self.crt = os.path.join(d, "ca.crt")
        self.n = 0
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", self.key, "-out", self.crt, "-days", "2", "-subj", "/CN=test-ca")

    def issue(self):
        """Returns {"tls.crt": bytes, "tls.key": bytes} of a new serving certificate."""
        self.n += 1
        base = os.path.join(self.d, "leaf%d" % self.n)
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", base + ".key", "-out", base + ".csr", "-subj", "/CN=localhost")
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", base + ".csr", "-CA", self.crt, "-CAkey", self.key,
                "-CAcreateserial", "-out", base + ".crt", "-days", "2", "-extfile", ext)
        with open(base + ".crt", "rb") as c, open(base + ".key", "rb") as k:
            return {"tls.crt": c.read(), "tls.key": k.read()}


class Cluster:
    """Instances, each with its Secret-like certificate volume, and the endpoints file."""

    def __init__(self, ca):
        self.ca = ca
        self.d = tmpdir()
        self.endpoints = os.path.join(self.d, "endpoints")
        self.cert = ca.issue()
        self.live = []  # (server, volume)
        self.n = 0
        self.write_endpoints()

    def write_endpoints(self):
        tmp = self.endpoints + ".tmp"
        with open(tmp, "w") as f:
            for srv, _ in self.live:
                f.write("127.0.0.1:%d\n" % srv.port)
        os.rename(tmp, self.endpoints)

    def start(self):
        self.n += 1
        vol = K8sVolume(os.path.join(self.d, "tls%d" % self.n))
        vol.publish(self.cert)
        srv = Server(vol.path("tls.crt"), vol.path("tls.key"),
                     extra=["--shutdown-delay", SHUTDOWN_DELAY])
        c = srv.conn()
        c.request("GET", "/readyz")
        r = c.getresponse()
        r.read()
        c.close()
        assert r.status == 200, r.status
        self.live.append((srv, vol))
        self.write_endpoints()  # ready: the endpoint is added
        return srv

    def replace_oldest(self):
        """A rolling update's step: a new instance, then the oldest one terminated."""
        self.start()
        old, _ = self.live[0]
        old.signal(signal.SIGTERM)
        time.sleep(PROPAGATION_S)
        self.live.pop(0)
        self.write_endpoints()
        assert old.proc.wait(timeout=60) == 0
        lines = old.lines()
        assert any(x.get("msg") == "stopped" and x.get("drained") for x in lines), \
            old.log_text()[-2000:]

    def rotate(self):
        self.cert = self.ca.issue()
        for _, vol in self.live:
            vol.publish(self.cert)


def run_rollout(rotate):
    ca = CA(tmpdir())
    cluster = Cluster(ca)
    cluster.start()
    cluster.start()
    d = tmpdir()
    rev_path = os.path.join(d, "review.json")
    with open(rev_path, "w") as f:
        json.dump(review(fraud_pod()), f)
    stop = os.path.join(d, "stop")
    client = subprocess.Popen(
        [APICLIENT, "-endpoints", cluster.endpoints, "-ca", ca.crt, "-review", rev_path,
         "-stop", stop, "-workers", "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    serverlib._procs.append(client)
    try:
        time.sleep(0.5)
        cluster.replace_oldest()
        if rotate:
            cluster.rotate()
            time.sleep(RELOAD_WAIT_S)
        cluster.replace_oldest()
        time.sleep(0.5)
    finally:
        open(stop, "w").close()
    out, err = client.communicate(timeout=60)
    assert client.returncode == 0, err.decode()[-2000:]
    summary = json.loads(out)
    print("  %s" % json.dumps({k: summary[k] for k in ("ok", "failed", "dials", "max_ms")}))
    assert summary["failed"] == 0, summary["errors"]
    assert summary["ok"] >= 50, summary
    for srv, _ in cluster.live:
        assert srv.stop() == 0


@group("rollout")
def test_a_replica_started_later_gets_its_share():
    """The client's connections are kept alive: without recycling a replica that starts next
    to a busy one gets no request until those connections close. The server closes each
    after SERVER_RECYCLE_ANSWERS answers (Connection: close), and the client re-dials through
    the endpoints, without a failed request."""
    ca = CA(tmpdir())
    cluster = Cluster(ca)
    first = cluster.start()
    d = tmpdir()
    rev_path = os.path.join(d, "review.json")
    with open(rev_path, "w") as f:
        json.dump(review(fraud_pod()), f)
    stop = os.path.join(d, "stop")
    status = os.path.join(d, "status")
    client = subprocess.Popen(
        [APICLIENT, "-endpoints", cluster.endpoints, "-ca", ca.crt, "-review", rev_path,
         "-stop", stop, "-workers", "4", "-pause", "0s", "-status", status],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    serverlib._procs.append(client)

    def second_share():
        try:
            with open(status) as f:
                so_far = json.load(f)
        except (OSError, ValueError):
            return 0, 0
        n = sum(v for k, v in (so_far["per_target"] or {}).items()
                if k.endswith(":%d" % second.port))
        return n, so_far["ok"]
    try:
        time.sleep(0.5)
        second = cluster.start()
        # Until the second replica has a tenth of the requests (each connection recycles
        # after SERVER_RECYCLE_ANSWERS answers: a few seconds here, longer on a loaded machine).
        deadline = time.time() + 60
        while time.time() < deadline:
            n, ok = second_share()
            if ok >= 2000 and n >= ok // 10:
                break
            time.sleep(0.2)
    finally:
        open(stop, "w").close()
    out, err = client.communicate(timeout=60)
    assert client.returncode == 0, err.decode()[-2000:]
    summary = json.loads(out)
    per = {}
    for addr, n in summary["per_target"].items():
        port = int(addr.rsplit(":", 1)[1])
        per[port] = per.get(port, 0) + n
    print("  %s" % json.dumps({"ok": summary["ok"], "failed": summary["failed"],
                               "dials": summary["dials"], "first": per.get(first.port, 0),
                               "second": per.get(second.port, 0)}))
    assert summary["failed"] == 0, summary["errors"]
    assert per.get(second.port, 0) >= summary["ok"] // 10, per
    for srv, _ in cluster.live:
        assert srv.stop() == 0


RELOAD_WAIT_S = 2.5  # the server re-reads changed files within about a second


@group("rollout")
def test_rolling_replacement_under_load():
    run_rollout(rotate=False)


@group("rollout")
def test_rolling_replacement_with_certificate_rotation():
    run_rollout(rotate=True)


def main():
    global APICLIENT
    if len(sys.argv) == 3:
        APICLIENT = sys.argv.pop()
    return serverlib.run_groups("test_rollout.py", GROUPS)


if __name__ == "__main__":
    sys.exit(main())
