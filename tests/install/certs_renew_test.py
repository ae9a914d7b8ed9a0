#!/usr/bin/python3
"""`coco-webhook certs --renew` with the server running: a client that trusts only the CA
(as the API server trusts the caBundle) keeps succeeding across the renewal, and the server
serves the new certificate once it has reloaded it. The CA files and ca-bundle.b64 are
byte-for-byte unchanged; the new certificate is signed by the same CA; the overlay's Secret
gets the new pair and its caBundle patch stays the same. Flags that do not go with --renew,
and a directory without a CA, fail without writing anything.

Environment: COCO_BIN (see tests/CMakeLists.txt). Loopback only."""

import hashlib
import os
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
import serverlib  # noqa: E402

BIN = os.environ["COCO_BIN"]
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


def certs(*args):
    return subprocess.run([BIN, "certs", *args], capture_output=True, text=True, timeout=60)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def snapshot(directory):
    return {n: read(os.path.join(directory, n)) for n in sorted(os.listdir(directory))
            if os.path.isfile(os.path.join(directory, n))}


def der_sha256(pem_path):
    der = subprocess.run(["openssl", "x509", "-in", pem_path, "-outform", "DER"], check=True,
                         capture_output=True, timeout=30).stdout
    return hashlib.sha256(der).hexdigest()


def pinned_request(port, ca):
    """GET /readyz over a new connection verified with ca only (hostname 127.0.0.1).
    Returns (status, sha256 of the certificate served)."""
    ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            served = hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return status, served


def main():
    tmp = serverlib.tmpdir()
    d = os.path.join(tmp, "certs")
    overlay = os.path.join(tmp, "overlay")
    names = ["--service", "localhost", "--ip", "127.0.0.1"]
    r = certs("--out", d, "--overlay", overlay, *names)
    if not check(r.returncode == 0, f"certs: {r.stderr}"):
        return report()
    before = snapshot(d)
    overlay_before = snapshot(overlay)
    ca = os.path.join(d, "ca.crt")
    crt, key = os.path.join(d, "tls.crt"), os.path.join(d, "tls.key")
    old_fp = der_sha256(crt)

    # Refusals change nothing.
    for args, why in ((["--renew", "--force"], "--renew with --force"),
                      (["--renew", "--ca-days", "30"], "--renew with --ca-days"),
                      (["--renew", "--days", "36000"], "--renew beyond the CA's expiry")):
        r = certs("--out", d, *names, *args)
        check(r.returncode != 0 and r.stderr.strip(), f"{why}: exit {r.returncode}, no error")
        check(snapshot(d) == before, f"{why}: files changed")
    r = certs("--out", d, *names, "--renew", "--days", "36000")
    check("expires before" in r.stderr, f"renewal beyond the CA: {r.stderr.strip()}")
    r = certs("--out", os.path.join(tmp, "empty"), "--renew")
    check(r.returncode == 1 and "ca.crt" in r.stderr, f"renew without a CA: {r.stderr.strip()}")
    other = os.path.join(tmp, "other")
    check(certs("--out", other).returncode == 0, "certs (other)")
    mixed = os.path.join(tmp, "mixed")
    os.makedirs(mixed)
    with open(os.path.join(mixed, "ca.crt"), "wb") as f:
        f.write(read(ca))
    with open(os.path.join(mixed, "ca.key"), "wb") as f:
        f.write(read(os.path.join(other, "ca.key")))
    r = certs("--out", mixed, "--renew")
    check(r.returncode == 1 and "does not belong" in r.stderr,
          f"renew with another CA's key: {r.stderr.strip()}")
    check(not os.path.exists(os.path.join(mixed, "tls.crt")), "mismatched CA: tls.crt written")

    server = serverlib.Server(crt, key)
    status, served = pinned_request(server.port, ca)
    check(status == 200 and served == old_fp, f"before the renewal: {status}, {served}")

    r = certs("--out", d, "--overlay", overlay, *names, "--renew")
    check(r.returncode == 0, f"certs --renew: {r.stderr}")
    new_fp = der_sha256(crt)
    check(new_fp != old_fp, "--renew did not change tls.crt")
    after = snapshot(d)
    for name in ("ca.crt", "ca.key", "ca-bundle.b64"):
        check(after.get(name) == before[name], f"--renew changed {name}")
    check(after["tls.key"] != before["tls.key"], "--renew kept the old key")
    check(oct(os.stat(key).st_mode & 0o777) == "0o600", "tls.key is not mode 0600")
    v = subprocess.run(["openssl", "verify", "-CAfile", ca, crt], capture_output=True, text=True)
    check(v.returncode == 0, f"the new certificate does not verify with the CA: {v.stdout}")
    overlay_after = snapshot(overlay)
    check(overlay_after["cabundle-patch.yaml"] == overlay_before["cabundle-patch.yaml"],
          "--renew changed the caBundle patch")
    check(overlay_after["tls-secret.yaml"] != overlay_before["tls-secret.yaml"],
          "--renew did not rewrite the overlay's Secret")

    # The client pinned to the CA: every request succeeds until the new certificate is served
    # (the server checks its files every second; 30 s is a generous bound), and after.
    deadline = time.time() + 30
    seen_new, requests, errors = 0, 0, []
    while time.time() < deadline and seen_new < 5:
        try:
            status, served = pinned_request(server.port, ca)
            requests += 1
            if status != 200:
                errors.append(f"status {status}")
            if served == new_fp:
                seen_new += 1
            elif served != old_fp:
                errors.append(f"unknown certificate {served}")
        except (OSError, ssl.SSLError) as e:
            errors.append(repr(e))
        time.sleep(0.02)
    check(not errors, f"requests failed across the renewal: {errors[:5]} of {requests}")
    check(seen_new >= 5, f"the new certificate was not served within 30 s ({requests} requests)")
    check(server.stop() == 0, "server exit status")
    return report()


def report():
    if failures:
        print("\n".join(failures))
        print(f"{len(failures)} failure(s)")
        return 1
    print("certs --renew: same CA, new serving certificate served without a failed request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
