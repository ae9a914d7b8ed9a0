#!/usr/bin/python3
"""Writes labelled Pods and Notebooks that grow in every dimension the webhook walks, for
the scaling benchmark and the cost regression test.

Usage: scale-objects.py OUTDIR [--max-bytes N] [--review]

For each scale k = 1, 2, 4, ... it writes pod-<k>.json and notebook-<k>.json (bare objects,
for `coco-webhook mutate`) and, with --review, review-pod-<k>.json and
review-notebook-<k>.json (AdmissionReviews, for the server), up to the largest k whose
review is at most N bytes (default 8 MiB, the server's body cap). At scale k an object has
2k containers, k init containers, k volumes of each kind (PVC, ephemeral, configMap,
secret, emptyDir), 4 mounts per container, 4k extra annotations (at most 2,000: the API server's limit is 256 KiB,
which the record of replaced volumes shares: PVC and ephemeral volumes stop at 1,024) and
4 sealed-secret entries
(the annotation's list is capped at 64, so it cannot grow with k; the worst case of entries
x containers is a separate shape: see worst_case_pod)."""
import json
import os
import sys
import uuid

LABEL = "coco.confidentialcontainers.org/enabled"
KINDS = ("pvc", "eph", "cm", "sec", "empty")


def volume(kind, i):
    name = f"{kind}-{i}"
    if kind == "pvc":
        return {"name": name, "persistentVolumeClaim": {"claimName": f"claim-{i}"}}
    if kind == "eph":
        return {"name": name, "ephemeral": {"volumeClaimTemplate": {"spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}}
    if kind == "cm":
        return {"name": name, "configMap": {"name": f"config-{i}"}}
    if kind == "sec":
        return {"name": name, "secret": {"secretName": f"secret-{i}"}}
    return {"name": name, "emptyDir": {}}


def container(prefix, i, k):
    mounts = [{"name": f"{KINDS[(i + j) % len(KINDS)]}-{(i + j) % min(k, 1024)}",
               "mountPath": f"/data/{j}"} for j in range(4)]
    return {"name": f"{prefix}-{i}", "image": "quay.io/example/app:1.0",
            "command": ["python3", "-m", "app"], "env": [{"name": "MODE", "value": "batch"}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
            "volumeMounts": mounts}


def pod_spec(k):
    # Replaced volumes are listed in the record annotation, which counts against the same
    # 256 KiB: they grow up to 1,024 of each kind; the other kinds grow on.
    return {"containers": [container("app", i, k) for i in range(2 * k)],
            "initContainers": [container("init", i, k) for i in range(k)],
            "volumes": [volume(kind, i) for kind in KINDS
                        for i in range(min(k, 1024) if kind in ("pvc", "eph") else k)]}


def metadata(name, k, entries=4):
    # The API server accepts at most 256 KiB of annotations: they grow up to a quarter of it.
    ann = {f"example.com/note-{i}": f"value {i}" for i in range(min(4 * k, 2000))}
    ann["coco.confidentialcontainers.org/sealed-secrets"] = ",".join(
        f"sealed-{i}" for i in range(entries))
    return {"name": name, "namespace": "scale", "labels": {LABEL: "true"}, "annotations": ann}


def pod(k):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata(f"scale-{k}", k),
            "spec": pod_spec(k)}


def notebook(k):
    return {"apiVersion": "kubeflow.org/v1", "kind": "Notebook",
            "metadata": metadata(f"scale-{k}", k),
            "spec": {"template": {"spec": pod_spec(k)}}}


def worst_case_pod(containers=50, entries=64):
    """Every container gets every sealed secret: the 0.1.0 case that took minutes."""
    p = pod(1)
    p["metadata"] = metadata("worst-case", 1, entries)
    p["spec"]["containers"] = [container("app", i, 1) for i in range(containers)]
    return p


def review(obj):
    kind = obj["kind"]
    group, _, version = obj["apiVersion"].rpartition("/")
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": str(uuid.UUID(int=len(json.dumps(obj)))),
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version,
                     "resource": "pods" if kind == "Pod" else "notebooks"},
        "namespace": "scale", "operation": "CREATE", "object": obj,
        "userInfo": {"username": "scale"}}}


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    out, max_bytes, with_review = args[0], 8 * 1024 * 1024, "--review" in args
    if "--max-bytes" in args:
        max_bytes = int(args[args.index("--max-bytes") + 1])
    os.makedirs(out, exist_ok=True)
    k = 1
    while True:
        objs = {"pod": pod(k), "notebook": notebook(k)}
        texts = {n: json.dumps(review(o), separators=(",", ":")) for n, o in objs.items()}
        if max(len(t) for t in texts.values()) > max_bytes:
            break
        for n, o in objs.items():
            with open(os.path.join(out, f"{n}-{k}.json"), "w") as f:
                json.dump(o, f, separators=(",", ":"))
            if with_review:
                with open(os.path.join(out, f"review-{n}-{k}.json"), "w") as f:
                    f.write(texts[n])
        print(k)
        k *= 2
    with open(os.path.join(out, "worst-case-pod.json"), "w") as f:
        json.dump(worst_case_pod(), f, separators=(",", ":"))


if __name__ == "__main__":
    main()
