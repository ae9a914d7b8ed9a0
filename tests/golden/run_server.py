#!/usr/bin/python3
"""The engine's golden cases (tests/golden/cases) through the real server over TLS.

Each case's objects are sent as AdmissionReviews (CREATE) to `coco-webhook serve` started
with the case's config: `--all` in the case's args selects /mutate-namespace, otherwise
/mutate; `-n NS` becomes request.namespace. For every object: the answer decodes, the uid
matches, the patch applied by python3-jsonpatch and by the API server's JSON Patch library
(the Go oracle) gives the expected object, the warnings are the expected ones; denied cases
answer allowed: false with the expected message. Objects the server would not be sent
(other kinds) are checked to come back unchanged.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "server"))
sys.path.insert(0, HERE)

import run as golden  # noqa: E402
import serverlib as sl  # noqa: E402


def case_args(d):
    path = os.path.join(d, "args")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [a.strip() for a in f if a.strip()]


def check_case(name, servers, certs):
    d = os.path.join(golden.CASES, name)
    inp = next(os.path.join(d, f) for f in ("input.yaml", "input.json")
               if os.path.exists(os.path.join(d, f)))
    args = case_args(d)
    path = "/mutate-namespace" if "--all" in args else "/mutate"
    namespace = args[args.index("-n") + 1] if "-n" in args else None
    cfg = os.path.join(d, "config.yaml")
    key = cfg if os.path.exists(cfg) else ""
    if key not in servers:
        servers[key] = sl.Server(*certs, extra=["--config", cfg] if key else [])
    server = servers[key]

    inputs = golden.objects_of(golden.oracle_read(inp))
    denied = os.path.join(d, "denied.txt")
    if os.path.exists(denied):
        with open(denied) as f:
            want_denial = f.read().strip()
        # The denial names the object in the CLI only; the server sends the reason.
        want_denial = want_denial.split(" denied: ", 1)[-1]
        messages = []
        for obj in inputs:
            rev = sl.review(obj, namespace=namespace)
            c = server.conn()
            r, body = sl.post(c, path, rev)
            status = r.status
            c.close()
            resp = sl.check_response(rev, status, body)
            if not resp["allowed"]:
                assert resp["status"]["code"] in (400, 403), resp
                messages.append(resp["status"]["message"])
        assert any(want_denial in m for m in messages), (want_denial, messages)
        return

    expected = golden.objects_of(golden.oracle_read(os.path.join(d, "expected.yaml")))
    want_warnings = []
    wfile = os.path.join(d, "warnings.txt")
    if os.path.exists(wfile):
        with open(wfile) as f:
            # "Warning: KIND NS/NAME: text" from the CLI; the server sends the text. The CLI
            # alone warns about a workload selected by its own label (SPEC §6): the server
            # sees its pods. The config's warnings ("Warning: config: ...") the server logs.
            want_warnings = [l.rstrip("\n").split(": ", 2)[2] for l in f
                             if l.strip() and "selected by its own label only" not in l
                             and not l.startswith("Warning: config: ")]
    warnings = []
    for obj, want in zip(inputs, expected):
        rev = sl.review(obj, namespace=namespace)
        c = server.conn()
        r, body = sl.post(c, path, rev)
        status = r.status
        c.close()
        resp = sl.check_response(rev, status, body)
        assert resp["allowed"], resp
        got = sl.apply_patch(obj, resp)
        assert got == want, "object %s/%s differs from expected" % (
            obj.get("kind"), obj.get("metadata", {}).get("name"))
        warnings += resp.get("warnings", [])
    assert warnings == want_warnings, (warnings, want_warnings)


def main():
    certs = sl.make_cert(sl.tmpdir())
    servers = {}
    passed = failed = 0
    try:
        for name in sorted(os.listdir(golden.CASES)):
            try:
                check_case(name, servers, certs)
                passed += 1
                print("ok   " + name)
            except Exception as e:  # one line per failing case, then the next
                failed += 1
                print("FAIL %s: %s" % (name, e))
    finally:
        for s in servers.values():
            rc = s.stop()
            if rc != 0:
                print("FAIL server exited with %d:\n%s" % (rc, s.log_text()))
                failed += 1
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
