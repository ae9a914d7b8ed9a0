"""Bad input to `coco-webhook seal`: clear one-line errors, the right exit status, nothing
half-written."""
import sys

sys.dont_write_bytecode = True  # keep the source tree clean of __pycache__

import json
import os
import subprocess

from sealtest import *

tmp = tempdir()
good_uri = "kbs:///default/fraud-dataset/dataset_key"

# Resource URIs (the same check serves --resource-uri, --signing-kid and --kid).
bad_uris = {
    "https:///a/b/c": "scheme",
    "kbs:/a/b/c": "scheme",
    "KBS:///a/b/c": "scheme",
    "kbs://host/a/b/c": "host",
    "kbs:///a/b": "2 segments",
    "kbs:///a": "1 segment",
    "kbs:///": "empty",
    "kbs:///a//c": "TYPE segment is empty",
    "kbs:////b/c": "REPOSITORY segment is empty",
    "kbs:///a/b/": "TAG segment is empty",
    "kbs:///a/b/c/d": "more than 3",
    "kbs:///a/../c": "may not be",
    "kbs:///a/b/c?x=1": "not allowed",
    "kbs:///a/b/c#f": "not allowed",
    "kbs:///a b/c/d": "not allowed",
    "": "empty",
    "kbs:///a/b/" + "x" * 256: "longer",
    "kbs:///" + "a/" * 600 + "c": "longer",
}
for uri, words in bad_uris.items():
    expect_fail(["seal", "vault", "--resource-uri", uri], f"resource URI {uri[:40]!r}",
                contains=words)
expect_fail(["seal", "keygen", "--kid", "kbs://host/a/b/c", "--out", os.path.join(tmp, "k0")],
            "keygen with a bad kid", contains="host")
check(not os.path.exists(os.path.join(tmp, "k0")), "nothing written for a bad kid")

# Settings and annotations must be JSON objects.
for opt in ("--provider-settings", "--annotations"):
    for text in ("[]", '"x"', "1", "null", "{", '{"a":1} x', '{"a":1,"a":2}', ""):
        expect_fail(["seal", "vault", "--resource-uri", good_uri, opt, text],
                    f"{opt} {text!r}", contains=opt)
# SEAL_OBJECT_MAX (16 KiB) for each object: just under passes, over fails.
under = '{"k":"%s"}' % ("x" * (16 * 1024 - 8))
expect_ok(["seal", "vault", "--resource-uri", good_uri, "--annotations", under],
          "annotations of 16 KiB")
expect_fail(["seal", "vault", "--resource-uri", good_uri, "--annotations", under[:-2] + 'xx"}'],
            "annotations over 16 KiB", contains="longer than")
expect_fail(["seal", "vault", "--resource-uri", good_uri, "--provider", "aliyun"],
            "unsupported provider", contains="provider")

# Usage errors exit 2.
for args in (["seal"], ["seal", "frobnicate"], ["seal", "vault"],
             ["seal", "vault", "--resource-uri"], ["seal", "vault", "--nope"],
             ["seal", "vault", "--resource-uri", good_uri, "extra"],
             ["seal", "vault", "--resource-uri", good_uri, "--padded", "--signing-key", "x"],
             ["seal", "vault", "--resource-uri", good_uri, "--signing-kid", "kbs:///a/b/c"],
             ["seal", "keygen"], ["seal", "keygen", "--kid", "kbs:///a/b/c"],
             ["seal", "inspect"], ["seal", "inspect", "a", "b"],
             ["seal", "inspect", "-o", "yaml", "x"]):
    rc, out, err = run(*args)
    check(rc == 2 and out == "" and err.strip() != "", f"usage error {args[1:]}: exit {rc}")

# --help everywhere.
for args in (["seal", "--help"], ["seal", "-h"], ["seal", "vault", "--help"],
             ["seal", "keygen", "--help"], ["seal", "inspect", "--help"]):
    rc, out, err = run(*args)
    check(rc == 0 and out.startswith("Usage: coco-webhook seal"), f"{' '.join(args)}")


# Keys: missing, corrupted, wrong type or curve, public where private is needed.
def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def openssl_jwk(name, *genpkey):
    """A JWK made from an openssl-generated key (converted with jwcrypto)."""
    from jwcrypto import jwk
    pem = os.path.join(tmp, name + ".pem")
    subprocess.run(["openssl", "genpkey", *genpkey, "-out", pem], check=True, capture_output=True)
    k = jwk.JWK.from_pem(open(pem, "rb").read())
    return write(name + ".jwk", k.export_private()), write(name + ".pub.jwk", k.export_public())


rsa, rsa_pub = openssl_jwk("rsa", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
p384, p384_pub = openssl_jwk("p384", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384")
p256, p256_pub = openssl_jwk("p256", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
good = json.load(open(p256))
other = json.load(open(openssl_jwk("p256b", "-algorithm", "EC", "-pkeyopt",
                                   "ec_paramgen_curve:P-256")[0]))


def variant(name, **changes):
    k = dict(good)
    for m, v in changes.items():
        if v is None:
            k.pop(m, None)
        else:
            k[m] = v
    return write(name, json.dumps(k))


bad_keys = {
    os.path.join(tmp, "missing.jwk"): "No such file",
    write("empty.jwk", ""): "empty",
    write("garbage.jwk", "not json"): "JSON object",
    write("array.jwk", "[1]"): "JSON object",
    write("truncated.jwk", json.dumps(good)[:60]): "JSON object",
    write("big.jwk", " " * 20000 + "{}"): "longer",
    rsa: '"RSA" key',
    p384: "P-384",
    p256_pub: "public key",
    variant("no-kty.jwk", kty=None): "kty",
    variant("oct.jwk", kty="oct"): '"oct" key',
    variant("no-crv.jwk", crv=None): "crv",
    variant("ed.jwk", kty="OKP", crv="Ed25519"): '"OKP" key',
    variant("secp256k1.jwk", crv="secp256k1"): "secp256k1",
    variant("rs256.jwk", alg="RS256"): "alg",
    variant("no-x.jwk", x=None): '"x"',
    variant("short-x.jwk", x=good["x"][:-2]): '"x"',
    variant("padded-x.jwk", x=good["x"] + "="): '"x"',
    variant("bad-b64-d.jwk", d="!" * 43): '"d"',
    variant("off-curve.jwk", y=good["x"]): "P-256",
    variant("wrong-d.jwk", d=other["d"]): "does not belong",
    variant("zero-d.jwk", d="A" * 43): "belong",
    write("dup.jwk", json.dumps(good)[:-1] + ', "d": "%s"}' % other["d"]): "duplicate",
}
for path, words in bad_keys.items():
    err = expect_fail(["seal", "vault", "--resource-uri", good_uri, "--signing-key", path,
                       "--signing-kid", "kbs:///a/b/c"], f"signing key {os.path.basename(path)}",
                      contains=words)
    check(good["d"] not in err and other["d"] not in err, "no private key in the message")
expect_fail(["seal", "inspect", examples()[0], "--public-key", rsa_pub], "inspect with RSA key",
            contains="RSA")
expect_fail(["seal", "inspect", examples()[0], "--public-key", p384_pub], "inspect with P-384",
            contains="P-384")
expect_fail(["seal", "vault", "--resource-uri", good_uri, "--signing-key", p256],
            "key without kid and no --signing-kid", contains="kid")
expect_fail(["seal", "vault", "--resource-uri", good_uri, "--signing-key", p256,
             "--signing-kid", "kbs:///a/b"], "bad --signing-kid", contains="segment")

# Sealed strings that inspect refuses.
e1 = examples()[0]
h, p, s = e1[len("sealed."):].split(".")
bad_sealed = {
    "": "sealed.",
    "hello": "sealed.",
    "sealed.": "part",
    "sealed.a.b": "parts",
    "sealed.a.b.c.d": "more than 3",
    "sealed.fakejwsheader.e30.nosignature": "fakesignature",
    "sealed.fakejwsheader.!!!.fakesignature": "payload",
    "sealed.fakejwsheader.WzFd.fakesignature": "JSON object",
    f"sealed.{h}.{p}.{s[:-4]}": "64 bytes",
    f"sealed.{h}.{p}.{s}AAAA": "64 bytes",
    f"sealed.{h}=.{p}.{s}": "header",
    f"sealed.{h}.{p}=.{s}": "payload",
    f"sealed.e30.{p}.{s}x": "64 bytes",
    "sealed.bm90IGpzb24." + p + "." + s: "header",
    "sealed." + "A" * 70000 + ".b.c": "longer",
}
for text, words in bad_sealed.items():
    expect_fail(["seal", "inspect", text], f"inspect {text[:40]!r}", contains=words)
rc, out, err = run("seal", "inspect", "sealed.fakejwsheader." + p + ".fakesignature",
                   "--public-key", p256_pub)
check(rc == 1 and "signature: none (unsigned)" in out and "unsigned" in err,
      "verifying an unsigned value fails")
hs256 = "eyJhbGciOiJIUzI1NiJ9"  # {"alg":"HS256"}
expect_fail(["seal", "inspect", f"sealed.{hs256}.{p}.{s}", "--public-key", p256_pub],
            "alg other than ES256", contains="ES256")

# keygen refuses an existing directory or file, and leaves nothing behind.
exists = os.path.join(tmp, "exists")
os.mkdir(exists)
expect_fail(["seal", "keygen", "--kid", "kbs:///a/b/c", "--out", exists], "existing directory",
            contains="exists")
check(os.listdir(exists) == [], "the existing directory is untouched")
afile = write("afile", "x")
expect_fail(["seal", "keygen", "--kid", "kbs:///a/b/c", "--out", afile, "--force"],
            "--force onto a file", contains="not a directory")
expect_fail(["seal", "keygen", "--kid", "kbs:///a/b/c", "--out",
             os.path.join(tmp, "no", "such", "parent")], "missing parent directory")
if os.geteuid() != 0:
    ro = os.path.join(tmp, "ro")
    os.mkdir(ro, 0o500)
    expect_fail(["seal", "keygen", "--kid", "kbs:///a/b/c", "--out", os.path.join(ro, "k")],
                "read-only parent")
    check(os.listdir(ro) == [], "nothing half-written in a read-only parent")
# --force where private.jwk cannot be replaced (it is a non-empty directory): the old
# public.jwk stays, no temporary file is left.
blocked = os.path.join(tmp, "blocked")
os.makedirs(os.path.join(blocked, "private.jwk", "x"))
with open(os.path.join(blocked, "public.jwk"), "w") as f:
    f.write("old")
expect_fail(["seal", "keygen", "--kid", "kbs:///a/b/c", "--out", blocked, "--force"],
            "--force with an unreplaceable private.jwk", contains="private.jwk")
check(sorted(os.listdir(blocked)) == ["private.jwk", "public.jwk"], "no temporary files left")
check(open(os.path.join(blocked, "public.jwk")).read() == "old", "the old public.jwk is kept")
before = sorted(os.listdir(tmp))
expect_fail(["seal", "keygen", "--kid", "kbs:///a/b/c", "--out", os.path.join(tmp, "no", "x")],
            "keygen failure leaves nothing")
check(sorted(os.listdir(tmp)) == before, "no temporary directory left after a failure")

finish()
