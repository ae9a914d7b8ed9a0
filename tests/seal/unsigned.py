"""Unsigned sealed secrets: the exact upstream strings, padded form, settings and annotations."""
import sys

sys.dont_write_bytecode = True  # keep the source tree clean of __pycache__

import base64
import json

from sealtest import *

ex = examples()
entry2 = ex[1]
entry4 = ex[3:5]  # the two computed fraud-detection strings

out = expect_ok(["seal", "vault", "--resource-uri", "kbs:///default/sealed-secret/test"], "entry 2")
check(out == entry2 + "\n", "entry 2 reproduced byte for byte")
out = expect_ok(["seal", "vault", "--resource-uri", "kbs:///default/sealed-secret/test",
                 "--provider", "kbs"], "entry 2 with --provider kbs")
check(out == entry2 + "\n", "entry 2 with --provider kbs reproduced")
for uri, want in zip(["kbs:///default/fraud-azure-sas/azure-sas",
                      "kbs:///default/fraud-dataset/dataset_key"], entry4):
    out = expect_ok(["seal", "vault", "--resource-uri", uri, "--provider", "kbs"], f"entry 4 {uri}")
    check(out == want + "\n", f"entry 4 {uri} reproduced byte for byte")

# --padded: padded standard base64 of the same JSON in the payload position.
out = expect_ok(["seal", "vault", "--resource-uri", "kbs:///default/fraud-dataset/dataset_key",
                 "--padded"], "padded form")
parts = out.strip().split(".")
check(len(parts) == 4 and parts[0] == "sealed" and parts[1] == "fakejwsheader"
      and parts[3] == "fakesignature", "padded form has the four parts")
payload = base64.b64decode(parts[2], validate=True)
check(len(parts[2]) % 4 == 0, "padded form is padded")
check(payload == b64url_decode(entry4[1].split(".")[2]), "padded form carries the same JSON")
rc, out, err = run("seal", "inspect", out.strip())
check(rc == 0 and "signature: none (unsigned)" in out, "inspect reads the padded form")

# Settings and annotations: objects, printed compact in the payload, key order kept.
out = expect_ok(["seal", "vault", "--resource-uri", "kbs:///r/t/g",
                 "--provider-settings", '{ "b": 1, "a": {"x": [1, 2]} }',
                 "--annotations", '{"k": "v"}'], "settings and annotations")
body = b64url_decode(out.strip().split(".")[2]).decode()
check(body == '{"version":"0.1.0","type":"vault","name":"kbs:///r/t/g","provider":"kbs",'
      '"provider_settings":{"b":1,"a":{"x":[1,2]}},"annotations":{"k":"v"}}',
      f"payload with settings and annotations is compact and ordered: {body}")
check("=" not in out, "base64url without padding")

# inspect of the unsigned examples.
for s in (entry2, *entry4):
    rc, out, err = run("seal", "inspect", s)
    check(rc == 0 and "signature: none (unsigned)" in out and '"provider":"kbs"' in out,
          "inspect of an unsigned example")
rc, out, err = run("seal", "inspect", "-", stdin=entry2 + "\n")
check(rc == 0 and "kbs:///default/sealed-secret/test" in out, "inspect reads standard input")
rc, out, err = run("seal", "inspect", "-o", "json", entry2)
doc = json.loads(out)
check(rc == 0 and doc["form"] == "unsigned" and doc["header"] is None
      and doc["payload"]["name"] == "kbs:///default/sealed-secret/test"
      and doc["signature"] == "none", "inspect -o json of the unsigned form")

finish()
