#!/usr/bin/python3
"""Golden cases of the mutation engine, through `coco-webhook mutate`.

Each folder under tests/golden/cases/ is one case:
  input.yaml | input.json   the manifests given to `mutate`
  args                      optional: extra arguments, one per line (e.g. --all, -n NS)
  config.yaml               optional: the webhook config
  *.toml                    optional: initdata documents the config names (relative paths
                            are read beside config.yaml)
  expected.yaml             the mutated manifests (every object, in order), or
  denied.txt                a text the denial message must contain (exit status 1)
  warnings.txt              optional: the expected warning lines (default: none)

For every case the runner checks, with independent parts:
  * `-o patch` gives one RFC 6902 patch per object; each is applied to the input object (read
    with kubectl's YAML rules by the sigs.k8s.io/yaml oracle) by the Go evanphx/json-patch
    oracle (the API server's library) and by python3-jsonpatch: both results equal the
    expected object;
  * `-o json` prints the expected objects; `-o yaml` read back by the oracle is the same;
  * mutating the output again yields only empty patches (idempotency, reinvocation);
  * mutated Pods validate against the Kubernetes v1.25 schema, Notebooks against their CRD.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

import jsonpatch
import jsonschema
import yaml

BIN = os.environ["COCO_BIN"]
SHARED = os.environ["COCO_SHARED"]
BUILD = os.environ["COCO_BUILD"]
HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "cases")
YAML2JSON = os.path.join(BUILD, "oracle", "yaml2json")
PATCH_APPLY = os.path.join(BUILD, "oracle", "jsonpatch-apply")

_schemas = {}


def pod_validator():
    if "pod" not in _schemas:
        with open(os.path.join(SHARED, "k8s", "api__v1_openapi.json")) as f:
            spec = json.load(f)
        _schemas["pod"] = jsonschema.Draft7Validator(
            {"$ref": "#/components/schemas/io.k8s.api.core.v1.Pod",
             "components": spec["components"]})
    return _schemas["pod"]


def notebook_validator(version):
    key = "nb-" + version
    if key not in _schemas:
        with open(os.path.join(SHARED, "samples", "kubeflow.org_notebooks.crd.yaml")) as f:
            crd = yaml.safe_load(f)
        for v in crd["spec"]["versions"]:
            _schemas["nb-" + v["name"]] = jsonschema.Draft7Validator(
                v["schema"]["openAPIV3Schema"])
    return _schemas[key]


def oracle_read(path):
    """The documents of a manifest file as kubectl reads them (one JSON per line)."""
    with open(path, "rb") as f:
        out = subprocess.run([YAML2JSON], stdin=f, capture_output=True, check=True)
    docs = [json.loads(line) for line in out.stdout.decode().splitlines() if line.strip()]
    return [d for d in docs if d is not None]


def objects_of(docs):
    """The objects the engine sees: List items expanded, in order."""
    objs = []
    for d in docs:
        if isinstance(d, dict) and str(d.get("kind", "")).endswith("List") \
                and isinstance(d.get("items"), list):
            objs.extend(i for i in d["items"] if isinstance(i, dict))
        elif isinstance(d, dict):
            objs.append(d)
    return objs


def json_stream(text):
    dec = json.JSONDecoder()
    i, out = 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        v, i = dec.raw_decode(text, i)
        out.append(v)


def run_mutate(case_dir, input_path, fmt, extra=()):
    args = [BIN, "mutate", "-f", input_path, "-o", fmt]
    cfg = os.path.join(case_dir, "config.yaml")
    if os.path.exists(cfg):
        args += ["--config", cfg]
    argf = os.path.join(case_dir, "args")
    if os.path.exists(argf):
        with open(argf) as f:
            args += [a.strip() for a in f if a.strip()]
    args += list(extra)
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def go_apply(doc, patch, tmp):
    dp, pp = os.path.join(tmp, "doc.json"), os.path.join(tmp, "patch.json")
    with open(dp, "w") as f:
        json.dump(doc, f)
    with open(pp, "w") as f:
        json.dump(patch, f)
    out = subprocess.run([PATCH_APPLY, dp, pp], capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError("evanphx/json-patch rejects the patch: " + out.stderr.strip())
    return json.loads(out.stdout)


def validate(obj):
    kind, api = obj.get("kind"), obj.get("apiVersion", "")
    if kind == "Pod":
        errors = list(pod_validator().iter_errors(obj))
    elif kind == "Notebook" and api.startswith("kubeflow.org/"):
        errors = list(notebook_validator(api.split("/")[1]).iter_errors(obj))
    else:
        return
    if errors:
        raise AssertionError("schema: %s at %s" % (errors[0].message,
                                                  list(errors[0].absolute_path)))


def check_case(name):
    d = os.path.join(CASES, name)
    inp = next(os.path.join(d, f) for f in ("input.yaml", "input.json")
               if os.path.exists(os.path.join(d, f)))
    denied = os.path.join(d, "denied.txt")
    wfile = os.path.join(d, "warnings.txt")
    want_warnings = []
    if os.path.exists(wfile):
        with open(wfile) as f:
            want_warnings = [l.rstrip("\n") for l in f if l.strip()]

    if os.path.exists(denied):
        with open(denied) as f:
            want = f.read().strip()
        for fmt in ("yaml", "patch"):
            r = run_mutate(d, inp, fmt)
            assert r.returncode == 1, "expected exit 1, got %d" % r.returncode
            assert r.stdout == "", "a denied run printed output"
            assert want in r.stderr, "denial %r not in stderr %r" % (want, r.stderr)
        return

    r = run_mutate(d, inp, "patch")
    assert r.returncode == 0, "mutate failed: " + r.stderr
    patches = json_stream(r.stdout)
    warnings = [l for l in r.stderr.splitlines() if l.startswith("Warning: ")]
    assert warnings == want_warnings, "warnings:\n%s\nwanted:\n%s" % (
        "\n".join(warnings), "\n".join(want_warnings))
    assert r.stderr.strip() == "\n".join(warnings).strip(), "unexpected stderr: " + r.stderr

    inputs = objects_of(oracle_read(inp))
    expected = objects_of(oracle_read(os.path.join(d, "expected.yaml")))
    assert len(patches) == len(inputs) == len(expected), \
        "%d patches, %d input objects, %d expected" % (len(patches), len(inputs), len(expected))
    with tempfile.TemporaryDirectory() as tmp:
        for i, (obj, patch, want) in enumerate(zip(inputs, patches, expected)):
            for op in patch:
                assert op["op"] in ("add", "remove", "replace"), op
                assert op["path"] not in ("", "/metadata", "/spec"), \
                    "not a targeted operation: %s" % op["path"]
            # python3-jsonpatch inserts patch values by reference: give it its own copy.
            got_py = jsonpatch.apply_patch(obj, copy.deepcopy(patch))
            assert got_py == want, "object %d (python3-jsonpatch):\n%s" % (
                i, json.dumps(got_py, indent=1))
            got_go = go_apply(obj, patch, tmp)
            assert got_go == want, "object %d (evanphx/json-patch) differs" % i
            validate(got_go)

        r = run_mutate(d, inp, "json")
        assert r.returncode == 0, r.stderr
        printed = objects_of(json_stream(r.stdout))
        assert printed == expected, "-o json differs from expected:\n" + r.stdout

        r = run_mutate(d, inp, "yaml")
        assert r.returncode == 0, r.stderr
        out_yaml = os.path.join(tmp, "out.yaml")
        with open(out_yaml, "w") as f:
            f.write(r.stdout)
        assert objects_of(oracle_read(out_yaml)) == expected, "-o yaml reads back differently"

        r = run_mutate(d, out_yaml, "patch")
        assert r.returncode == 0, r.stderr
        again = json_stream(r.stdout)
        assert all(p == [] for p in again), "second pass not empty: %s" % again


def main():
    names = sorted(os.listdir(CASES))
    if len(sys.argv) > 1:
        names = [n for n in names if n in sys.argv[1:]]
    passed = failed = 0
    for name in names:
        try:
            check_case(name)
            passed += 1
            print("ok   " + name)
        except Exception as e:  # one line per failing case, then the next case
            failed += 1
            print("FAIL %s: %s" % (name, e))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
