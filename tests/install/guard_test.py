#!/usr/bin/python3
"""The guard's manifests (SPEC §7, component guard):
  * manifests/components/guard/guard.yaml is exactly what `coco-webhook guard` prints for the
    base config (manifests/base/config.yaml), so the two cannot drift;
  * the objects `coco-webhook guard` prints (base config, tests/guard/two-classes, --actions
    warn, --namespace) validate against the Kubernetes v1.33 OpenAPI schemas of
    admissionregistration.k8s.io/v1 (unknown fields included) and the API server's rules the
    schema does not carry (names, validationActions, expression sizes);
  * `kubectl kustomize` renders every overlay with the component, the guard's objects in it
    unchanged; every overlay's kustomization names the component;
  * the command's contract: --help, usage errors (exit 2), a config that does not load and a
    document too large for the API server's CEL parser (exit 1), the same output every run.
The CEL expressions themselves are checked by tests/guard/guard_test.mjs.

Environment: COCO_BIN, COCO_SHARED, COCO_SRC, COCO_KUBECTL (see tests/CMakeLists.txt)."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import jsonschema
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from manifests_test import render_self_managed, unknown_fields  # noqa: E402
import manifests_test  # noqa: E402

BIN = os.environ["COCO_BIN"]
SHARED = os.environ["COCO_SHARED"]
SRC = os.environ["COCO_SRC"]
SCHEMA = os.path.join(SHARED, "k8s", "v1.33", "apis__admissionregistration.k8s.io__v1_openapi.json")
COMPONENT = os.path.join(SRC, "manifests", "components", "guard")
BASE_CONFIG = os.path.join(SRC, "manifests", "base", "config.yaml")
TWO_CLASSES = os.path.join(SRC, "tests", "guard", "two-classes", "config.yaml")
KINDS = {"ValidatingAdmissionPolicy": "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy",
         "ValidatingAdmissionPolicyBinding":
             "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding"}
QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
CEL_IDENT = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
EXPRESSION_CODE_POINTS_MAX = 100000  # cel-go's parser default, which Kubernetes keeps

failures = []
passed = 0


def check(cond, where, msg):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(f"{where}: {msg}")
    return cond


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def guard(*args):
    r = run([BIN, "guard", *args])
    if r.returncode != 0:
        raise RuntimeError(f"coco-webhook guard {' '.join(args)}: {r.stderr}")
    return r.stdout


_schema = {}


def validator(kind):
    if not _schema:
        with open(SCHEMA) as f:
            _schema["doc"] = json.load(f)
    components = _schema["doc"]["components"]
    return jsonschema.Draft7Validator({"$ref": "#/components/schemas/" + KINDS[kind],
                                       "components": components}), components


def validate(obj, where):
    kind = obj.get("kind")
    if not check(obj.get("apiVersion") == "admissionregistration.k8s.io/v1" and kind in KINDS,
                 where, f"unexpected object {obj.get('apiVersion')} {kind}"):
        return
    v, components = validator(kind)
    errors = sorted(v.iter_errors(obj), key=lambda e: list(e.absolute_path))
    for e in errors:
        check(False, where, f"schema: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}")
    extra = unknown_fields(obj, {"$ref": "#/components/schemas/" + KINDS[kind]}, components, "")
    for field in extra:
        check(False, where, f"schema: unknown field {field}")
    check(not errors and not extra, where, "valid against the v1.33 schema")
    spec = obj["spec"]
    # What the API server checks beyond the schema (apis/admissionregistration validation).
    if kind == "ValidatingAdmissionPolicy":
        conds = spec.get("matchConditions", [])
        check(len(conds) <= 64, where, "at most 64 matchConditions")
        exprs = [c["expression"] for c in conds]
        for c in conds:
            check(QUALIFIED_NAME.fullmatch(c["name"]), where, f"matchCondition name {c['name']}")
        names = [x["name"] for x in spec.get("variables", [])]
        check(len(names) == len(set(names)), where, "variable names are unique")
        for x in spec.get("variables", []):
            check(CEL_IDENT.fullmatch(x["name"]), where, f"variable name {x['name']}")
            exprs.append(x["expression"])
        for val in spec.get("validations", []):
            exprs += [val["expression"], val["messageExpression"]]
            check("\n" not in val.get("message", ""), where, "a message has no line breaks")
            check(val.get("reason") in ("Unauthorized", "Forbidden", "Invalid",
                                        "RequestEntityTooLarge"), where, "reason")
        for e in exprs:
            check(isinstance(e, str) and 0 < len(e) <= EXPRESSION_CODE_POINTS_MAX, where,
                  f"expression of {len(e)} code points")
        check(spec.get("failurePolicy") == "Fail", where, "failurePolicy Fail")
        check(not spec.get("paramKind"), where, "no parameters: the values are in the expressions")
    else:
        actions = spec.get("validationActions", [])
        check(actions in (["Deny"], ["Warn", "Audit"]), where, f"validationActions {actions}")
        check(spec.get("policyName") == "coco-webhook-guard", where, "policyName")


def docs_of(text):
    return [d for d in yaml.safe_load_all(text) if d is not None]


def check_component():
    with open(os.path.join(COMPONENT, "guard.yaml")) as f:
        committed = f.read()
    fresh = guard("--config", BASE_CONFIG)
    check(committed == fresh, "manifests/components/guard/guard.yaml",
          "differs from `coco-webhook guard --config manifests/base/config.yaml`: render it "
          "again (coco-webhook guard --config manifests/base/config.yaml > "
          "manifests/components/guard/guard.yaml)")
    check(fresh == guard("--config", BASE_CONFIG), "guard", "two runs print the same")
    with open(os.path.join(COMPONENT, "kustomization.yaml")) as f:
        k = yaml.safe_load(f)
    check(k.get("kind") == "Component" and k.get("apiVersion") ==
          "kustomize.config.k8s.io/v1alpha1" and k.get("resources") == ["guard.yaml"],
          "components/guard", "a kustomize Component (v1alpha1) of guard.yaml")
    return docs_of(committed)


def check_outputs():
    variants = {
        "base": ["--config", BASE_CONFIG],
        "defaults": [],
        "two-classes": ["--config", TWO_CLASSES],
        "warn": ["--config", BASE_CONFIG, "--actions", "warn"],
        "no own namespace": ["--config", BASE_CONFIG, "--namespace", ""],
        "other namespace": ["-c", TWO_CLASSES, "-n", "coco", "--actions=deny"],
    }
    outputs = {}
    for name, args in variants.items():
        docs = docs_of(guard(*args))
        outputs[name] = docs
        check([d["kind"] for d in docs] == list(KINDS), name, "a policy, then its binding")
        for d in docs:
            validate(d, f"{name} {d['kind']}")
    check(outputs["defaults"] == outputs["base"], "defaults", "the base config is the defaults")
    check(outputs["warn"][1]["spec"]["validationActions"] == ["Warn", "Audit"], "warn",
          "--actions warn binds [Warn, Audit]")
    check(outputs["warn"][0] == outputs["base"][0], "warn", "the same policy")
    first = outputs["base"][0]["spec"]["matchConditions"][0]["expression"]
    check("'coco-webhook'" in first, "base", "the webhook's namespace is left alone")
    check("'coco-webhook'" not in outputs["no own namespace"][0]["spec"]["matchConditions"][0]
          ["expression"], "--namespace ''", "no namespace added")
    check("'coco'" in outputs["other namespace"][0]["spec"]["matchConditions"][0]["expression"],
          "--namespace coco", "that namespace is left alone")
    two = outputs["two-classes"][0]["spec"]
    check(len(two["validations"]) == 2 and
          any(v["name"] == "initdataEnforced" for v in two["variables"]), "two-classes",
          "runtime class and initdata rules, no volume rule (replacePersistentVolumes false)")


def check_cli():
    r = run([BIN, "guard", "--help"])
    check(r.returncode == 0 and "Usage: coco-webhook guard" in r.stdout, "guard --help",
          f"exit {r.returncode}")
    r = run([BIN, "--help"])
    check(re.search(r"^\s+guard\s", r.stdout, re.M), "coco-webhook --help", "lists guard")
    for args, text in ((["--actions", "audit"], "unknown actions"),
                       (["extra"], "unexpected argument"), (["--bogus"], "--bogus")):
        r = run([BIN, "guard", *args])
        check(r.returncode == 2 and text in r.stderr and r.stdout == "", f"guard {args}",
              f"exit {r.returncode}, stderr {r.stderr.strip()!r}")
    with tempfile.TemporaryDirectory() as tmp:
        missing = os.path.join(tmp, "missing.yaml")
        r = run([BIN, "guard", "--config", missing])
        check(r.returncode == 1 and "missing.yaml" in r.stderr and r.stdout == "",
              "guard --config missing", f"exit {r.returncode}: {r.stderr.strip()}")
        # A document whose annotation value is longer than one CEL expression may be: refused
        # with a message that names it, nothing printed.
        big = os.path.join(tmp, "big.toml")
        with open(big, "wb") as f:
            f.write(b'version = "0.1.0"\nalgorithm = "sha256"\n\n[data]\n"policy.rego" = """\n')
            # Hex of hashes: about half compresses away, so the value is near 115 KB.
            f.write("".join(hashlib.sha256(str(i).encode()).hexdigest()
                            for i in range(2300)).encode() + b'\n"""\n')
        cfg = os.path.join(tmp, "config.yaml")
        with open(cfg, "w") as f:
            f.write("initdata:\n  documents: {big: big.toml}\n"
                    "  namespaces: {ns: {document: big, enforce: true}}\n")
        r = run([BIN, "guard", "--config", cfg])
        check(r.returncode == 1 and 'initdata document "big"' in r.stderr and r.stdout == "",
              "guard with a 100 KB document", f"exit {r.returncode}: {r.stderr.strip()[:300]}")
        # Classes listed twice are written once: a CEL map literal refuses repeated keys.
        with open(cfg, "w") as f:
            f.write("runtimeClass:\n  allowed: [kata-qemu-snp, kata-remote, kata-qemu-snp]\n"
                    "  runtimes: {kata-qemu-snp: {type: bare-metal, kata: '3.19'}}\n"
                    "initdata:\n  documents: {big: big.toml}\n  namespaces: {ns: big}\n"
                    "  default: big\n")
        with open(big, "w") as f:
            f.write('version = "0.1.0"\nalgorithm = "sha256"\n[data]\n"policy.rego" = "x"\n')
        r = run([BIN, "guard", "--config", cfg])
        if check(r.returncode == 0, "guard with classes listed twice", r.stderr.strip()[:300]):
            variables = {v["name"]: v["expression"]
                         for v in docs_of(r.stdout)[0]["spec"].get("variables", [])}
            check("initdataKey" not in variables, "guard with no enforced document",
                  "no initdata rule where no namespace enforces a document")
            check(r.stdout.count("'kata-qemu-snp'") == 1, "guard with classes listed twice",
                  "the allowed list names each class once")
        with open(cfg, "w") as f:
            f.write("runtimeClass:\n  allowed: [kata-qemu-snp, kata-remote, kata-qemu-snp]\n"
                    "  runtimes: {kata-qemu-snp: {type: bare-metal, kata: '3.19'}}\n"
                    "initdata:\n  documents: {big: big.toml}\n"
                    "  namespaces: {ns: {document: big, enforce: true}}\n")
        r = run([BIN, "guard", "--config", cfg])
        if check(r.returncode == 0, "guard with classes listed twice", r.stderr.strip()[:300]):
            key = {v["name"]: v["expression"]
                   for v in docs_of(r.stdout)[0]["spec"]["variables"]}["initdataKey"]
            check(key.count("'kata-qemu-snp':") == 2 and key.count("'kata-remote':") == 2, "guard "
                  "with classes listed twice", f"each class once in the key map (twice written): {key}")
        with open(big, "wb") as f:
            f.write(b'version = "0.1.0"\nalgorithm = "sha256"\n\n[data]\n"policy.rego" = """\n')
            f.write("".join(hashlib.sha256(str(i).encode()).hexdigest()
                            for i in range(2300)).encode() + b'\n"""\n')
        with open(cfg, "w") as f:
            f.write("initdata:\n  documents: {big: big.toml}\n  namespaces: {ns: big}\n")
        r = run([BIN, "guard", "--config", cfg])
        check(r.returncode == 0, "guard with a large document not enforced",
              f"exit {r.returncode}: {r.stderr.strip()[:300]}")


def render_with_component(tmp, overlay):
    """An overlay of the user's own: the given overlay plus the guard component."""
    work = os.path.join(tmp, "manifests")
    if not os.path.exists(work):
        shutil.copytree(os.path.join(SRC, "manifests"), work,
                        ignore=shutil.ignore_patterns("tls-secret.yaml", "cabundle-patch.yaml"))
    mine = os.path.join(work, "overlays", "guard-" + overlay)
    os.makedirs(mine, exist_ok=True)
    with open(os.path.join(mine, "kustomization.yaml"), "w") as f:
        f.write("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                f"resources:\n  - ../{overlay}\ncomponents:\n  - ../../components/guard\n")
    r = run([manifests_test.KUBECTL, "kustomize", mine])
    if not check(r.returncode == 0, f"overlays/{overlay} + guard", r.stderr.strip()[:300]):
        return []
    return docs_of(r.stdout)


def check_overlays(component_docs):
    with tempfile.TemporaryDirectory() as tmp:
        # self-managed needs its generated files: the certs command writes them into a copy.
        _, _ = render_self_managed(tmp)
        for overlay in ("openshift", "cert-manager", "self-managed"):
            where = f"overlays/{overlay} + guard"
            objs = render_with_component(tmp, overlay)
            guard_objs = [o for o in objs if o.get("kind") in KINDS]
            check(guard_objs == component_docs, where,
                  "the guard's objects, exactly as the component holds them")
            check(any(o.get("kind") == "MutatingWebhookConfiguration" for o in objs), where,
                  "the install is there too")
            with open(os.path.join(SRC, "manifests", "overlays", overlay,
                                   "kustomization.yaml")) as f:
                text = f.read()
            check("components/guard" in text, f"overlays/{overlay}/kustomization.yaml",
                  "says how to add the guard component")
    check(manifests_test.failures == [], "manifests_test helpers", manifests_test.failures)


def main():
    for step in (check_cli, check_outputs):
        try:
            step()
        except Exception as e:  # a failed command: report it with the rest
            failures.append(f"{step.__name__}: {e}")
    try:
        check_overlays(check_component())
    except Exception as e:
        failures.append(f"component: {e}")
    for f in failures:
        print(f"FAIL {f}")
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
