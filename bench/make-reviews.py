#!/usr/bin/python3
"""Writes the AdmissionReviews the server benchmark sends, as the API server would send them:
the fraud-detection Pod and Notebook of the shared samples (opted in by label, storage on a
PVC, no runtime class yet) with the fields the API server adds before webhooks run (defaults,
the service account token volume, managedFields, uid, timestamps).

Usage: make-reviews.py OUTDIR   (needs COCO_SHARED or ../shared beside the project)"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "server"))
os.environ.setdefault("COCO_SHARED", os.path.join(here, "..", "..", "shared"))
sys.dont_write_bytecode = True
import serverlib  # noqa: E402


def api_server_defaults(spec, name):
    for c in spec.get("initContainers", []) + spec.get("containers", []):
        c.setdefault("imagePullPolicy", "Always")
        c.setdefault("resources", {})
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("volumeMounts", []).append({
            "name": "kube-api-access-x7k2p", "readOnly": True,
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
    spec.update({"dnsPolicy": "ClusterFirst", "enableServiceLinks": True,
                 "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
                 "restartPolicy": "Always", "schedulerName": "default-scheduler",
                 "serviceAccount": "default", "serviceAccountName": "default",
                 "terminationGracePeriodSeconds": 30})
    spec["tolerations"] = [
        {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
         "tolerationSeconds": 300},
        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
         "tolerationSeconds": 300}]
    spec.setdefault("volumes", []).append({"name": "kube-api-access-x7k2p", "projected": {
        "defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt",
                           "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}})


def managed_fields(obj):
    """A kubectl client-side-apply entry: the FieldsV1 set of every field the user wrote."""
    def fields(v):
        if isinstance(v, dict):
            return {"f:" + k: fields(x) for k, x in v.items()}
        if isinstance(v, list):
            out = {}
            for x in v:
                key = x.get("name") if isinstance(x, dict) else None
                out['k:{"name":"%s"}' % key if key else "v:" + json.dumps(x)] = \
                    fields(x) if isinstance(x, dict) else {}
            out["."] = {}
            return out
        return {}
    body = {k: v for k, v in obj.items() if k in ("metadata", "spec")}
    return [{"manager": "kubectl-client-side-apply", "operation": "Update",
             "apiVersion": obj["apiVersion"], "time": "2026-11-27T20:00:00Z",
             "fieldsType": "FieldsV1", "fieldsV1": fields(body)}]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    pod = serverlib.fraud_pod()
    api_server_defaults(pod["spec"], "pod")
    pod["metadata"].update({"uid": "6f0b5c1e-2d5a-4a43-9f7e-3c1d2b7a9e10",
                            "creationTimestamp": "2026-11-27T20:00:00Z"})
    pod["metadata"]["managedFields"] = managed_fields(pod)
    pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    nb = serverlib.fraud_notebook()
    nb["metadata"].update({"uid": "0d9e7a52-5b8e-4a83-8c0e-7f3a9b1c2d44",
                           "creationTimestamp": "2026-11-27T20:00:00Z"})
    for name, obj in (("pod", pod), ("notebook", nb)):
        rev = serverlib.review(obj, uid="bench-" + name)
        with open(os.path.join(out, name + "-review.json"), "w") as f:
            json.dump(rev, f, separators=(",", ":"))
        print("%s-review.json: %d bytes" % (name, os.path.getsize(os.path.join(out, name + "-review.json"))))


if __name__ == "__main__":
    main()
