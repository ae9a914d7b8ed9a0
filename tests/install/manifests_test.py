#!/usr/bin/python3
"""Renders manifests/base and every overlay with `kubectl kustomize`, validates every object
against the Kubernetes OpenAPI schemas in $COCO_SHARED/k8s (unknown fields included), and
checks that the manifests agree with the server (routes, port, config) and with SPEC §1 and
§7 (selectors, policies, Pod Security "restricted"). The optional components
(manifests/components) are rendered on top of each overlay: the NetworkPolicy against its
schema and the Deployment, the Prometheus Operator objects (no schema here) by structure,
with every metric an alert names exported by webhook/server/metrics.c.

Environment: COCO_BIN, COCO_SHARED, COCO_SRC, COCO_KUBECTL (see tests/CMakeLists.txt)."""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import jsonschema
import yaml

BIN = os.environ["COCO_BIN"]
SHARED = os.environ["COCO_SHARED"]
SRC = os.environ["COCO_SRC"]
KUBECTL = os.environ.get("COCO_KUBECTL") or "kubectl"
# The manifests use kustomize 5 (components, labels, options): kubectl 1.27 or later.
KUSTOMIZE_MIN = (5, 0)

NAMESPACE = "coco-webhook"
LABEL = "coco.confidentialcontainers.org/enabled"
SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"]
# SPEC §4; cross-checked against webhook/server/server.h when it names them.
ROUTES = {"/mutate", "/mutate-namespace", "/healthz", "/readyz", "/metrics"}
DEFAULT_LISTEN = ":8443"

SCHEMA_FILES = {
    "v1": "api__v1_openapi.json",
    "apps/v1": "apis__apps__v1_openapi.json",
    "policy/v1": "apis__policy__v1_openapi.json",
    "admissionregistration.k8s.io/v1": "apis__admissionregistration.k8s.io__v1_openapi.json",
    "networking.k8s.io/v1": "apis__networking.k8s.io__v1_openapi.json",
}
SCHEMA_KINDS = {
    ("v1", "Namespace"): "io.k8s.api.core.v1.Namespace",
    ("v1", "ServiceAccount"): "io.k8s.api.core.v1.ServiceAccount",
    ("v1", "ConfigMap"): "io.k8s.api.core.v1.ConfigMap",
    ("v1", "Secret"): "io.k8s.api.core.v1.Secret",
    ("v1", "Service"): "io.k8s.api.core.v1.Service",
    ("apps/v1", "Deployment"): "io.k8s.api.apps.v1.Deployment",
    ("policy/v1", "PodDisruptionBudget"): "io.k8s.api.policy.v1.PodDisruptionBudget",
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"):
        "io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration",
    ("networking.k8s.io/v1", "NetworkPolicy"): "io.k8s.api.networking.v1.NetworkPolicy",
}
MONITORING_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor"),
                    ("monitoring.coreos.com/v1", "PrometheusRule")}
COMPONENTS = ("monitoring", "network-policy")
SEALED_NAMESPACES = ("  namespaces:\n    fraud-detection:\n"
                     "      - \"sealed-azure-sas:/sealed/azure-value\"\n"
                     "      - \"sealed-dataset-key:/sealed/decryption\"\n")
CERT_MANAGER_KINDS = {("cert-manager.io/v1", "Issuer"), ("cert-manager.io/v1", "Certificate")}

failures = []


def fail(where, msg):
    failures.append(f"{where}: {msg}")


def check(cond, where, msg):
    if not cond:
        fail(where, msg)
    return cond


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


# ---- rendering ----

def render(path):
    r = run([KUBECTL, "kustomize", path])
    if r.returncode != 0:
        fail(path, f"kubectl kustomize failed: {r.stderr.strip()}")
        return []
    return [d for d in yaml.safe_load_all(r.stdout) if d is not None]


def render_self_managed(tmp):
    """Copies manifests/ and lets `coco-webhook certs --overlay` fill in the generated files."""
    work = os.path.join(tmp, "manifests")
    shutil.copytree(os.path.join(SRC, "manifests"), work,
                    ignore=shutil.ignore_patterns("tls-secret.yaml", "cabundle-patch.yaml"))
    overlay = os.path.join(work, "overlays", "self-managed")
    out = os.path.join(tmp, "certs")
    r = run([BIN, "certs", "--out", out, "--overlay", overlay])
    if r.returncode != 0:
        fail("self-managed", f"coco-webhook certs --overlay failed: {r.stderr.strip()}")
        return [], out
    return render(overlay), out


# ---- schemas ----

_schemas = {}


def schema_doc(api_version):
    if api_version not in _schemas:
        with open(os.path.join(SHARED, "k8s", SCHEMA_FILES[api_version])) as f:
            _schemas[api_version] = json.load(f)
    return _schemas[api_version]


def resolve(node, components):
    """Follows $ref and single-entry allOf wrappers to the schema that has the properties."""
    while True:
        if "$ref" in node:
            node = components["schemas"][node["$ref"].split("/")[-1]]
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = node["allOf"][0]
        else:
            return node


def unknown_fields(value, node, components, path):
    """jsonschema ignores unknown fields (no additionalProperties in these schemas); a typo
    in a manifest would pass. Walk the object and name every field the schema does not."""
    node = resolve(node, components)
    found = []
    if isinstance(value, dict):
        props = node.get("properties")
        extra = node.get("additionalProperties")
        for key, sub in value.items():
            if props is not None:
                if key not in props:
                    found.append(f"{path}.{key}")
                    continue
                found += unknown_fields(sub, props[key], components, f"{path}.{key}")
            elif isinstance(extra, dict):
                found += unknown_fields(sub, extra, components, f"{path}.{key}")
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for i, sub in enumerate(value):
            found += unknown_fields(sub, node["items"], components, f"{path}[{i}]")
    return found


def validate_k8s(obj, where):
    key = (obj.get("apiVersion"), obj.get("kind"))
    doc = schema_doc(key[0])
    components = doc["components"]
    root = {"$ref": "#/components/schemas/" + SCHEMA_KINDS[key], "components": components}
    validator = jsonschema.Draft7Validator(root)
    for e in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
        fail(where, f"schema: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}")
    for field in unknown_fields(obj, {"$ref": root["$ref"]}, components, ""):
        fail(where, f"schema: unknown field {field}")


def validate_cert_manager(obj, where):
    """No schema for cert-manager here: its required fields (cert-manager.io/v1), by hand."""
    spec = obj.get("spec") or {}
    meta = obj.get("metadata") or {}
    check(meta.get("name") and meta.get("namespace") == NAMESPACE, where,
          "needs a name and namespace coco-webhook")
    if obj["kind"] == "Issuer":
        kinds = [k for k in ("selfSigned", "ca", "acme", "vault", "venafi") if k in spec]
        check(len(kinds) == 1, where, f"an Issuer needs exactly one issuer type, has {kinds}")
        if "ca" in spec:
            check(isinstance(spec["ca"], dict) and spec["ca"].get("secretName"), where,
                  "spec.ca.secretName is required")
        return
    check(isinstance(spec.get("secretName"), str) and spec["secretName"], where,
          "spec.secretName is required")
    ref = spec.get("issuerRef")
    check(isinstance(ref, dict) and ref.get("name"), where, "spec.issuerRef.name is required")
    check(spec.get("commonName") or spec.get("dnsNames") or spec.get("ipAddresses"), where,
          "a Certificate needs commonName, dnsNames or ipAddresses")
    for key in ("duration", "renewBefore"):
        if key in spec:
            check(re.fullmatch(r"(\d+h)?(\d+m)?(\d+s)?", str(spec[key])), where,
                  f"spec.{key} {spec[key]!r} is not a Go duration")
    known = {"secretName", "issuerRef", "commonName", "dnsNames", "ipAddresses", "uris",
             "emailAddresses", "duration", "renewBefore", "usages", "privateKey", "isCA",
             "subject", "secretTemplate", "keystores", "literalSubject",
             "revisionHistoryLimit", "additionalOutputFormats", "encodeUsagesInRequest",
             "nameConstraints", "otherNames"}
    for key in spec:
        check(key in known, where, f"unknown Certificate field spec.{key}")


def validate_monitoring(obj, where):
    """No schema for the Prometheus Operator's CRDs here: their structure, by hand."""
    spec = obj.get("spec") or {}
    meta = obj.get("metadata") or {}
    check(meta.get("name") and meta.get("namespace") == NAMESPACE, where,
          "needs a name and namespace coco-webhook")
    if obj["kind"] == "ServiceMonitor":
        check(set(spec) <= {"selector", "namespaceSelector", "endpoints", "jobLabel",
                            "targetLabels", "podTargetLabels", "sampleLimit"}, where,
              f"unknown ServiceMonitor fields {sorted(spec)}")
        check(isinstance((spec.get("selector") or {}).get("matchLabels"), dict), where,
              "spec.selector.matchLabels is required")
        eps = spec.get("endpoints")
        if check(isinstance(eps, list) and eps, where, "spec.endpoints is required"):
            known = {"port", "targetPort", "path", "scheme", "interval", "scrapeTimeout",
                     "tlsConfig", "bearerTokenSecret", "authorization", "honorLabels",
                     "relabelings", "metricRelabelings", "params"}
            for ep in eps:
                check(set(ep) <= known, where, f"unknown endpoint fields {sorted(set(ep) - known)}")
                check(ep.get("scheme") in ("http", "https"), where, "endpoint scheme")
                for key in ("interval", "scrapeTimeout"):
                    if key in ep:
                        check(re.fullmatch(r"(\d+[smh])+", str(ep[key])), where,
                              f"{key} {ep[key]!r} is not a Prometheus duration")
        return
    groups = spec.get("groups")
    if not check(isinstance(groups, list) and groups, where, "spec.groups is required"):
        return
    for g in groups:
        check(isinstance(g.get("name"), str) and g["name"], where, "a group needs a name")
        rules = g.get("rules")
        if not check(isinstance(rules, list) and rules, where, f"group {g.get('name')}: rules"):
            continue
        for rule in rules:
            name = rule.get("alert") or rule.get("record")
            rw = f"{where} rule {name}"
            check(bool(rule.get("alert")) != bool(rule.get("record")), rw,
                  "needs exactly one of alert and record")
            check(set(rule) <= {"alert", "record", "expr", "for", "keep_firing_for", "labels",
                                "annotations"}, rw, f"unknown fields {sorted(rule)}")
            check(isinstance(rule.get("expr"), str) and rule["expr"].strip(), rw, "needs expr")
            if "for" in rule:
                check(re.fullmatch(r"(\d+[smhdwy])+", str(rule["for"])), rw,
                      f"for {rule['for']!r} is not a Prometheus duration")


def validate(objs, where):
    for obj in objs:
        key = (obj.get("apiVersion"), obj.get("kind"))
        name = f"{where} {key[1]}/{(obj.get('metadata') or {}).get('name')}"
        if key in SCHEMA_KINDS:
            validate_k8s(obj, name)
        elif key in CERT_MANAGER_KINDS:
            validate_cert_manager(obj, name)
        elif key in MONITORING_KINDS:
            validate_monitoring(obj, name)
        else:
            fail(name, f"unknown kind {key[0]} {key[1]}: map it to a schema in this test")


# ---- the server's side ----

def server_facts():
    """Routes and default listen address: SPEC §4, webhook/server/server.h when present, and
    `coco-webhook serve --help`."""
    routes, listen = set(ROUTES), DEFAULT_LISTEN
    header = os.path.join(SRC, "webhook", "server", "server.h")
    if os.path.exists(header):
        with open(header) as f:
            text = f.read()
        literals = set(re.findall(r'"(/[a-z-]*)"', text))
        for route in ROUTES:
            check(route in literals, "webhook/server/server.h", f"route {route} not found")
        m = re.search(r'"([0-9.\[\]:]*:(\d+))"', text)
        if m:
            check(m.group(1) == DEFAULT_LISTEN, "webhook/server/server.h",
                  f"default listen {m.group(1)}, manifests expect {DEFAULT_LISTEN}")
    r = run([BIN, "serve", "--help"])
    check(r.returncode == 0, "serve --help", f"exit {r.returncode}: {r.stderr.strip()[:200]}")
    check(DEFAULT_LISTEN in r.stdout, "serve --help",
          f"does not name the default listen address {DEFAULT_LISTEN}")
    port = int(listen.rsplit(":", 1)[1])
    return routes, port


def check_config(text, where):
    """The ConfigMap's config.yaml: SPEC §5 defaults, and accepted by the binary."""
    with open(os.path.join(SHARED, "SPEC.md")) as f:
        spec = f.read()
    m = re.search(r"## 5\..*?```yaml\n(.*?)```", spec, re.S)
    if check(m, "SPEC.md", "no yaml block in §5"):
        check(yaml.safe_load(text) == yaml.safe_load(m.group(1)), where,
              "config.yaml differs from the SPEC §5 defaults")
    with tempfile.TemporaryDirectory() as tmp:
        good = os.path.join(tmp, "config.yaml")
        bad = os.path.join(tmp, "bad.yaml")
        empty = os.path.join(tmp, "empty.yaml")
        with open(good, "w") as f:
            f.write(text)
        with open(bad, "w") as f:
            f.write(text + "notAKey: 1\n")
        open(empty, "w").close()
        r = run([BIN, "mutate", "--config", good, "-f", empty])
        check(r.returncode == 0, where,
              f"`coco-webhook mutate --config` rejects it: {r.stderr.strip()[:300]}")
        # Proves the file above was really read.
        r = run([BIN, "mutate", "--config", bad, "-f", empty])
        check(r.returncode != 0 and "notAKey" in r.stderr, where,
              "`coco-webhook mutate --config` accepts an unknown key: was the file read?")


# ---- the shape of the install ----

def by_kind(objs):
    out = {}
    for o in objs:
        out.setdefault(o["kind"], []).append(o)
    return out


def one(kinds, kind, where):
    items = kinds.get(kind, [])
    check(len(items) == 1, where, f"expected one {kind}, found {len(items)}")
    return items[0] if items else None


def matches(selector_labels, labels):
    return all(labels.get(k) == v for k, v in selector_labels.items())


def check_security(pod, where):
    """Pod Security Standards "restricted" (kubernetes.io/docs/concepts/security/
    pod-security-standards), written out, plus what OpenShift's restricted-v2 SCC needs."""
    psc = pod.get("securityContext") or {}
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        check(not pod.get(key), where, f"{key} must be unset or false")
    allowed_volumes = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                       "persistentVolumeClaim", "projected", "secret"}
    for v in pod.get("volumes", []):
        kinds = set(v) - {"name"}
        check(kinds <= allowed_volumes, where, f"volume {v['name']}: type {kinds} not allowed")
    check(psc.get("runAsNonRoot") is True, where, "pod runAsNonRoot must be true")
    check("runAsUser" not in psc and "fsGroup" not in psc, where,
          "no fixed runAsUser/fsGroup (OpenShift restricted-v2 assigns them)")
    check((psc.get("seccompProfile") or {}).get("type") in ("RuntimeDefault", "Localhost"),
          where, "pod seccompProfile must be RuntimeDefault")
    check(not psc.get("sysctls"), where, "no sysctls")
    containers = pod.get("containers", []) + pod.get("initContainers", [])
    for c in containers:
        cw = f"{where} container {c['name']}"
        sc = c.get("securityContext") or {}
        check(sc.get("privileged") is not True, cw, "privileged")
        check(sc.get("allowPrivilegeEscalation") is False, cw,
              "allowPrivilegeEscalation must be false")
        check(sc.get("readOnlyRootFilesystem") is True, cw, "readOnlyRootFilesystem must be true")
        caps = sc.get("capabilities") or {}
        check("ALL" in (caps.get("drop") or []), cw, "capabilities must drop ALL")
        check(set(caps.get("add") or []) <= {"NET_BIND_SERVICE"}, cw, "capabilities added")
        check(sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True, cw, "runAsNonRoot")
        check(sc.get("runAsUser", 1) != 0, cw, "runAsUser 0")
        check("runAsUser" not in sc, cw, "no fixed runAsUser (OpenShift restricted-v2)")
        prof = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        check(prof in ("RuntimeDefault", "Localhost"), cw, "seccompProfile")
        check(sc.get("procMount", "Default") == "Default", cw, "procMount")
        for p in c.get("ports", []):
            check("hostPort" not in p, cw, "hostPort")
        seopts = sc.get("seLinuxOptions") or {}
        check(seopts.get("type", "container_t") in ("container_t", "container_init_t",
                                                    "container_kvm_t"), cw, "seLinux type")
        check(not seopts.get("user") and not seopts.get("role"), cw, "seLinux user/role")


def webhook_excludes(wh, where):
    ns_sel = wh.get("namespaceSelector") or {}
    excluded = set()
    for e in ns_sel.get("matchExpressions", []):
        if e.get("key") == "kubernetes.io/metadata.name" and e.get("operator") == "NotIn":
            excluded |= set(e.get("values", []))
    for ns in SYSTEM_NAMESPACES + [NAMESPACE]:
        check(ns in excluded, where, f"namespaceSelector does not exclude {ns}")


def check_webhooks(mwc, svc, routes, where):
    meta = mwc["metadata"]
    # Configurations run sorted by name: ours before the peer-pods webhook's (FACTS.md).
    with open(os.path.join(SHARED, "samples", "caa-peerpods-webhook-deploy.rendered.yaml")) as f:
        peer = [d for d in yaml.safe_load_all(f)
                if d and d.get("kind") == "MutatingWebhookConfiguration"]
    peer_names = [p["metadata"]["name"] for p in peer] + ["mutating-webhook-configuration"]
    for name in peer_names:
        check(meta["name"] < name, where, f"name {meta['name']} does not sort before {name}")
    hooks = {w["clientConfig"]["service"]["path"]: w for w in mwc.get("webhooks", [])}
    check(set(hooks) == {"/mutate", "/mutate-namespace"}, where,
          f"webhook paths {sorted(hooks)}, want /mutate and /mutate-namespace")
    svc_port = svc["spec"]["ports"][0]["port"]
    for path, wh in hooks.items():
        w = f"{where} webhook {wh['name']}"
        check(path in routes, w, f"path {path} is not a server route")
        ref = wh["clientConfig"]["service"]
        check(ref["name"] == svc["metadata"]["name"] and
              ref["namespace"] == svc["metadata"]["namespace"], w, "does not name the Service")
        check(ref.get("port", 443) == svc_port, w, f"port {ref.get('port')} != Service {svc_port}")
        check("url" not in wh["clientConfig"], w, "clientConfig.url")
        for key, want in (("failurePolicy", "Fail"), ("sideEffects", "None"),
                          ("reinvocationPolicy", "IfNeeded"), ("matchPolicy", "Equivalent"),
                          ("admissionReviewVersions", ["v1"])):
            check(wh.get(key) == want, w, f"{key} {wh.get(key)!r}, want {want!r}")
        check(isinstance(wh.get("timeoutSeconds"), int) and 1 <= wh["timeoutSeconds"] <= 10,
              w, "timeoutSeconds should be short (1-10)")
        rules = sorted((tuple(r["apiGroups"]), tuple(sorted(r["apiVersions"])),
                        tuple(sorted(r["operations"])), tuple(r["resources"]))
                       for r in wh.get("rules", []))
        want = sorted([(("",), ("v1",), ("CREATE",), ("pods",)),
                       (("kubeflow.org",), ("v1", "v1alpha1", "v1beta1"), ("CREATE", "UPDATE"),
                        ("notebooks",))])
        check(rules == want, w, f"rules {rules}, want {want}")
        webhook_excludes(wh, w)
        obj_sel = (wh.get("objectSelector") or {}).get("matchExpressions", [])
        ns_sel = (wh.get("namespaceSelector") or {}).get("matchExpressions", [])
        if path == "/mutate":
            check({"key": LABEL, "operator": "In", "values": ["true"]} in obj_sel, w,
                  "objectSelector must require the label \"true\"")
            check(not any(e["key"] == LABEL for e in ns_sel), w,
                  "namespaceSelector must not look at the label")
        else:
            check({"key": LABEL, "operator": "In", "values": ["true"]} in ns_sel, w,
                  "namespaceSelector must require the label \"true\"")
            check(obj_sel == [{"key": LABEL, "operator": "DoesNotExist"}], w,
                  "objectSelector must require the label to be absent")


def check_install(objs, where, routes, port):
    kinds = by_kind(objs)
    for kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"):
        check(kind not in kinds, where, f"no RBAC wanted, found {kind}")
    ns = one(kinds, "Namespace", where)
    sa = one(kinds, "ServiceAccount", where)
    dep = one(kinds, "Deployment", where)
    svc = one(kinds, "Service", where)
    pdb = one(kinds, "PodDisruptionBudget", where)
    mwc = one(kinds, "MutatingWebhookConfiguration", where)
    cms = kinds.get("ConfigMap", [])
    if None in (ns, sa, dep, svc, pdb, mwc):
        return None
    check(ns["metadata"]["name"] == NAMESPACE, where, "namespace name")
    for o in objs:
        if o["kind"] not in ("Namespace", "MutatingWebhookConfiguration"):
            check(o["metadata"].get("namespace") == NAMESPACE, where,
                  f"{o['kind']}/{o['metadata']['name']} not in namespace {NAMESPACE}")
    check(sa.get("automountServiceAccountToken") is False, where, "ServiceAccount mounts a token")

    spec = dep["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    dw = f"{where} Deployment"
    check(spec.get("replicas") == 2, dw, "replicas must be 2")
    check(matches(spec["selector"]["matchLabels"], labels), dw, "selector misses its pods")
    check(pod.get("serviceAccountName") == sa["metadata"]["name"], dw, "serviceAccountName")
    check(pod.get("automountServiceAccountToken") is not True, dw, "mounts a token")
    spread = pod.get("topologySpreadConstraints") or []
    anti = (pod.get("affinity") or {}).get("podAntiAffinity")
    check(spread or anti, dw, "needs topologySpreadConstraints or podAntiAffinity")
    for c in spread:
        check(matches(c["labelSelector"]["matchLabels"], labels), dw, "spread selector")
    check_security(pod, dw)
    # SPEC §4: SIGTERM keeps serving for shutdownDelay (10 s by default), then finishes the
    # requests in flight (each at most the webhooks' timeoutSeconds): the grace period covers
    # both before the kubelet's SIGKILL.
    longest = max((w.get("timeoutSeconds") or 10) for w in mwc.get("webhooks", []))
    check(pod.get("terminationGracePeriodSeconds", 30) >= 10 + longest + 5, dw,
          "terminationGracePeriodSeconds must cover shutdownDelay (10s) plus the longest "
          "request")
    check(len(pod["containers"]) == 1, dw, "one container")
    c = pod["containers"][0]
    check(c.get("args") == ["serve", "--config", "/etc/coco-webhook/config/config.yaml",
                            "--tls-cert", "/etc/coco-webhook/tls/tls.crt",
                            "--tls-key", "/etc/coco-webhook/tls/tls.key"], dw,
          f"args {c.get('args')}")
    check("command" not in c, dw, "command overrides the image ENTRYPOINT")
    image = c.get("image", "")
    check(re.fullmatch(r"[a-z0-9./-]+/coco-webhook(:[\w.-]+|@sha256:[0-9a-f]{64})", image), dw,
          f"image {image!r} has no tag (kustomize images: sets it)")
    env = {e["name"]: e for e in c.get("env", [])}
    check(((env.get("POD_NAMESPACE") or {}).get("valueFrom") or {}).get("fieldRef", {})
          .get("fieldPath") == "metadata.namespace", dw, "env POD_NAMESPACE from the downward API")
    res = c.get("resources") or {}
    for k in ("requests", "limits"):
        check({"cpu", "memory"} <= set(res.get(k) or {}) or
              (k == "limits" and "memory" in (res.get(k) or {})), dw, f"resources.{k}")
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    check(port in ports.values(), dw, f"container does not expose the server port {port}")

    def port_of(p):
        return ports.get(p) if isinstance(p, str) else p

    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = (c.get(probe) or {}).get("httpGet") or {}
        check(get.get("path") == path and path in routes, dw, f"{probe} path {get.get('path')}")
        check(get.get("scheme") == "HTTPS", dw, f"{probe} scheme must be HTTPS")
        check(port_of(get.get("port")) == port, dw, f"{probe} port {get.get('port')}")

    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    tls = [n for n, v in vols.items() if (v.get("secret") or {}).get("secretName") ==
           "coco-webhook-tls"]
    check(len(tls) == 1 and mounts.get(tls[0], {}).get("mountPath") == "/etc/coco-webhook/tls"
          and "subPath" not in mounts.get(tls[0], {}), dw,
          "Secret coco-webhook-tls must be mounted (no subPath) at /etc/coco-webhook/tls")
    cfg = [n for n, v in vols.items() if "configMap" in v]
    config_text = None
    if check(len(cfg) == 1, dw, "one ConfigMap volume"):
        m = mounts.get(cfg[0], {})
        check(m.get("mountPath") == "/etc/coco-webhook/config" and "subPath" not in m, dw,
              "config mounted (no subPath) at /etc/coco-webhook/config")
        cm_name = vols[cfg[0]]["configMap"]["name"]
        cm = [x for x in cms if x["metadata"]["name"] == cm_name]
        if check(len(cm) == 1 and "config.yaml" in cm[0].get("data", {}), dw,
                 f"ConfigMap {cm_name} with config.yaml"):
            config_text = cm[0]["data"]["config.yaml"]

    sw = f"{where} Service"
    check(matches(svc["spec"]["selector"], labels), sw, "selector misses the Deployment's pods")
    check(len(svc["spec"]["ports"]) == 1 and svc["spec"]["ports"][0]["port"] == 443, sw,
          "must expose 443")
    check(port_of(svc["spec"]["ports"][0].get("targetPort")) == port, sw,
          f"targetPort {svc['spec']['ports'][0].get('targetPort')} is not the server port {port}")
    pw = f"{where} PodDisruptionBudget"
    check(pdb["spec"].get("minAvailable") == 1, pw, "minAvailable must be 1")
    check(matches(pdb["spec"]["selector"]["matchLabels"], labels), pw, "selector misses pods")
    check_webhooks(mwc, svc, routes, f"{where} MutatingWebhookConfiguration")
    return {"kinds": kinds, "mwc": mwc, "svc": svc, "config": config_text}


# ---- the optional components ----

def render_components(tmp, overlay):
    """manifests/ copied into tmp with an overlay of overlay plus every component, as the
    README shows."""
    work = os.path.join(tmp, "manifests")
    if not os.path.isdir(work):
        shutil.copytree(os.path.join(SRC, "manifests"), work)
    mine = os.path.join(work, "overlays", "with-components-" + overlay)
    os.makedirs(mine, exist_ok=True)
    # The README's ConfigMap patch: config.yaml replaced, with per-namespace sealed secrets.
    with open(os.path.join(SRC, "manifests", "base", "config.yaml")) as f:
        config = f.read()
    config = config.replace("  namespaces: {}\n", SEALED_NAMESPACES)
    with open(os.path.join(mine, "config.yaml"), "w") as f:
        f.write(config)
    with open(os.path.join(mine, "kustomization.yaml"), "w") as f:
        f.write("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                f"resources:\n  - ../{overlay}\ncomponents:\n" +
                "".join(f"  - ../../components/{c}\n" for c in COMPONENTS) +
                "configMapGenerator:\n  - name: coco-webhook-config\n"
                "    namespace: coco-webhook\n    behavior: replace\n"
                "    files:\n      - config.yaml\n"
                "    options:\n      disableNameSuffixHash: true\n")
    return render(mine)


def exported_metrics():
    """{name: set of label names} from the exposition webhook/server/metrics.c writes; histograms
    add _bucket, _sum and _count. The text returned holds the label values the server writes."""
    with open(os.path.join(SRC, "webhook", "server", "metrics.c")) as f:
        text = f.read()
    out = {}
    for name, kind in re.findall(r"# TYPE (coco_webhook_\w+) (\w+)", text):
        names = [name] + ([name + s for s in ("_bucket", "_sum", "_count")]
                          if kind == "histogram" else [])
        for n in names:
            labels = set()
            for m in re.finditer(re.escape(n) + r"\{([^}]*)\}", text):
                labels |= set(re.findall(r"(\w+)=", m.group(1)))
                labels |= set(re.findall(r"(\w+)=\"\s*\);", m.group(1)))
            if re.search(re.escape(n) + r'\{(\w+)="\s*\);', text):
                labels |= set(re.findall(re.escape(n) + r'\{(\w+)="', text))
            out[n] = labels
    # The values of the result label are the engine's outcome names (engine_outcome_name).
    with open(os.path.join(SRC, "webhook", "core", "engine.c")) as f:
        text += f.read()
    return out, text


def check_alerts(rule_obj, where):
    """Each expression names only metrics the server exports (or Prometheus's own `up`),
    with their labels, and label values the server writes; the four kinds of alert the
    install needs are there."""
    metrics, source = exported_metrics()
    check("coco_webhook_certificate_expiry_timestamp_seconds" in metrics, "webhook/server/metrics.c",
          "no metrics found (parser out of date?)")
    scrape_labels = {"job", "namespace", "pod", "service", "instance", "endpoint", "container"}
    promql_words = {"sum", "by", "without", "on", "ignoring", "group_left", "group_right",
                    "increase", "rate", "irate", "absent", "min", "max", "avg", "count", "time",
                    "offset", "and", "or", "unless", "bool", "histogram_quantile", "le",
                    "humanize", "topk", "bottomk", "clamp_min", "clamp_max", "delta", "deriv"}
    exprs = {}
    for g in rule_obj["spec"]["groups"]:
        for rule in g["rules"]:
            exprs[rule.get("alert") or rule.get("record")] = rule["expr"]
    for alert, expr in exprs.items():
        aw = f"{where} {alert}"
        depth = 0
        for ch in expr:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            check(depth >= 0, aw, "unbalanced parentheses")
        check(depth == 0, aw, "unbalanced parentheses")
        no_strings = re.sub(r'"[^"]*"', '""', expr)
        no_strings = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
                            " ", no_strings)
        no_strings = re.sub(r"\{[^}]*\}", " ", no_strings)
        for m in re.finditer(r"\b([a-zA-Z_:][\w:]*)", no_strings):
            word = m.group(1)
            if word in promql_words or re.fullmatch(r"\d+[smhdwy]?", word):
                continue
            check(word in metrics or word == "up", aw, f"metric {word} is not exported")
        for m in re.finditer(r"\b(\w+)\{([^}]*)\}", expr):
            metric, selectors = m.group(1), m.group(2)
            for lname, op, value in re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"', selectors):
                if metric == "up" or lname in scrape_labels:
                    check(metric != "up" or lname in scrape_labels, aw, f"up has no {lname}")
                    continue
                check(lname in metrics.get(metric, set()), aw,
                      f"{metric} has no label {lname} (it has {sorted(metrics.get(metric, []))})")
                if op == "=":
                    check(f'"{value}"' in source, aw,
                          f'{metric}{{{lname}="{value}"}}: the server never writes "{value}"')
        for m in re.finditer(r"by\s*\(([^)]*)\)|on\s*\(([^)]*)\)", expr):
            for lname in re.split(r"\s*,\s*", (m.group(1) or m.group(2)).strip()):
                used = [n for n in re.findall(r"\b(coco_webhook_\w+)", expr)]
                check(lname in scrape_labels or all(lname in metrics.get(n, set()) for n in used),
                      aw, f"grouping by {lname}, which not every metric has")
    text = " ".join(exprs.values())
    check(re.search(r"\bup\b", text), where, "no alert for an unavailable webhook (up)")
    check("coco_webhook_denials_total" in text, where, "no alert on denials")
    check('result="error"' in text, where, "no alert on internal errors")
    check(re.search(r"coco_webhook_certificate_expiry_timestamp_seconds[^<]*<\s*14\s*\*\s*24"
                    r"\s*\*\s*3600", text), where, "no alert for a certificate expiring in 14 days")
    check('coco_webhook_reloads_total{result="failure"}' in text.replace(" ", ""), where,
          "no alert on failed reloads")


def check_components(objs, where, port):
    kinds = by_kind(objs)
    dep = one(kinds, "Deployment", where)
    svc = one(kinds, "Service", where)
    np = one(kinds, "NetworkPolicy", where)
    sm = one(kinds, "ServiceMonitor", where)
    pr = one(kinds, "PrometheusRule", where)
    if None in (dep, svc, np, sm, pr):
        return
    labels = dep["spec"]["template"]["metadata"]["labels"]
    c = dep["spec"]["template"]["spec"]["containers"][0]
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    nw = f"{where} NetworkPolicy"
    check(matches(np["spec"]["podSelector"].get("matchLabels", {}), labels) and
          np["spec"]["podSelector"].get("matchLabels"), nw, "podSelector misses the webhook")
    check(np["spec"].get("policyTypes") == ["Ingress"], nw, "policyTypes must be [Ingress]")
    rules = np["spec"].get("ingress") or []
    if check(len(rules) == 1, nw, "one ingress rule"):
        allowed = [ports.get(p.get("port"), p.get("port")) for p in rules[0].get("ports", [])]
        check(allowed == [port], nw, f"ingress ports {allowed}, want only {port}")
        check(all(p.get("protocol", "TCP") == "TCP" for p in rules[0]["ports"]), nw, "TCP")
    sw = f"{where} ServiceMonitor"
    check(matches(sm["spec"]["selector"]["matchLabels"], svc["metadata"].get("labels", {})), sw,
          "selector misses the Service")
    ep = sm["spec"]["endpoints"]
    check(len(ep) == 1 and ep[0].get("port") == svc["spec"]["ports"][0]["name"] and
          ep[0].get("path") == "/metrics" and ep[0].get("scheme") == "https", sw,
          "one https endpoint on the Service's port, path /metrics")
    check(NAMESPACE in (sm["spec"].get("namespaceSelector") or {}).get("matchNames", [NAMESPACE]),
          sw, "namespaceSelector")
    check_alerts(pr, f"{where} PrometheusRule")


def verify_chain(ca_pem, crt_pem, where):
    with tempfile.TemporaryDirectory() as tmp:
        ca, crt = os.path.join(tmp, "ca.crt"), os.path.join(tmp, "tls.crt")
        with open(ca, "wb") as f:
            f.write(ca_pem)
        with open(crt, "wb") as f:
            f.write(crt_pem)
        r = run(["openssl", "verify", "-CAfile", ca, crt])
        check(r.returncode == 0, where, f"caBundle does not verify the Secret: {r.stdout}{r.stderr}")


def kubectl_problem():
    """Why KUBECTL cannot render the manifests, in one line, or None."""
    try:
        r = run([KUBECTL, "version", "--client"])
    except OSError as e:
        return f"{KUBECTL} cannot run ({e.strerror}): run scripts/dev.sh deps"
    m = re.search(r"^Kustomize Version: v?(\d+)\.(\d+)", r.stdout, re.M)
    client = re.search(r"^Client Version: (\S+)", r.stdout, re.M)
    found = f"{KUBECTL} {client.group(1) if client else '(version unknown)'}"
    if not m:
        return f"{found} carries no kustomize; the manifests need kustomize >= 5.0 " \
               "(kubectl >= 1.27): run scripts/dev.sh deps"
    if (int(m.group(1)), int(m.group(2))) < KUSTOMIZE_MIN:
        return f"{found} carries kustomize v{m.group(1)}.{m.group(2)}; the manifests need " \
               "kustomize >= 5.0 (kubectl >= 1.27): run scripts/dev.sh deps"
    return None


def main():
    problem = kubectl_problem()
    if problem:
        print(f"FAIL {problem}")
        return 1
    routes, port = server_facts()
    results = {}
    for name in ("base", "overlays/openshift", "overlays/cert-manager"):
        objs = render(os.path.join(SRC, "manifests", name))
        validate(objs, name)
        results[name] = check_install(objs, name, routes, port) if objs else None

    with tempfile.TemporaryDirectory() as tmp:
        objs, _ = render_self_managed(tmp)
        validate(objs, "overlays/self-managed")
        results["overlays/self-managed"] = (check_install(objs, "overlays/self-managed", routes,
                                                          port) if objs else None)

    base = results["base"]
    if base:
        check("Secret" not in base["kinds"], "base", "the base must not carry a Secret")
        for wh in base["mwc"]["webhooks"]:
            check("caBundle" not in wh["clientConfig"], "base", "caBundle in the base")
        if base["config"] is not None:
            check_config(base["config"], "base ConfigMap config.yaml")

    r = results["overlays/openshift"]
    if r:
        w = "overlays/openshift"
        check(r["svc"]["metadata"].get("annotations", {}).get(
            "service.beta.openshift.io/serving-cert-secret-name") == "coco-webhook-tls", w,
            "Service needs service.beta.openshift.io/serving-cert-secret-name: coco-webhook-tls")
        check(r["mwc"]["metadata"].get("annotations", {}).get(
            "service.beta.openshift.io/inject-cabundle") == "true", w,
            "webhook configuration needs service.beta.openshift.io/inject-cabundle: \"true\"")

    r = results["overlays/cert-manager"]
    if r:
        w = "overlays/cert-manager"
        issuers = {o["metadata"]["name"]: o for o in r["kinds"].get("Issuer", [])}
        certs = {o["metadata"]["name"]: o for o in r["kinds"].get("Certificate", [])}
        serving = [c for c in certs.values() if c["spec"]["secretName"] == "coco-webhook-tls"]
        if check(len(serving) == 1, w, "one Certificate with secretName coco-webhook-tls"):
            s = serving[0]
            svc = f"{r['svc']['metadata']['name']}.{NAMESPACE}"
            want = {svc.split(".")[0], svc, f"{svc}.svc", f"{svc}.svc.cluster.local"}
            check(set(s["spec"].get("dnsNames", [])) == want, w, f"dnsNames, want {sorted(want)}")
            check(s["spec"].get("privateKey", {}).get("algorithm") == "ECDSA" and
                  s["spec"]["privateKey"].get("size") == 256, w, "serving key must be ECDSA P-256")
            check("server auth" in s["spec"].get("usages", ["server auth"]), w, "usages")
            check(r["mwc"]["metadata"].get("annotations", {}).get(
                "cert-manager.io/inject-ca-from") == f"{NAMESPACE}/{s['metadata']['name']}", w,
                "inject-ca-from must name the serving Certificate")
            ca_issuer = issuers.get(s["spec"]["issuerRef"]["name"])
            if check(ca_issuer and "ca" in ca_issuer["spec"], w, "serving cert from a CA Issuer"):
                ca_cert = [c for c in certs.values()
                           if c["spec"]["secretName"] == ca_issuer["spec"]["ca"]["secretName"]]
                if check(len(ca_cert) == 1 and ca_cert[0]["spec"].get("isCA") is True, w,
                         "the CA Issuer's secret comes from an isCA Certificate"):
                    root = issuers.get(ca_cert[0]["spec"]["issuerRef"]["name"])
                    check(root and "selfSigned" in root["spec"], w,
                          "the CA Certificate comes from a selfSigned Issuer")
                    check(ca_cert[0]["spec"].get("privateKey", {}).get("algorithm") == "ECDSA",
                          w, "CA key must be ECDSA")
            for c in certs.values():
                check(c["spec"]["issuerRef"].get("kind", "Issuer") == "Issuer" and
                      c["spec"]["issuerRef"]["name"] in issuers, w,
                      f"Certificate {c['metadata']['name']}: issuer not in the overlay")

    r = results["overlays/self-managed"]
    if r:
        w = "overlays/self-managed"
        secrets = r["kinds"].get("Secret", [])
        if check(len(secrets) == 1, w, "one Secret"):
            sec = secrets[0]
            check(sec["metadata"]["name"] == "coco-webhook-tls" and
                  sec.get("type") == "kubernetes.io/tls" and
                  {"tls.crt", "tls.key"} <= set(sec.get("data", {})), w,
                  "Secret coco-webhook-tls of type kubernetes.io/tls with tls.crt and tls.key")
            bundles = {wh["clientConfig"].get("caBundle") for wh in r["mwc"]["webhooks"]}
            if check(len(bundles) == 1 and None not in bundles, w,
                     "both webhooks need the same caBundle"):
                verify_chain(base64.b64decode(bundles.pop()),
                             base64.b64decode(sec["data"]["tls.crt"]), w)

    # The optional components, on top of the overlays that need no generated files.
    for name in COMPONENTS:
        with open(os.path.join(SRC, "manifests", "components", name, "kustomization.yaml")) as f:
            k = yaml.safe_load(f)
        check(k.get("kind") == "Component" and
              k.get("apiVersion") == "kustomize.config.k8s.io/v1alpha1",
              f"components/{name}", "must be a kustomize Component (v1alpha1)")
    with tempfile.TemporaryDirectory() as tmp:
        for overlay in ("openshift", "cert-manager"):
            where = f"overlays/{overlay} + components"
            objs = render_components(tmp, overlay)
            validate(objs, where)
            if objs:
                r = check_install(objs, where, routes, port)
                check_components(objs, where, port)
                text = (r or {}).get("config") or ""
                if check(SEALED_NAMESPACES in text, where,
                         "the ConfigMap patch did not replace config.yaml"):
                    cfg = os.path.join(tmp, "patched-config.yaml")
                    with open(cfg, "w") as f:
                        f.write(text)
                    res = run([BIN, "mutate", "--config", cfg, "-f", os.devnull])
                    check(res.returncode == 0, where,
                          f"the patched config is refused: {res.stderr.strip()[:300]}")

    # The generated files must stay out of git.
    for name in ("tls-secret.yaml", "cabundle-patch.yaml"):
        path = f"manifests/overlays/self-managed/{name}"
        r = run(["git", "-C", SRC, "check-ignore", "-q", path])
        if r.returncode != 128:  # 128: not a git work tree (a source tarball)
            check(r.returncode == 0, ".gitignore", f"{path} is not ignored by git")

    if failures:
        print("\n".join(failures))
        print(f"{len(failures)} failure(s)")
        return 1
    print("manifests: base, 3 overlays and the components render, validate and agree with "
          "the server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
