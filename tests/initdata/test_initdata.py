"""Initdata (SPEC §2.5, §6): the `coco-webhook initdata` commands checked with independent
tools, documents refused with errors that name the file, and the real server over TLS:
status codes, UPDATE of Notebooks, the record, decision log and metrics, and reloads of
changed, broken and missing documents under load.

Usage: test_initdata.py GROUP   (cli, config, server, reload)"""
import base64
import gzip
import hashlib
import json
import os
import subprocess
import sys
import threading
import time

import tomli

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "server"))

from serverlib import (BIN, LABEL, K8sVolume, Server, apply_patch, check_response,  # noqa: E402
                       make_cert, metric, post, review, group_registry, run_groups,
                       start_clients, tmpdir)

HYP = "io.katacontainers.config.hypervisor.cc_init_data"
RT = "io.katacontainers.config.runtime.cc_init_data"
PICK = "coco.confidentialcontainers.org/initdata"
RECORD = "coco.confidentialcontainers.org/mutated"
SHARED = os.environ.get("COCO_SHARED", "")

GROUPS, group = group_registry()


def run(*args, stdin=None):
    return subprocess.run([BIN] + list(args), capture_output=True, input=stdin, timeout=60)


def doc_text(url="https://trustee.example:8080", alg="sha256", policy="ExecProcessRequest"):
    return ('algorithm = "%s"\nversion = "0.1.0"\n\n[data]\n"aa.toml" = \'\'\'\n'
            '[token_configs.kbs]\nurl = "%s"\n\'\'\'\n"cdh.toml" = \'\'\'\n[kbc]\n'
            'name = "cc_kbc"\nurl = "%s"\n\'\'\'\n"policy.rego" = \'\'\'\npackage agent_policy\n'
            'default %s := false\n\'\'\'\n' % (alg, url, url, policy)).encode()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def decode(value):
    return gzip.decompress(base64.b64decode(value, validate=True))


def pcr8_recipe(path):
    """The workshop's recipe, run as the workshop runs it (FACTS.md)."""
    script = ('echo -n "$(printf \'0%%.0s\' {1..64})$(sha256sum "%s" | cut -d\' \' -f1)" '
              '| xxd -r -p | sha256sum | cut -d\' \' -f1' % path)
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          check=True).stdout.strip()


def digest_fields(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and not line.startswith(("[", "]", " ")):
            key, _, val = line.rpartition(" ")
            out[key.strip()] = val
    return out


# ---------------------------------------------------------------- cli

@group("cli")
def test_render_parses_with_tomli_and_holds_what_guest_components_read():
    d = tmpdir()
    crt, _ = make_cert(d)
    url = "https://trustee.fraud.example:8443"
    r = run("initdata", "render", "--trustee-url", url, "--trustee-cert", crt)
    assert r.returncode == 0, r.stderr
    doc = tomli.loads(r.stdout.decode())
    assert doc["version"] == "0.1.0" and doc["algorithm"] == "sha256", doc
    assert set(doc["data"]) == {"aa.toml", "cdh.toml", "policy.rego"}, doc["data"].keys()
    pem = open(crt).read().strip()
    aa = tomli.loads(doc["data"]["aa.toml"])
    assert aa["token_configs"]["kbs"]["url"] == url, aa
    assert aa["token_configs"]["coco_as"]["url"] == url, aa
    assert aa["token_configs"]["kbs"]["cert"].strip() == pem
    cdh = tomli.loads(doc["data"]["cdh.toml"])
    assert cdh["kbc"]["name"] == "cc_kbc" and cdh["kbc"]["url"] == url, cdh
    assert cdh["kbc"]["kbs_cert"].strip() == pem
    assert cdh["socket"] == "unix:///run/confidential-containers/cdh.sock", cdh
    policy = doc["data"]["policy.rego"]
    assert policy.startswith("package agent_policy\n"), policy
    for rule in ("ExecProcessRequest", "SetPolicyRequest", "WriteStreamRequest"):
        assert "default %s := false\n" % rule in policy, rule
    for rule in ("CreateContainerRequest", "PullImageRequest", "CopyFileRequest"):
        assert "default %s := true\n" % rule in policy, rule
    # The same keys as the workshop's and the CAA docs' documents.
    for sample in ("workshop-initdata.toml.tmpl", "caa-docs-initdata-example.toml"):
        with open(os.path.join(SHARED, "samples", sample), "rb") as f:
            ref = tomli.load(f)
        assert set(ref["data"]) == set(doc["data"]), sample
        ref_aa = tomli.loads(ref["data"]["aa.toml"].replace("${TRUSTEE_CERT}", "x"))
        assert set(ref_aa["token_configs"]) == set(aa["token_configs"]), sample


@group("cli")
def test_render_options():
    d = tmpdir()
    policy = write(os.path.join(d, "p.rego"), b"package agent_policy\n\ndefault ExecProcessRequest := true\n")
    out = os.path.join(d, "doc.toml")
    r = run("initdata", "render", "--trustee-url", "http://10.0.0.5:8080", "--policy", policy,
            "--algorithm", "sha512", "-o", out)
    assert r.returncode == 0 and r.stdout == b"", r.stderr
    # FACTS.md: vTPM (Azure) peer pods attest through PCR 8, sha256 only: said plainly.
    assert b'vTPM (Azure) peer pods need algorithm = "sha256"' in r.stderr, r.stderr
    with open(out, "rb") as f:
        doc = tomli.load(f)
    assert doc["algorithm"] == "sha512"
    assert doc["data"]["policy.rego"] == open(policy).read()
    aa = tomli.loads(doc["data"]["aa.toml"])
    assert "cert" not in aa["token_configs"]["kbs"], aa  # no --trustee-cert: none
    for bad, code, text in (
            (["--algorithm", "md5", "--trustee-url", "https://x"], 2, "sha256, sha384 or sha512"),
            ([], 2, "--trustee-url is required"),
            (["--trustee-url", "ftp://x"], 2, "http:// or https://"),
            (["--trustee-url", 'https://x"y'], 2, "quotes"),
            (["--trustee-url", "https://x", "--trustee-cert", policy], 1, "no PEM certificate"),
            (["--trustee-url", "https://x", "--policy", os.path.join(d, "missing")], 1,
             "missing: cannot open")):
        r = run("initdata", "render", *bad)
        assert r.returncode == code and text in r.stderr.decode(), (bad, r.returncode, r.stderr)
    write(os.path.join(d, "q.rego"), b"package agent_policy\nx = '''\n")
    r = run("initdata", "render", "--trustee-url", "https://x", "--policy", os.path.join(d, "q.rego"))
    assert r.returncode == 1 and b"'''" in r.stderr, r.stderr


@group("cli")
def test_digest_matches_sha_sums_tee_forms_and_the_pcr8_recipe():
    d = tmpdir()
    files = []
    for alg in ("sha256", "sha384", "sha512"):
        files.append((alg, write(os.path.join(d, alg + ".toml"), doc_text(alg=alg))))
    for sample in ("workshop-initdata.toml.tmpl", "caa-docs-initdata-example.toml"):
        p = os.path.join(SHARED, "samples", sample)
        files.append((tomli.load(open(p, "rb"))["algorithm"], p))
    for alg, path in files:
        r = run("initdata", "digest", path)
        assert r.returncode == 0, r.stderr
        f = digest_fields(r.stdout.decode())
        tool = subprocess.run([alg + "sum", path], capture_output=True, text=True, check=True)
        want = tool.stdout.split()[0]
        assert f["algorithm"] == alg and f[alg] == want, (f, want)
        raw = bytes.fromhex(want)
        assert f["snp hostdata (32 bytes)"] == raw[:32].hex()
        assert f["tdx mr_config_id (48 bytes)"] == (raw[:48] + bytes(48 - min(48, len(raw)))).hex()
        assert f["cca (64 bytes)"] == (raw + bytes(64 - len(raw))).hex()
        out = r.stdout.decode()
        assert "merged text" in out
        assert 'vTPM (Azure) peer pods need algorithm = "sha256"' in out, out
        if alg != "sha256":
            # FACTS.md: PCR 8 is sha256 only; no value that matches nothing is printed.
            assert f["vtpm pcr8"] == "none", f
            assert "snp_pcr08" not in out and "cannot attest there" in out, out
            continue
        assert f["vtpm pcr8"] == pcr8_recipe(path), path
        assert '{"name": "snp_pcr08", "value": ["%s"]}' % f["vtpm pcr8"] in out
        assert '{"name": "tdx_pcr08", "value": ["%s"]}' % f["vtpm pcr8"] in out


@group("cli")
def test_encode_decodes_with_independent_tools_byte_for_byte():
    d = tmpdir()
    samples = [os.path.join(SHARED, "samples", s) for s in
               ("workshop-initdata.toml.tmpl", "caa-docs-initdata-example.toml")]
    # CRLF line ends, no final newline, non-ASCII text: kept as they are.
    odd = write(os.path.join(d, "odd.toml"),
                doc_text().replace(b"\n", b"\r\n")[:-2] + b"\r\n# \xc3\xa9t\xc3\xa9")
    for path in samples + [odd]:
        r = run("initdata", "encode", path)
        assert r.returncode == 0, r.stderr
        value = r.stdout.decode().strip()
        assert "\n" not in value and value == r.stdout.decode()[:-1]
        data = open(path, "rb").read()
        assert decode(value) == data, path
        shell = subprocess.run(["bash", "-c", "printf %s \"$V\" | base64 -d | gunzip"],
                               env={"V": value, "PATH": os.environ["PATH"]},
                               capture_output=True, check=True)
        assert shell.stdout == data, path
        gz = base64.b64decode(value)
        assert gz[:4] == b"\x1f\x8b\x08\x00" and gz[4:8] == b"\0\0\0\0", gz[:10]  # no name, mtime 0
        assert run("initdata", "encode", path).stdout.decode().strip() == value  # stable
        # inspect gives back the document and the same digests.
        r = run("initdata", "inspect", value)
        assert r.returncode == 0, r.stderr
        assert data.decode() in r.stdout.decode().replace("\r\n", "\n") or \
            data in r.stdout, path
        sha256 = tomli.loads(data.decode())["algorithm"] == "sha256"
        assert digest_fields(r.stdout.decode())["vtpm pcr8"] == \
            (pcr8_recipe(path) if sha256 else "none"), path
    # Another tool's gzip of the same document: inspect says so; stdin works.
    other = base64.b64encode(gzip.compress(doc_text(), compresslevel=1)).decode()
    r = run("initdata", "inspect", "-", stdin=(other + "\n").encode())
    assert r.returncode == 0 and b"another encoding" in r.stdout, r
    r = run("initdata", "inspect", "bm90IGd6aXA=")
    assert r.returncode == 1 and b"not base64 of gzip" in r.stderr, r.stderr
    # Read as kata reads it (Go's StdEncoding): padding required, no space inside. OpenSSL's
    # decoder took both, so such a value passed for a document kata refuses.
    good = base64.b64encode(gzip.compress(doc_text())).decode()
    assert run("initdata", "inspect", good).returncode == 0
    for bad in (good.rstrip("="), good[:8] + " " + good[8:]):
        assert bad != good
        r = run("initdata", "inspect", bad)
        assert r.returncode == 1, (bad, r.stdout)


@group("cli")
def test_help_and_usage():
    for sub in ([], ["render"], ["digest"], ["encode"], ["inspect"]):
        r = run("initdata", *sub, "--help")
        assert r.returncode == 0 and r.stdout.startswith(b"Usage: coco-webhook initdata"), sub
    assert b"initdata" in run("--help").stdout
    assert run("initdata").returncode == 2
    assert run("initdata", "frobnicate").returncode == 2
    assert run("initdata", "digest").returncode == 2
    assert run("initdata", "digest", "a", "b").returncode == 2


# ---------------------------------------------------------------- config

BAD_DOCS = [
    ("no-version", b'algorithm = "sha256"\n[data]\n"a" = "b"\n', "no top-level version"),
    ("bad-version", b'version = "0.2.0"\nalgorithm = "sha256"\n[data]\n', 'version must be "0.1.0"'),
    ("no-algorithm", b'version = "0.1.0"\n[data]\n"a" = "b"\n', "no top-level algorithm"),
    ("unknown-algorithm", b'version = "0.1.0"\nalgorithm = "md5"\n[data]\n',
     "algorithm must be sha256, sha384 or sha512"),
    ("no-data", b'version = "0.1.0"\nalgorithm = "sha256"\n[other]\n"a" = "b"\n',
     "no [data] table"),
    ("data-not-string", b'version = "0.1.0"\nalgorithm = "sha256"\n[data]\n"a" = 1\n',
     "entries of [data] must be strings"),
    ("version-in-data", b'algorithm = "sha256"\n[data]\nversion = "0.1.0"\n',
     "no top-level version"),
    ("unclosed", b'version = "0.1.0"\nalgorithm = "sha256"\n[data]\n"a" = \'\'\'\nx\n',
     "not closed"),
    ("binary", b'version = "0.1.0"\x00\nalgorithm = "sha256"\n[data]\n', "not a text file"),
    ("latin1", b'version = "0.1.0"\nalgorithm = "sha256"\n[data]\n"a" = "\xe9"\n',
     "invalid UTF-8"),
    ("empty", b"", "the document is empty"),
]


def mutate_config_error(d, cfg_text):
    cfg = write(os.path.join(d, "config.yaml"), cfg_text.encode())
    pod = write(os.path.join(d, "pod.yaml"), json.dumps(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {LABEL: "true"}},
         "spec": {"containers": [{"name": "c", "image": "i"}]}}).encode())
    r = run("mutate", "-f", pod, "--config", cfg)
    return r.returncode, r.stderr.decode(), cfg


@group("config")
def test_bad_documents_are_refused_naming_the_file():
    for name, data, text in BAD_DOCS:
        d = tmpdir()
        doc = write(os.path.join(d, name + ".toml"), data)
        rc, err, cfg = mutate_config_error(
            d, "initdata:\n  documents:\n    fraud: %s.toml\n" % name)
        assert rc != 0, name
        assert text in err, (name, err)
        assert doc in err, (name, err)  # the document file, resolved beside the config
        assert cfg + ":3: key \"initdata.documents.fraud\"" in err, (name, err)


def valid_for_guest(data):
    """What the guest needs, by Python's TOML reader: None when valid, else why not."""
    try:
        text = data.decode("utf-8")
        doc = tomli.loads(text)
    except (UnicodeDecodeError, tomli.TOMLDecodeError) as e:
        return str(e)
    if any(ord(c) < 0x20 and c not in "\t\r\n" or ord(c) == 0x7f for c in text):
        return "control character"
    if doc.get("version") != "0.1.0" or doc.get("algorithm") not in ("sha256", "sha384", "sha512"):
        return "version or algorithm"
    if not isinstance(doc.get("data"), dict) or \
            not all(isinstance(v, str) for v in doc["data"].values()):
        return "data"
    return None


@group("config")
def test_every_document_tomli_accepts_is_accepted():
    """Our reader is a subset of TOML: it must never refuse a document that Python's TOML
    reader reads as a valid initdata document (the fuzz corpus and the samples)."""
    corpus = os.path.join(os.environ["COCO_SRC"], "tests", "fuzz", "corpus", "fuzz_initdata")
    paths = [os.path.join(corpus, f) for f in sorted(os.listdir(corpus))]
    paths += [os.path.join(SHARED, "samples", s) for s in
              ("workshop-initdata.toml.tmpl", "caa-docs-initdata-example.toml")]
    valid = 0
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        if not data or valid_for_guest(data) is not None:
            continue
        valid += 1
        r = run("initdata", "digest", path)
        assert r.returncode == 0, (path, r.stderr)
    assert valid >= 8, valid


@group("config")
def test_annotation_value_limit_128kib():
    d = tmpdir()
    import random
    rnd = random.Random(1)
    # Random letters and digits barely compress: 150 KB of them exceed 128 KiB of base64.
    filler = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                     for _ in range(150000))
    big = doc_text()[:-4] + ("\n# " + filler + "\n'''\n").encode()
    doc = write(os.path.join(d, "big.toml"), big)
    r = run("initdata", "digest", doc)
    assert r.returncode == 1 and b"more than 131072 (128 KiB)" in r.stderr, r.stderr
    rc, err, _ = mutate_config_error(d, "initdata:\n  documents: {big: big.toml}\n")
    assert rc != 0 and "more than 131072" in err and doc in err, err
    # Just under the limit is fine.
    small = doc_text()[:-4] + ("\n# " + filler[:90000] + "\n'''\n").encode()
    write(os.path.join(d, "big.toml"), small)
    assert run("initdata", "encode", doc).returncode == 0


@group("config")
def test_config_errors_name_file_line_and_key():
    d = tmpdir()
    write(os.path.join(d, "fraud.toml"), doc_text())
    cases = [
        ("initdata:\n  documents: {fraud: fraud.toml}\n  namespaces: {a: nope}\n",
         ':3: key "initdata.namespaces.a": document "nope" is not in initdata.documents '
         '(listed: fraud)'),
        ("initdata:\n  documents: {fraud: fraud.toml}\n  default: other\n",
         ':3: key "initdata.default": document "other" is not in initdata.documents'),
        ("initdata:\n  annotation: cc_init_data\n", ':2: key "initdata.annotation": "cc_init_data" is'
         ' not an initdata annotation key'),
        ("initdata:\n  documents: {Fraud: fraud.toml}\n", ':2: key "initdata.documents.Fraud": '
         'not a valid document name'),
        ("initdata:\n  documents: {fraud: fraud.toml}\n  namespaces:\n    a: {document: fraud, "
         "enforce: maybe}\n", ':4: key "initdata.namespaces.a.enforce": expected a boolean'),
        ("initdata:\n  documents: {fraud: fraud.toml}\n  namespaces:\n    a: {enforce: true}\n",
         ':4: key "initdata.namespaces.a": expected a document name'),
        ("initdata:\n  documents: {fraud: fraud.toml}\n  namespaces:\n    a: {document: fraud, "
         "strict: true}\n", ':4: key "initdata.namespaces.a.strict": unknown key'),
        ("initdata:\n  documents: [fraud.toml]\n", ':2: key "initdata.documents": expected a '
         'mapping'),
        ("initdata:\n  documents: {fraud: 5}\n", ':2: key "initdata.documents.fraud": expected a '
         'string'),
        ("initdata:\n  defaults: fraud\n", ':2: key "initdata.defaults": unknown key'),
        ("initdata:\n  documents: {fraud: missing.toml}\n",
         ':2: key "initdata.documents.fraud": %s: cannot open' % os.path.join(d, "missing.toml")),
        ("initdata:\n  documents: {fraud: .}\n", 'not a regular file'),
        # SPEC §2.5: kata 3.20 reads no per-pod initdata: documents are a config error
        ("runtimeClass: {runtimes: {kata-remote: {kata: \"3.20\"}}}\n"
         "initdata:\n  documents: {fraud: fraud.toml}\n",
         ':3: key "initdata.documents": the kata-remote runtime (kata 3.20, peer pods) reads no '
         'per-pod initdata'),
    ]
    for text, want in cases:
        rc, err, cfg = mutate_config_error(d, text)
        assert rc != 0 and (cfg + want if want.startswith(":") else want) in err, (text, err)
    # A good one: every form at once.
    rc, err, _ = mutate_config_error(d, (
        "runtimeClass: {runtimes: {kata-remote: {type: peer-pods, kata: \"3.17\"}}}\n"
        "initdata:\n  annotation: io.katacontainers.config.runtime.cc_init_data\n"
        "  documents: {fraud: fraud.toml, abs: %s}\n  namespaces:\n    a: fraud\n"
        "    b: {document: abs, enforce: true}\n    c: {document: abs, enforce: false}\n"
        "  default: fraud\n" % os.path.join(d, "fraud.toml")))
    assert rc == 0, err


@group("server")
def test_server_preflight_is_idempotent_on_reinvocation_and_notebook_update():
    """SPEC §2.6 with §2.4: the preflight warnings come with every answer, never with a patch
    of their own: a reinvocation and a Notebook UPDATE get an empty patch, no second
    annotation, and the same warnings (no loop of changes)."""
    d = tmpdir()
    crt, key = make_cert(d)
    write(os.path.join(d, "fraud.toml"), doc_text("https://fraud.example"))
    cfg = write(os.path.join(d, "config.yaml"), (
        "initdata:\n  documents: {fraud: fraud.toml}\n"
        "  namespaces: {fraud-detection: fraud}\n").encode())
    srv = Server(crt, key, ["--config", cfg])
    ignored = encode(os.path.join(d, "fraud.toml"))
    nb = notebook({RT: ignored})
    nb["spec"]["template"]["spec"]["hostIPC"] = True
    resp = ask(srv, review(nb))
    assert resp["allowed"] and len(resp["warnings"]) == 2, resp
    assert any("hostIPC: ignored" in w for w in resp["warnings"]), resp
    assert any("ignored by kata 3.21" in w for w in resp["warnings"]), resp
    got = apply_patch(nb, resp)
    ann = got["metadata"]["annotations"]
    assert ann[RT] == ignored and decode(ann[HYP]) == open(os.path.join(d, "fraud.toml"), "rb").read()
    record = json.loads(ann[RECORD])
    assert record["preflight"] == ["initdata-key-ignored", "host-ipc"], record
    assert record["initdata"]["key"] == HYP, record
    for _ in range(2):
        again = ask(srv, review(got, operation="UPDATE", old=got))
        assert again["allowed"] and "patch" not in again, again
        assert sorted(again["warnings"]) == sorted(resp["warnings"]), again
    # Another webhook adds a container (reinvocation): still nothing to change.
    got["spec"]["template"]["spec"]["containers"].append({"name": "proxy", "image": "p"})
    again = ask(srv, review(got, operation="UPDATE", old=got))
    assert again["allowed"] and "patch" not in again, again
    # A Pod denied in deny mode (the default) is counted under its rule.
    p = pod(annotations={"io.katacontainers.config.hypervisor.virtio_fs_extra_args": "x"})
    denied = ask(srv, review(p))
    assert not denied["allowed"] and denied["status"]["code"] == 403, denied
    assert denied["status"]["message"].startswith(
        "the kata-remote runtime (kata 3.21, peer pods) would refuse this pod: annotation "
        "io.katacontainers.config.hypervisor.virtio_fs_extra_args"), denied
    m = srv.metrics()
    assert metric(m, "coco_webhook_denials_total", reason="preflight_annotation") == 1, m
    assert srv.stop() == 0


@group("config")
def test_serve_refuses_a_missing_document_at_start():
    d = tmpdir()
    crt, key = make_cert(d)
    cfg = write(os.path.join(d, "config.yaml"), b"initdata:\n  documents: {fraud: fraud.toml}\n")
    r = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--tls-cert", crt, "--tls-key",
                        key, "--config", cfg], capture_output=True, timeout=30)
    assert r.returncode == 1, r
    assert os.path.join(d, "fraud.toml").encode() + b": cannot open" in r.stderr, r.stderr


# ---------------------------------------------------------------- server

def pod(ns="fraud-detection", annotations=None, name="p"):
    meta = {"name": name, "namespace": ns, "labels": {LABEL: "true"}}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [{"name": "c", "image": "i"}]}}


def notebook(annotations=None):
    meta = {"name": "wb", "namespace": "fraud-detection", "labels": {LABEL: "true"}}
    if annotations is not None:
        meta["annotations"] = annotations
    return {"apiVersion": "kubeflow.org/v1", "kind": "Notebook", "metadata": meta,
            "spec": {"template": {"spec": {"containers": [{"name": "wb", "image": "jupyter"}]}}}}


def ask(srv, rev):
    c = srv.conn()
    r, body = post(c, "/mutate", rev)
    c.close()
    return check_response(rev, r.status, body)


def encode(path):
    return run("initdata", "encode", path).stdout.decode().strip()


@group("server")
def test_server_rules_record_log_and_metrics():
    d = tmpdir()
    crt, key = make_cert(d)
    fraud = write(os.path.join(d, "fraud.toml"), doc_text("https://fraud.example"))
    base = write(os.path.join(d, "base.toml"), doc_text("https://base.example", alg="sha384"))
    cfg = write(os.path.join(d, "config.yaml"), (
        "initdata:\n  documents: {fraud: fraud.toml, base: base.toml}\n"
        "  namespaces:\n    fraud-detection: {document: fraud, enforce: true}\n"
        "  default: base\n").encode())
    srv = Server(crt, key, ["--config", cfg])
    fraud_digest = "sha256:" + hashlib.sha256(open(fraud, "rb").read()).hexdigest()
    base_digest = "sha384:" + hashlib.sha384(open(base, "rb").read()).hexdigest()

    rev = review(pod())
    got = apply_patch(pod(), ask(srv, rev))
    assert decode(got["metadata"]["annotations"][HYP]) == open(fraud, "rb").read()
    record = json.loads(got["metadata"]["annotations"][RECORD])
    assert record["initdata"] == {"document": "fraud", "digest": fraud_digest,
                                  "key": "io.katacontainers.config.hypervisor.cc_init_data"}, record
    line = srv.wait_log(lambda x: x.get("uid") == rev["request"]["uid"])
    assert line["initdata"] == "fraud" and line["initdata_digest"] == fraud_digest, line
    assert line["initdata_set"] is True, line

    # Reinvocation after another webhook's change: nothing more.
    got["spec"]["containers"].append({"name": "sidecar", "image": "proxy"})
    got["metadata"]["annotations"]["other.example/x"] = "y"
    resp = ask(srv, review(got))
    assert resp["allowed"] and "patch" not in resp, resp

    # The default document elsewhere.
    got = apply_patch(pod("team-b"), ask(srv, review(pod("team-b"))))
    assert decode(got["metadata"]["annotations"][HYP]) == open(base, "rb").read()
    assert json.loads(got["metadata"]["annotations"][RECORD])["initdata"]["digest"] == base_digest

    # Unknown name: 400 listing the documents; another document under enforcement: 403.
    resp = ask(srv, review(pod(annotations={PICK: "nope"})))
    assert not resp["allowed"] and resp["status"]["code"] == 400, resp
    assert "(listed: fraud, base)" in resp["status"]["message"], resp
    resp = ask(srv, review(pod(annotations={PICK: "base"})))
    assert not resp["allowed"] and resp["status"]["code"] == 403, resp
    assert 'enforces document "fraud"' in resp["status"]["message"], resp
    resp = ask(srv, review(pod(annotations={HYP: encode(base)})))
    assert not resp["allowed"] and resp["status"]["code"] == 403, resp
    assert '"fraud"' in resp["status"]["message"], resp
    # Outside the enforcing namespace an own annotation is kept, with a warning.
    resp = ask(srv, review(pod("team-b", annotations={HYP: encode(fraud)})))
    assert resp["allowed"], resp
    assert any("differs from document \"base\"" in w for w in resp["warnings"]), resp
    got = apply_patch(pod("team-b", annotations={HYP: encode(fraud)}), resp)
    assert decode(got["metadata"]["annotations"][HYP]) == open(fraud, "rb").read()
    # The pre-3.20 key is ignored by kata 3.21: not the object's own. The namespace's document
    # goes under the key the runtime reads, with a warning; the ignored key stays as written.
    resp = ask(srv, review(pod("team-b", annotations={RT: encode(fraud)})))
    assert resp["allowed"] and any("ignored by kata 3.21" in w for w in resp["warnings"]), resp
    got = apply_patch(pod("team-b", annotations={RT: encode(fraud)}), resp)
    assert decode(got["metadata"]["annotations"][HYP]) == open(base, "rb").read()
    assert got["metadata"]["annotations"][RT] == encode(fraud), got
    # Picking another listed document where nothing is enforced.
    got = apply_patch(pod("team-b", annotations={PICK: "fraud"}),
                      ask(srv, review(pod("team-b", annotations={PICK: "fraud"}))))
    assert decode(got["metadata"]["annotations"][HYP]) == open(fraud, "rb").read()

    # Notebooks: CREATE sets it on the Notebook; UPDATE of one that has it changes nothing;
    # UPDATE of one made before the config gets it.
    nb = apply_patch(notebook(), ask(srv, review(notebook())))
    assert decode(nb["metadata"]["annotations"][HYP]) == open(fraud, "rb").read()
    resp = ask(srv, review(nb, operation="UPDATE", old=nb))
    assert resp["allowed"] and "patch" not in resp, resp
    old = notebook({"openshift.io/display-name": "wb"})
    old["spec"]["template"]["spec"]["runtimeClassName"] = "kata-remote"
    nb2 = apply_patch(old, ask(srv, review(old, operation="UPDATE", old=old)))
    assert decode(nb2["metadata"]["annotations"][HYP]) == open(fraud, "rb").read()

    m = srv.metrics()
    assert metric(m, "coco_webhook_initdata_injections_total", document="fraud") == 4, m
    assert metric(m, "coco_webhook_initdata_injections_total", document="base") == 2, m
    assert metric(m, "coco_webhook_denials_total", reason="initdata_unknown") == 1, m
    assert metric(m, "coco_webhook_denials_total", reason="initdata_enforced") == 2, m
    # The sha384 document cannot attest on vTPM peer pods (the default class): logged and
    # counted when the config is loaded (SPEC §2.5).
    assert metric(m, "coco_webhook_config_warnings_total") == 1, m
    line = srv.wait_log(lambda x: x.get("msg") == "config warning")
    assert 'algorithm "sha384" cannot attest on vTPM (Azure) peer pods of class kata-remote' in \
        line["warning"], line
    assert srv.stop() == 0


@group("server")
def test_annotations_past_the_api_server_total_are_denied():
    """A large document on an object with large annotations of its own: the API server would
    refuse the mutated object (256 KiB of annotations at most), so the webhook denies it."""
    import random
    d = tmpdir()
    crt, key = make_cert(d)
    rnd = random.Random(2)
    filler = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(70000))
    text = doc_text()[:-4] + ("\n# " + filler + "\n'''\n").encode()
    big = write(os.path.join(d, "big.toml"), text)
    cfg = write(os.path.join(d, "config.yaml"), b"initdata:\n  documents: {big: big.toml}\n"
                b"  default: big\n")
    srv = Server(crt, key, ["--config", cfg])
    value_len = len(encode(big))
    assert 30000 < value_len < 120000, value_len
    # Room for both keys, not for the record as well.
    own = 256 * 1024 - value_len - len("example.com/notes") - len(HYP) - 10
    obj = pod("team-b", annotations={"example.com/notes": "n" * own})
    resp = ask(srv, review(obj))
    assert not resp["allowed"] and resp["status"]["code"] == 400, resp.get("status")
    assert "more than the API server accepts" in resp["status"]["message"], resp
    obj = pod("team-b", annotations={"example.com/notes": "n" * (own - 2000)})
    got = apply_patch(obj, ask(srv, review(obj)))
    total = sum(len(k) + len(v) for k, v in got["metadata"]["annotations"].items())
    assert total <= 256 * 1024, total
    assert decode(got["metadata"]["annotations"][HYP]) == text
    assert srv.stop() == 0


# ---------------------------------------------------------------- reload

def load(port, n, errors, done, stop):
    """n clients sending Pods of fraud-detection until stop; each answer's document is
    recorded."""
    def record(obj, resp):
        assert resp["allowed"], resp
        done.append(decode(apply_patch(obj, resp)["metadata"]["annotations"][HYP]))
    return start_clients(port, n, None, errors, lambda k, i: pod(name="p%d-%d" % (k, i)), record,
                         stop=stop)


def wait_for(pred, what, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


@group("reload")
def test_changed_broken_and_missing_documents_under_load():
    d = tmpdir()
    crt, key = make_cert(d)
    # The documents live in their own ConfigMap volume: a change there alone must reload.
    docs = K8sVolume(os.path.join(d, "docs"))
    cfgs = K8sVolume(os.path.join(d, "cfg"))
    v1, v2, v3 = doc_text("https://v1.example"), doc_text("https://v2.example"), \
        doc_text("https://v3.example")
    docs.publish({"fraud.toml": v1})
    cfgs.publish({"config.yaml": ("initdata:\n  documents: {fraud: %s}\n  namespaces: "
                                  "{fraud-detection: fraud}\n" % docs.path("fraud.toml")).encode()})
    srv = Server(crt, key, ["--config", cfgs.path("config.yaml")])
    errors, done, stop = [], [], threading.Event()
    threads = load(srv.port, 6, errors, done, stop)

    def reloads(result):
        return metric(srv.metrics(), "coco_webhook_reloads_total", file="config", result=result)

    def current():
        obj = pod()
        return decode(apply_patch(obj, ask(srv, review(obj)))["metadata"]["annotations"][HYP])

    wait_for(lambda: len(done) > 20, "requests")
    assert current() == v1
    docs.publish({"fraud.toml": v2})
    wait_for(lambda: current() == v2, "the changed document")
    n = len(done)
    wait_for(lambda: len(done) > n + 20, "requests after the change")
    assert done[-1] == v2
    # A broken document is refused and the last good config kept.
    docs.publish({"fraud.toml": b'version = "0.1.0"\n[data]\n'})
    wait_for(lambda: reloads("failure") >= 1, "the failed reload")
    assert current() == v2
    failed = [x for x in srv.lines() if x.get("msg", "").startswith("config reload failed")]
    assert failed and docs.path("fraud.toml") in failed[0]["error"], failed
    assert "no top-level algorithm" in failed[0]["error"], failed
    # So is a missing one.
    docs.publish({"other.toml": v3})
    os.unlink(docs.path("fraud.toml"))
    wait_for(lambda: reloads("failure") >= 2, "the second failed reload")
    assert current() == v2
    failed = [x for x in srv.lines() if x.get("msg", "").startswith("config reload failed")]
    assert "cannot open" in failed[-1]["error"] and docs.path("fraud.toml") in failed[-1]["error"]
    # A good one again.
    docs.publish({"fraud.toml": v3, "other.toml": v3})
    wait_for(lambda: current() == v3, "the repaired document")
    n = len(done)
    wait_for(lambda: len(done) > n + 20, "requests after the repair")
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:5]
    assert set(done) <= {v1, v2, v3}, "a pod got something else"
    assert reloads("failure") == 2 and reloads("success") == 2, srv.metrics()
    assert srv.stop() == 0


def main():
    return run_groups("test_initdata.py", GROUPS)


if __name__ == "__main__":
    sys.exit(main())
