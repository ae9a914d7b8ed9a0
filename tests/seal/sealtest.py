"""Helpers shared by the seal test drivers: run coco-webhook, make keys, check results."""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ["COCO_BIN"]
SHARED = os.environ["COCO_SHARED"]
EXAMPLES = os.path.join(SHARED, "samples", "sealed-secret-examples.txt")

failures = []
_tempdirs = []


def run(*args, stdin=None):
    """Runs coco-webhook with args; returns (status, stdout, stderr)."""
    p = subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def check(cond, what):
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what}")
        failures.append(what)


def expect_ok(args, what, stdin=None):
    rc, out, err = run(*args, stdin=stdin)
    check(rc == 0, f"{what} (exit {rc}: {err.strip()})")
    return out


def expect_fail(args, what, status=1, contains=None, stdin=None):
    """The command must fail with status, print nothing on stdout, and one line on stderr."""
    rc, out, err = run(*args, stdin=stdin)
    lines = err.strip().splitlines()
    good = rc == status and len(lines) == 1 and out == ""
    if contains is not None:
        good = good and contains.lower() in err.lower()
    check(good, f"{what}: exit {rc}, stderr {err.strip()!r}")
    return err


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def examples():
    """The sealed strings of the examples file, in order (entry 1 first)."""
    with open(EXAMPLES) as f:
        return [l.strip() for l in f if l.startswith("sealed.")]


def tempdir():
    d = tempfile.mkdtemp(prefix="coco-seal-test-")
    _tempdirs.append(d)
    return d


def finish():
    for d in _tempdirs:
        shutil.rmtree(d, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("all checks passed")
