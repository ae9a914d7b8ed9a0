"""Secret manifests from `seal vault --secret-name`: valid v1 Secrets (checked against the
Kubernetes OpenAPI schema), in YAML and JSON, with stringData or data."""
import sys

sys.dont_write_bytecode = True  # keep the source tree clean of __pycache__

import base64
import json
import os

import jsonschema
import yaml

from sealtest import *

with open(os.path.join(SHARED, "k8s", "api__v1_openapi.json")) as f:
    spec = json.load(f)
validator = jsonschema.Draft7Validator(
    {"$ref": "#/components/schemas/io.k8s.api.core.v1.Secret", "components": spec["components"]})

URI = "kbs:///default/fraud-dataset/dataset_key"
want = examples()[4]


def valid(doc, what):
    errors = [e.message for e in validator.iter_errors(doc)]
    check(not errors, f"{what} validates against the Secret schema {errors[:3]}")
    check(doc["apiVersion"] == "v1" and doc["kind"] == "Secret" and doc["type"] == "Opaque",
          f"{what} is a v1 Secret of type Opaque")


base = ["seal", "vault", "--resource-uri", URI, "--secret-name", "sealed-dataset-key", "--key", "key"]
out = expect_ok(base, "YAML manifest")
doc = yaml.safe_load(out)
valid(doc, "YAML manifest")
check(doc["metadata"] == {"name": "sealed-dataset-key"}, "name, no namespace")
check(doc["stringData"] == {"key": want}, "the sealed value under stringData.key")

out = expect_ok(base + ["-n", "fraud-detection", "-o", "yaml"], "YAML manifest with namespace")
doc = yaml.safe_load(out)
valid(doc, "YAML manifest with namespace")
check(doc["metadata"]["namespace"] == "fraud-detection", "namespace set")

out = expect_ok(base + ["-n", "default", "-o", "json"], "JSON manifest")
doc = json.loads(out)
valid(doc, "JSON manifest")
check(doc["stringData"]["key"] == want and doc["metadata"]["namespace"] == "default",
      "JSON manifest content")

out = expect_ok(base + ["--data"], "manifest with data")
doc = yaml.safe_load(out)
valid(doc, "manifest with data")
check(base64.b64decode(doc["data"]["key"]).decode() == want and "stringData" not in doc,
      "the sealed value base64-encoded under data.key")

# Keys that YAML would read as something else still come back as strings.
for key in ("true", "True", "1", "null", "on", "y", "a.b_c-d", "apiVersion"):
    out = expect_ok(["seal", "vault", "--resource-uri", URI, "--secret-name", "s", "--key", key],
                    f"key {key!r}")
    doc = yaml.safe_load(out)
    valid(doc, f"manifest with key {key!r}")
    check(list(doc["stringData"].keys()) == [key], f"key {key!r} stays a string")

# A signed value in a manifest.
tmp = tempdir()
expect_ok(["seal", "keygen", "--kid", "kbs:///default/signing-key/sealed-secret",
           "--out", os.path.join(tmp, "k")], "keygen")
out = expect_ok(base + ["--signing-key", os.path.join(tmp, "k", "private.jwk"), "-o", "json"],
                "signed value in a manifest")
doc = json.loads(out)
valid(doc, "signed manifest")
rc, iout, _ = run("seal", "inspect", doc["stringData"]["key"], "--public-key",
                  os.path.join(tmp, "k", "public.jwk"))
check(rc == 0 and "signature: valid" in iout, "the manifest's signed value verifies")

# Bad names and keys.
expect_fail(["seal", "vault", "--resource-uri", URI, "--secret-name", "Bad_Name", "--key", "k"],
            "upper case Secret name", contains="Secret name")
expect_fail(["seal", "vault", "--resource-uri", URI, "--secret-name", "s", "--key", "a/b"],
            "key with a slash", contains="Secret key")
# The API server's rule for data keys (IsConfigMapKey) also refuses a leading "..".
expect_fail(["seal", "vault", "--resource-uri", URI, "--secret-name", "s", "--key", "..k"],
            "key starting with ..", contains="Secret key")
expect_fail(["seal", "vault", "--resource-uri", URI, "--secret-name", "s", "--key", "k" * 254],
            "key of 254 characters", contains="at most 253")
expect_fail(["seal", "vault", "--resource-uri", URI, "--secret-name", "s", "--key", "k",
             "-n", "a.b"], "namespace with a dot", contains="namespace")
expect_fail(["seal", "vault", "--resource-uri", URI, "--secret-name", "s"],
            "--secret-name without --key", status=2)
expect_fail(["seal", "vault", "--resource-uri", URI, "--key", "k"],
            "--key without --secret-name", status=2)
expect_fail(["seal", "vault", "--resource-uri", URI, "--secret-name", "s", "--key", "k",
             "-o", "xml"], "bad --output", status=2)

finish()
