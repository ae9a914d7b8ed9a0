"""Signed sealed secrets: keygen, ES256 signing checked by independent verifiers (jwcrypto and
openssl dgst), tampering, inspect of the real upstream example, and round trips."""
import sys

sys.dont_write_bytecode = True  # keep the source tree clean of __pycache__

import json
import os
import stat
import subprocess

from jwcrypto import jwk, jws

from sealtest import *

KID = "kbs:///default/signing-key/sealed-secret"
URI = "kbs:///default/sealed-secret/test"
tmp = tempdir()
keys = os.path.join(tmp, "keys")
other = os.path.join(tmp, "other")

# keygen: files, modes, members.
out = expect_ok(["seal", "keygen", "--kid", KID, "--out", keys], "keygen")
priv_path, pub_path = os.path.join(keys, "private.jwk"), os.path.join(keys, "public.jwk")
check(sorted(os.listdir(keys)) == ["private.jwk", "public.jwk"], "keygen writes exactly two files")
check(stat.S_IMODE(os.stat(keys).st_mode) == 0o700, "key directory has mode 0700")
check(stat.S_IMODE(os.stat(priv_path).st_mode) == 0o600, "private.jwk has mode 0600")
check(stat.S_IMODE(os.stat(pub_path).st_mode) == 0o644, "public.jwk has mode 0644")
priv = json.load(open(priv_path))
pub = json.load(open(pub_path))
check(priv["kty"] == "EC" and priv["crv"] == "P-256" and priv["kid"] == KID and "d" in priv,
      "private.jwk is an EC P-256 private JWK with the kid")
check("d" not in pub and pub["x"] == priv["x"] and pub["y"] == priv["y"] and pub["kid"] == KID,
      "public.jwk is its public half")
check(priv["d"] not in out, "keygen does not print the private key")
pub_key = jwk.JWK.from_json(open(pub_path).read())
priv_key = jwk.JWK.from_json(open(priv_path).read())
check(priv_key.has_private and not pub_key.has_private, "jwcrypto reads both files")
expect_ok(["seal", "keygen", "--kid", "kbs:///default/signing-key/other", "--out", other],
          "second keygen")

# seal with the key: header, payload, signature.
rc, out, err = run("seal", "vault", "--resource-uri", URI, "--signing-key", priv_path)
check(rc == 0, f"signed seal ({err.strip()})")
check(priv["d"] not in out + err, "seal does not print the private key")
sealed = out.strip()
parts = sealed.split(".")
check(len(parts) == 4 and parts[0] == "sealed", "signed form has four parts")
header = b64url_decode(parts[1])
check(header == ('{"b64":true,"alg":"ES256","kid":"%s"}' % KID).encode(),
      f"header is upstream's form with the JWK's kid: {header}")
entry1 = examples()[0]
check(parts[1] == entry1.split(".")[1], "header part equals the real example's byte for byte")
check(parts[2] == entry1.split(".")[2], "payload part equals the real example's")
check(len(b64url_decode(parts[3])) == 64 and "=" not in sealed, "signature is 64 raw bytes, no padding")


def jwcrypto_verify(s, key):
    try:
        t = jws.JWS()
        t.deserialize(s[len("sealed."):])
        t.verify(key)
        return True
    except Exception:
        return False


def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b


def openssl_verify(s, pem_path):
    """openssl dgst -sha256 -verify over "<header>.<payload>" with r||s turned into DER."""
    p = s[len("sealed."):].split(".")
    raw = b64url_decode(p[2])
    if len(raw) != 64:
        return False
    body = der_int(raw[:32]) + der_int(raw[32:])
    with open(os.path.join(tmp, "sig.der"), "wb") as f:
        f.write(b"\x30" + bytes([len(body)]) + body)
    with open(os.path.join(tmp, "input"), "wb") as f:
        f.write((p[0] + "." + p[1]).encode())
    r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pem_path, "-signature",
                        os.path.join(tmp, "sig.der"), os.path.join(tmp, "input")],
                       capture_output=True)
    return r.returncode == 0


pem = os.path.join(tmp, "pub.pem")
with open(pem, "wb") as f:
    f.write(pub_key.export_to_pem())
check(jwcrypto_verify(sealed, pub_key), "jwcrypto verifies the signature")
check(openssl_verify(sealed, pem), "openssl dgst verifies the signature")


def tamper(s, part, pos):
    p = s.split(".")
    c = p[part][pos]
    p[part] = p[part][:pos] + ("B" if c == "A" else "A") + p[part][pos + 1:]
    return ".".join(p)


for what, bad in (("payload", tamper(sealed, 2, 20)), ("signature", tamper(sealed, 3, 10)),
                  ("header", tamper(sealed, 1, 30))):
    check(not jwcrypto_verify(bad, pub_key), f"jwcrypto refuses a changed {what}")
    check(not openssl_verify(bad, pem), f"openssl refuses a changed {what}")
    rc, out, err = run("seal", "inspect", bad, "--public-key", pub_path)
    check(rc != 0 and ("signature: INVALID" in out or "not" in err),
          f"inspect refuses a changed {what}: {rc} {err.strip()}")

# Round trips through inspect.
rc, out, err = run("seal", "inspect", sealed, "--public-key", pub_path)
check(rc == 0 and "signature: valid" in out, "inspect with the right key: valid")
rc, out, err = run("seal", "inspect", sealed, "--public-key", priv_path)
check(rc == 0 and "signature: valid" in out, "inspect with the private JWK: valid")
check(priv["d"] not in out + err, "inspect does not print the private key")
rc, out, err = run("seal", "inspect", sealed, "--public-key", os.path.join(other, "public.jwk"))
check(rc == 1 and "signature: INVALID" in out, "inspect with another key: INVALID, exit 1")
rc, out, err = run("seal", "inspect", "-o", "json", sealed, "--public-key", pub_path)
doc = json.loads(out)
check(rc == 0 and doc["signature"] == "valid" and doc["header"]["kid"] == KID
      and doc["payload"]["name"] == URI, "inspect -o json")

# --signing-kid overrides the JWK's kid; settings and annotations are signed too.
rc, out, err = run("seal", "vault", "--resource-uri", "kbs:///a/b/c", "--signing-key", priv_path,
                   "--signing-kid", "kbs:///x/y/z", "--annotations", '{"a":"b"}')
s2 = out.strip()
check(rc == 0 and json.loads(b64url_decode(s2.split(".")[1]))["kid"] == "kbs:///x/y/z",
      "--signing-kid sets the header kid")
check(jwcrypto_verify(s2, pub_key) and openssl_verify(s2, pem), "independent verifiers accept it")
check(json.loads(b64url_decode(s2.split(".")[2]))["annotations"] == {"a": "b"},
      "annotations in the signed payload")

# ECDSA signatures are randomised: two seals differ, both verify.
rc, out, err = run("seal", "vault", "--resource-uri", URI, "--signing-key", priv_path)
check(out.strip() != sealed and jwcrypto_verify(out.strip(), pub_key), "a second signature verifies")

# The other direction: a JWS made by jwcrypto with a jwcrypto key verifies in inspect.
k3 = jwk.JWK.generate(kty="EC", crv="P-256")
with open(os.path.join(tmp, "k3.jwk"), "w") as f:
    f.write(k3.export_public())
t = jws.JWS(b'{"version":"0.1.0","type":"vault","name":"kbs:///r/t/g","provider":"kbs",'
            b'"provider_settings":{},"annotations":{}}')
t.add_signature(k3, None, json.dumps({"alg": "ES256", "kid": "kbs:///r/t/k"}))
foreign = "sealed." + t.serialize(compact=True)
rc, out, err = run("seal", "inspect", foreign, "--public-key", os.path.join(tmp, "k3.jwk"))
check(rc == 0 and "signature: valid" in out, "inspect verifies a jwcrypto-made JWS")
rc, out, err = run("seal", "inspect", foreign, "--public-key", pub_path)
check(rc == 1 and "signature: INVALID" in out, "... and refuses it with another key")
# A key made by jwcrypto signs for us too.
with open(os.path.join(tmp, "k3-priv.jwk"), "w") as f:
    f.write(k3.export_private())
rc, out, err = run("seal", "vault", "--resource-uri", URI, "--signing-key",
                   os.path.join(tmp, "k3-priv.jwk"), "--signing-kid", "kbs:///r/t/k")
check(rc == 0 and jwcrypto_verify(out.strip(), k3), "a jwcrypto-made private JWK signs")

# The real signed example: decoded as documented in the examples file.
rc, out, err = run("seal", "inspect", entry1)
check(rc == 0, "inspect of the real signed example")
check('header: {"b64":true,"alg":"ES256","kid":"kbs:///default/signing-key/sealed-secret"}' in out,
      "entry 1 header decoded")
check('payload: {"version":"0.1.0","type":"vault","name":"kbs:///default/sealed-secret/test",'
      '"provider":"kbs","provider_settings":{},"annotations":{}}' in out, "entry 1 payload decoded")
check("signature: not checked" in out, "entry 1 signature not checked without a key")
rc, out, err = run("seal", "inspect", entry1, "--public-key", pub_path)
check(rc == 1 and "signature: INVALID" in out, "entry 1 with our key: INVALID")
# The cococtl example's signature is illustrative: its last character sets bits past the 64
# bytes, which strict base64url (as guests decode it) refuses.
expect_fail(["seal", "inspect", examples()[2]], "the illustrative cococtl signature is refused",
            contains="64 bytes")

# keygen --force replaces the files in an existing directory and leaves no temporary files.
old_x = pub["x"]
expect_ok(["seal", "keygen", "--kid", KID, "--out", keys, "--force"], "keygen --force")
check(sorted(os.listdir(keys)) == ["private.jwk", "public.jwk"], "no temporary files left")
check(json.load(open(pub_path))["x"] != old_x, "--force made a new key")
check(stat.S_IMODE(os.stat(priv_path).st_mode) == 0o600, "replaced private.jwk has mode 0600")
check(not [n for n in os.listdir(tmp) if ".tmp" in n], "no temporary directory left")

finish()
