#!/usr/bin/env bash
# `coco-webhook certs`: the chain verifies, the SANs are the asked ones, keys are P-256 and
# mode 0600, the extensions are those of a CA and a TLS server; bad flags and existing files
# fail without changing anything; --force replaces; --overlay writes the overlay's files.
set -uo pipefail
: "${COCO_BIN:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# expect_status WANT CMD...: runs CMD, output to $tmp/out and $tmp/err.
expect_status() {
    local want=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        fail "exit $got, want $want: $*"
        sed 's/^/  /' "$tmp/err"
        return 1
    fi
    return 0
}

# Names of files under a directory with mode and checksum: "unchanged" compares these.
snapshot() {
    (cd "$1" && find . -type f -printf '%p %m ' -exec sha256sum {} \; 2>/dev/null | sort)
}

sans() {
    openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 | tr -d ' ' | tr ',' '\n' |
        sort
}

mode_of() {
    stat -c %a "$1"
}

# ---- defaults ----
d=$tmp/default
expect_status 0 "$COCO_BIN" certs --out "$d" || exit 1
for f in ca.crt ca.key tls.crt tls.key ca-bundle.b64; do
    [ -f "$d/$f" ] || fail "defaults: $f missing"
done
openssl verify -CAfile "$d/ca.crt" "$d/tls.crt" >/dev/null || fail "defaults: chain does not verify"
want=$(printf '%s\n' DNS:coco-webhook DNS:coco-webhook.coco-webhook DNS:coco-webhook.coco-webhook.svc \
    DNS:coco-webhook.coco-webhook.svc.cluster.local | sort)
[ "$(sans "$d/tls.crt")" = "$want" ] || fail "defaults: SANs $(sans "$d/tls.crt" | tr '\n' ' ')"
for k in ca.key tls.key; do
    [ "$(mode_of "$d/$k")" = 600 ] || fail "defaults: $k mode $(mode_of "$d/$k"), want 600"
    openssl pkey -in "$d/$k" -noout -text 2>/dev/null | grep -q 'NIST CURVE: P-256' ||
        fail "defaults: $k is not a P-256 key"
    head -1 "$d/$k" | grep -qx -- '-----BEGIN PRIVATE KEY-----' || fail "defaults: $k is not PKCS#8"
done
for c in ca.crt tls.crt; do
    [ "$(mode_of "$d/$c")" = 644 ] || fail "defaults: $c mode $(mode_of "$d/$c"), want 644"
    openssl x509 -in "$d/$c" -noout -text | grep -q 'ASN1 OID: prime256v1' ||
        fail "defaults: $c key is not P-256"
    openssl x509 -in "$d/$c" -noout -text | grep -q 'Signature Algorithm: ecdsa-with-SHA256' ||
        fail "defaults: $c not signed with ecdsa-with-SHA256"
done
# The serving certificate's key is the one in tls.key.
[ "$(openssl x509 -in "$d/tls.crt" -noout -pubkey)" = "$(openssl pkey -in "$d/tls.key" -pubout)" ] ||
    fail "defaults: tls.crt does not match tls.key"
[ "$(openssl x509 -in "$d/ca.crt" -noout -pubkey)" = "$(openssl pkey -in "$d/ca.key" -pubout)" ] ||
    fail "defaults: ca.crt does not match ca.key"

ca_text=$(openssl x509 -in "$d/ca.crt" -noout -text)
tls_text=$(openssl x509 -in "$d/tls.crt" -noout -text)
grep -A1 'X509v3 Basic Constraints: critical' <<<"$ca_text" | grep -q 'CA:TRUE' ||
    fail "CA: basicConstraints CA:TRUE critical missing"
grep -A1 'X509v3 Key Usage: critical' <<<"$ca_text" | grep -q 'Certificate Sign' ||
    fail "CA: keyUsage keyCertSign missing"
grep -A1 'X509v3 Basic Constraints' <<<"$tls_text" | grep -q 'CA:FALSE' ||
    fail "serving: basicConstraints CA:FALSE missing"
grep -A1 'X509v3 Key Usage' <<<"$tls_text" | grep -qx ' *Digital Signature' ||
    fail "serving: keyUsage must be digitalSignature"
grep -A1 'X509v3 Extended Key Usage' <<<"$tls_text" | grep -qx ' *TLS Web Server Authentication' ||
    fail "serving: extendedKeyUsage must be serverAuth"
for t in "$ca_text" "$tls_text"; do
    grep -q 'X509v3 Subject Key Identifier' <<<"$t" || fail "SKI missing"
    grep -q 'X509v3 Authority Key Identifier' <<<"$t" || fail "AKI missing"
done
ca_ski=$(grep -A1 'Subject Key Identifier' <<<"$ca_text" | tail -1 | tr -d ' ')
tls_aki=$(grep -A1 'Authority Key Identifier' <<<"$tls_text" | tail -1 | tr -d ' ' | sed 's/^keyid://')
[ "$ca_ski" = "$tls_aki" ] || fail "serving AKI $tls_aki is not the CA's SKI $ca_ski"
ca_serial=$(openssl x509 -in "$d/ca.crt" -noout -serial | cut -d= -f2)
tls_serial=$(openssl x509 -in "$d/tls.crt" -noout -serial | cut -d= -f2)
[ "${#tls_serial}" -ge 24 ] && [ "${#tls_serial}" -le 34 ] ||
    fail "serving serial $tls_serial is not a random 128-bit number"
[ "$ca_serial" != "$tls_serial" ] || fail "CA and serving serials are equal"
# notBefore a little in the past, validity as asked (365 and 3650 days by default).
now=$(date +%s)
nb=$(date -d "$(openssl x509 -in "$d/tls.crt" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in "$d/tls.crt" -noout -enddate | cut -d= -f2)" +%s)
ca_na=$(date -d "$(openssl x509 -in "$d/ca.crt" -noout -enddate | cut -d= -f2)" +%s)
[ $((now - nb)) -ge 60 ] && [ $((now - nb)) -le 86400 ] || fail "notBefore is not a little in the past"
[ $(((na - now) / 86400)) -eq 364 ] || [ $(((na - now) / 86400)) -eq 365 ] ||
    fail "serving certificate not valid for 365 days"
[ $(((ca_na - now) / 86400)) -ge 3649 ] && [ $(((ca_na - now) / 86400)) -le 3650 ] ||
    fail "CA not valid for 3650 days"
# ca-bundle.b64: one line, the base64 of ca.crt.
[ "$(wc -l <"$d/ca-bundle.b64")" -eq 1 ] || fail "ca-bundle.b64 is not one line"
base64 -d "$d/ca-bundle.b64" | cmp -s - "$d/ca.crt" || fail "ca-bundle.b64 is not base64 of ca.crt"
ls -A "$d" | grep -q '^\.' && fail "temporary files left in $d: $(ls -A "$d")"

# ---- the developer script's call, extra names, IPv6, custom service ----
d=$tmp/dev
expect_status 0 "$COCO_BIN" certs --out "$d" --service localhost --ip 127.0.0.1 || exit 1
want=$(printf '%s\n' DNS:localhost DNS:localhost.coco-webhook DNS:localhost.coco-webhook.svc \
    DNS:localhost.coco-webhook.svc.cluster.local IPAddress:127.0.0.1 | sort)
[ "$(sans "$d/tls.crt")" = "$want" ] || fail "dev: SANs $(sans "$d/tls.crt" | tr '\n' ' ')"
openssl verify -CAfile "$d/ca.crt" "$d/tls.crt" >/dev/null || fail "dev: chain does not verify"
openssl verify -CAfile "$d/ca.crt" -verify_hostname localhost "$d/tls.crt" >/dev/null ||
    fail "dev: not valid for host localhost"
openssl verify -CAfile "$d/ca.crt" -verify_ip 127.0.0.1 "$d/tls.crt" >/dev/null ||
    fail "dev: not valid for 127.0.0.1"

d=$tmp/extra
expect_status 0 "$COCO_BIN" certs --out "$d" --service hook --namespace sys --dns hook.example.com \
    --dns=hook.internal --ip 10.0.0.1 --ip ::1 --ip 10.0.0.1 --days 30 --ca-days 60 || exit 1
want=$(printf '%s\n' DNS:hook DNS:hook.sys DNS:hook.sys.svc DNS:hook.sys.svc.cluster.local \
    DNS:hook.example.com DNS:hook.internal IPAddress:10.0.0.1 IPAddress:0:0:0:0:0:0:0:1 | sort)
[ "$(sans "$d/tls.crt")" = "$want" ] || fail "extra: SANs $(sans "$d/tls.crt" | tr '\n' ' ')"
na=$(date -d "$(openssl x509 -in "$d/tls.crt" -noout -enddate | cut -d= -f2)" +%s)
[ $(((na - now) / 86400)) -ge 29 ] && [ $(((na - now) / 86400)) -le 30 ] || fail "--days 30 ignored"

# ---- bad flags: exit 2, nothing written ----
bad=$tmp/bad
for args in "--bogus" "--out" "--service" "" "--out $bad extra" "--out $bad --days 0" \
    "--out $bad --days -5" "--out $bad --days 12x" "--out $bad --days 99999999999999999999" \
    "--out $bad --days 36501" "--out $bad --ca-days abc" "--out $bad --days 400 --ca-days 300" \
    "--out $bad --ip 300.1.1.1" "--out $bad --ip localhost" "--out $bad --service Bad_Name" \
    "--out $bad --namespace a.b" "--out $bad --dns -bad-" "--out $bad --dns UPPER.case" \
    "--out $bad --service $(printf 'a%.0s' {1..64})"; do
    # shellcheck disable=SC2086 # word splitting of the flags is the point
    expect_status 2 "$COCO_BIN" certs $args
    [ -e "$bad" ] && fail "certs $args: created $bad" && rm -rf "$bad"
    [ -s "$tmp/err" ] || fail "certs $args: no message"
done
# CERTS_EXTRA_NAMES_MAX: 64 extra names and 64 addresses pass, one more does not.
many_dns=() many_ip=()
for i in $(seq 1 65); do
    many_dns+=(--dns "n$i.example.com")
    many_ip+=(--ip "10.1.0.$i")
done
expect_status 2 "$COCO_BIN" certs --out "$bad" "${many_dns[@]}"
expect_status 2 "$COCO_BIN" certs --out "$bad" "${many_ip[@]}"
[ -e "$bad" ] && fail "over the name limit: created $bad" && rm -rf "$bad"
expect_status 0 "$COCO_BIN" certs --out "$tmp/many" "${many_dns[@]:2}" "${many_ip[@]:2}" &&
    [ "$(sans "$tmp/many/tls.crt" | wc -l)" -eq $((4 + 64 + 64)) ] ||
    fail "64 extra names and 64 addresses: SANs missing"
expect_status 0 "$COCO_BIN" certs --help && grep -q -- '--overlay' "$tmp/out" ||
    fail "--help does not list the options"

# ---- existing files: refused without --force, nothing changes ----
d=$tmp/default
before=$(snapshot "$d")
expect_status 1 "$COCO_BIN" certs --out "$d"
grep -q 'exists' "$tmp/err" || fail "existing files: message does not say so"
[ "$(snapshot "$d")" = "$before" ] || fail "existing files: changed without --force"
# One existing file is enough, and the other directory stays untouched too.
ov=$tmp/overlay
mkdir -p "$ov"
echo keep >"$ov/cabundle-patch.yaml"
expect_status 1 "$COCO_BIN" certs --out "$tmp/fresh" --overlay "$ov"
[ -e "$tmp/fresh" ] && fail "refusal created the --out directory"
[ "$(cat "$ov/cabundle-patch.yaml")" = keep ] || fail "refusal changed the overlay"
[ "$(ls -A "$ov")" = cabundle-patch.yaml ] || fail "refusal wrote into the overlay"
# An empty existing directory is fine.
mkdir "$tmp/empty"
expect_status 0 "$COCO_BIN" certs --out "$tmp/empty" || true

# ---- --force replaces everything, atomically (no temporary files left) ----
old_ca=$(sha256sum <"$d/ca.crt")
old_key=$(sha256sum <"$d/tls.key")
expect_status 0 "$COCO_BIN" certs --out "$d" --force || true
[ "$(sha256sum <"$d/ca.crt")" != "$old_ca" ] || fail "--force did not replace ca.crt"
[ "$(sha256sum <"$d/tls.key")" != "$old_key" ] || fail "--force did not replace tls.key"
openssl verify -CAfile "$d/ca.crt" "$d/tls.crt" >/dev/null || fail "--force: chain does not verify"
[ "$(mode_of "$d/tls.key")" = 600 ] || fail "--force: tls.key mode $(mode_of "$d/tls.key")"
ls -A "$d" | grep -q '^\.' && fail "--force left temporary files: $(ls -A "$d")"

# ---- --overlay: the self-managed overlay's files ----
rm -rf "$ov"
expect_status 0 "$COCO_BIN" certs --out "$tmp/ovcerts" --overlay "$ov" || exit 1
[ "$(mode_of "$ov/tls-secret.yaml")" = 600 ] || fail "tls-secret.yaml mode $(mode_of "$ov/tls-secret.yaml")"
/usr/bin/python3 - "$ov" "$tmp/ovcerts" <<'EOF' || fail "overlay files do not match the certificates"
import base64, sys, yaml
ov, certs = sys.argv[1], sys.argv[2]
sec = yaml.safe_load(open(f"{ov}/tls-secret.yaml"))
patch = yaml.safe_load(open(f"{ov}/cabundle-patch.yaml"))
assert sec["kind"] == "Secret" and sec["type"] == "kubernetes.io/tls", sec
assert sec["metadata"] == {"name": "coco-webhook-tls", "namespace": "coco-webhook"}
assert base64.b64decode(sec["data"]["tls.crt"]) == open(f"{certs}/tls.crt", "rb").read()
assert base64.b64decode(sec["data"]["tls.key"]) == open(f"{certs}/tls.key", "rb").read()
assert patch["kind"] == "MutatingWebhookConfiguration"
assert patch["metadata"]["name"] == "coco-webhook"
names = [w["name"] for w in patch["webhooks"]]
assert names == ["object.coco.confidentialcontainers.org",
                 "namespace.coco.confidentialcontainers.org"], names
for w in patch["webhooks"]:
    assert base64.b64decode(w["clientConfig"]["caBundle"]) == open(f"{certs}/ca.crt", "rb").read()
EOF
# The webhook names in the patch are those of the manifests.
for n in object.coco.confidentialcontainers.org namespace.coco.confidentialcontainers.org; do
    grep -q "name: $n\$" "${COCO_SRC:-.}/manifests/base/mutatingwebhookconfiguration.yaml" ||
        fail "webhook $n not in manifests/base"
done

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "certs: all checks passed"
