"""post-reviews.py PORT N REVIEW [--initdata-ops K]: posts the AdmissionReview in REVIEW to
https://127.0.0.1:PORT/mutate N times on one keep-alive connection (another when the server
asks to close one, as it does every 1,000 answers); every answer must be 200.
With --initdata-ops, the last patch must hold K operations setting the initdata annotation."""
import argparse
import base64
import http.client
import json
import ssl

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("n", type=int)
ap.add_argument("review")
ap.add_argument("--initdata-ops", type=int)
args = ap.parse_args()
body = open(args.review, "rb").read()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
c = http.client.HTTPSConnection("127.0.0.1", args.port, context=ctx, timeout=60)
data = b""
for _ in range(args.n):
    c.request("POST", "/mutate", body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    assert r.status == 200, r.status
c.close()
if args.initdata_ops is not None:
    patch = json.loads(base64.b64decode(json.loads(data)["response"]["patch"]))
    found = sum(1 for op in patch if "cc_init_data" in json.dumps(op))
    assert found == args.initdata_ops, patch
