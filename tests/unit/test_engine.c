/* Unit tests of the engine's contract that the golden cases (tests/golden) cannot reach
 * through the command line: operations, request overrides, result fields, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "jsonpatch.h"
#include "podvm.h"
#include "sealed_entries.h"

static const char labelled_pod[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":"
    "{\"coco.confidentialcontainers.org/enabled\":\"true\"}%s},\"spec\":{%s\"containers\":"
    "[{\"name\":\"c\",\"image\":\"i\"}]}}";

static cJSON *pod(const char *meta_extra, const char *spec_extra)
{
    char buf[16384];
    snprintf(buf, sizeof buf, labelled_pod, meta_extra, spec_extra);
    cJSON *o = cJSON_Parse(buf);
    assert_non_null(o);
    return o;
}

static engine_result run(const config *cfg, cJSON *obj, engine_operation op, engine_scope scope,
                         const char *ns)
{
    engine_request req = {.object = obj, .operation = op, .scope = scope, .namespace = ns};
    engine_result res;
    assert_int_equal(engine_mutate(cfg, &req, &res), CW_OK);
    return res;
}

/* run() as the server runs the engine: the patch as text (of at most 1 MiB). */
static engine_result run_as_server(const config *cfg, cJSON *obj)
{
    engine_request req = {.object = obj,
                          .operation = ENGINE_OP_CREATE,
                          .scope = ENGINE_SCOPE_OBJECT,
                          .patch_text_max = 1 << 20};
    engine_result res;
    assert_int_equal(engine_mutate(cfg, &req, &res), CW_OK);
    return res;
}

static void test_delete_and_connect_admitted(void **state)
{
    (void)state;
    config *cfg = config_new_default();
    cJSON *o = pod("", "");
    engine_result r = run(cfg, o, ENGINE_OP_OTHER, ENGINE_SCOPE_OBJECT, NULL);
    assert_int_equal(r.decision.outcome, ENGINE_SKIPPED);
    assert_string_equal(r.decision.reason, "operation not mutated");
    assert_null(r.patch);
    engine_result_clear(&r);
    /* The object of a DELETE is null: the operation is decided before it is looked at. */
    r = run(cfg, NULL, ENGINE_OP_OTHER, ENGINE_SCOPE_OBJECT, NULL);
    assert_int_equal(r.decision.outcome, ENGINE_SKIPPED);
    engine_result_clear(&r);
    cJSON_Delete(o);
    config_free(cfg);
}

static void test_pod_update_skipped_notebook_update_mutated(void **state)
{
    (void)state;
    config *cfg = config_new_default();
    cJSON *o = pod("", "");
    engine_result r = run(cfg, o, ENGINE_OP_UPDATE, ENGINE_SCOPE_OBJECT, NULL);
    assert_int_equal(r.decision.outcome, ENGINE_SKIPPED);
    assert_string_equal(r.decision.reason, "pod spec is immutable after creation");
    engine_result_clear(&r);
    cJSON_Delete(o);

    o = cJSON_Parse("{\"apiVersion\":\"kubeflow.org/v1beta1\",\"kind\":\"Notebook\","
                    "\"metadata\":{\"name\":\"n\"},\"spec\":{\"template\":{\"spec\":"
                    "{\"containers\":[{\"name\":\"n\"}]}}}}");
    r = run(cfg, o, ENGINE_OP_UPDATE, ENGINE_SCOPE_NAMESPACE, "ds");
    assert_int_equal(r.decision.outcome, ENGINE_MUTATED);
    assert_true(r.decision.runtime_class_set);
    assert_int_equal(cJSON_GetArraySize(r.patch), 2); /* class + record */
    /* The object was mutated in place to the result. */
    const cJSON *cls = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "spec"), "template"),
                            "spec"),
        "runtimeClassName");
    assert_string_equal(cJSON_GetStringValue(cls), "kata-remote");
    assert_string_equal(r.record, "{\"runtimeClassName\":\"kata-remote\"}");
    engine_result_clear(&r);
    cJSON_Delete(o);
    config_free(cfg);
}

/* SPEC §2.7 on what the golden cases cannot send: a Notebook UPDATE after another webhook
 * changed it, the decision's fields for the log and the metric, malformed input. */
static void test_podvm(void **state)
{
    (void)state;
    static const char yaml[] = "podVM:\n"
                               "  namespaces:\n"
                               "    ds: {machineType: Standard_DC8as_v5, gpus: 1, enforce: true}\n"
                               "  default: {allowedMachineTypes: [Standard_DC2as_v5]}\n";
    config *cfg = NULL;
    assert_int_equal(config_parse("t", yaml, sizeof yaml - 1, &cfg, NULL), CW_OK);
    cJSON *o = cJSON_Parse("{\"apiVersion\":\"kubeflow.org/v1\",\"kind\":\"Notebook\","
                           "\"metadata\":{\"name\":\"n\"},\"spec\":{\"template\":{\"spec\":"
                           "{\"containers\":[{\"name\":\"n\"}]}}}}");
    engine_result r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_NAMESPACE, "ds");
    assert_int_equal(r.decision.outcome, ENGINE_MUTATED);
    assert_string_equal(r.decision.podvm_profile->name, "ds");
    assert_int_equal(r.decision.podvm_set, (1u << PODVM_MACHINE_TYPE) | (1u << PODVM_GPUS));
    assert_string_equal(r.decision.podvm_machine_type, "Standard_DC8as_v5");
    assert_false(r.decision.podvm_machine_type_other);
    engine_result_clear(&r);
    /* The peer-pods webhook's keys, then an UPDATE of the Notebook: nothing to do. */
    cJSON *ann = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "annotations");
    cJSON_AddStringToObject(ann, "io.katacontainers.config.hypervisor.default_vcpus", "8");
    cJSON_AddStringToObject(ann, "io.katacontainers.config.hypervisor.default_memory", "32768");
    r = run(cfg, o, ENGINE_OP_UPDATE, ENGINE_SCOPE_NAMESPACE, "ds");
    assert_int_equal(r.decision.outcome, ENGINE_UNCHANGED);
    assert_int_equal(cJSON_GetArraySize(r.patch), 0);
    assert_int_equal(r.decision.podvm_set, 0);
    assert_string_equal(r.decision.podvm_machine_type, "Standard_DC8as_v5");
    engine_result_clear(&r);
    cJSON_Delete(o);

    /* Not a string: 400, not the applier's 500. */
    o = pod(",\"annotations\":{\"io.katacontainers.config.hypervisor.machine_type\":[1]}", "");
    r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_OBJECT, "ds");
    assert_int_equal(r.decision.outcome, ENGINE_DENIED);
    assert_int_equal(r.decision.code, 400);
    assert_non_null(strstr(r.decision.message, "must be a string"));
    engine_result_clear(&r);
    cJSON_Delete(o);

    /* A template whose annotations are not an object, in a namespace with a profile. */
    o = cJSON_Parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":"
                    "{\"name\":\"d\"},\"spec\":{\"template\":{\"metadata\":{\"annotations\":"
                    "\"x\"},\"spec\":{\"containers\":[{\"name\":\"c\"}]}}}}");
    r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_NAMESPACE, "ds");
    assert_int_equal(r.decision.outcome, ENGINE_DENIED);
    assert_int_equal(r.decision.code, 400);
    engine_result_clear(&r);
    cJSON_Delete(o);

    /* The metric's machine type: a configured name, another one, none; never request text. */
    o = pod(",\"annotations\":{\"io.katacontainers.config.hypervisor.machine_type\":"
            "\"Standard_DC2as_v5\"}",
            "");
    r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_OBJECT, "other");
    assert_int_equal(r.decision.outcome, ENGINE_MUTATED);
    assert_string_equal(r.decision.podvm_profile->name, "podVM.default");
    assert_string_equal(r.decision.podvm_machine_type, "Standard_DC2as_v5");
    engine_result_clear(&r);
    cJSON_Delete(o);
    config_free(cfg);
    cfg = config_new_default();
    o = pod(",\"annotations\":{\"io.katacontainers.config.hypervisor.machine_type\":"
            "\"random-8f3a\"}",
            "");
    r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_OBJECT, NULL);
    assert_int_equal(r.decision.outcome, ENGINE_MUTATED);
    assert_null(r.decision.podvm_profile);
    assert_null(r.decision.podvm_machine_type);
    assert_true(r.decision.podvm_machine_type_other);
    engine_result_clear(&r);
    cJSON_Delete(o);
    o = pod("", "");
    r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_OBJECT, NULL);
    assert_null(r.decision.podvm_machine_type);
    assert_false(r.decision.podvm_machine_type_other);
    engine_result_clear(&r);
    cJSON_Delete(o);
    config_free(cfg);
}

static void test_request_overrides_object(void **state)
{
    (void)state;
    config *cfg = config_new_default();
    /* The API server's request.namespace is used when the object names none. */
    cJSON *o = pod("", "");
    engine_result r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_OBJECT, "kube-system");
    assert_int_equal(r.decision.outcome, ENGINE_SKIPPED);
    assert_string_equal(r.decision.reason, "namespace excluded");
    engine_result_clear(&r);

    /* Kind from request.kind when the object lacks apiVersion/kind. */
    cJSON_DeleteItemFromObject(o, "kind");
    cJSON_DeleteItemFromObject(o, "apiVersion");
    engine_request req = {.object = o,
                          .kind = "Pod",
                          .group = "",
                          .version = "v1",
                          .operation = ENGINE_OP_CREATE,
                          .scope = ENGINE_SCOPE_OBJECT};
    assert_int_equal(engine_mutate(cfg, &req, &r), CW_OK);
    assert_int_equal(r.decision.outcome, ENGINE_MUTATED);
    engine_result_clear(&r);

    /* Unknown kinds pass. */
    req.kind = "Service";
    assert_int_equal(engine_mutate(cfg, &req, &r), CW_OK);
    assert_int_equal(r.decision.outcome, ENGINE_SKIPPED);
    assert_string_equal(r.decision.reason, "kind not handled");
    engine_result_clear(&r);
    cJSON_Delete(o);
    config_free(cfg);
}

static void test_denial_codes(void **state)
{
    (void)state;
    config *cfg = config_new_default();
    struct {
        const char *meta, *spec;
        int code;
        const char *reason, *text;
    } cases[] = {
        {"", "\"runtimeClassName\":\"runc\",", 403, "runtime_class", "\"runc\""},
        {"", "\"runtimeClassName\":7,", 400, "invalid_object", "must be a string"},
        {",\"annotations\":{\"coco.confidentialcontainers.org/sealed-secrets\":5}", "", 400,
         "annotation", "must be a string"},
        {",\"annotations\":{\"coco.confidentialcontainers.org/sealed-secrets\":\"a:b\"}", "", 400,
         "annotation", "\"a:b\""},
        {",\"annotations\":{\"coco.confidentialcontainers.org/keep-volumes\":\"A\"}", "", 400,
         "annotation", "\"A\" is not a valid name"},
        {"", "\"volumes\":{},", 400, "invalid_object", "spec.volumes must be a list"},
        {"", "\"volumes\":[{\"persistentVolumeClaim\":{}}],", 400, "invalid_object",
         "spec.volumes[0] has no name"},
        {"", "\"volumes\":[{\"name\":\"v\",\"persistentVolumeClaim\":{}}],", 400, "invalid_object",
         "claimName"},
        {",\"annotations\":{\"coco.confidentialcontainers.org/sealed-secrets\":\"s\"}",
         "\"volumes\":[{\"name\":\"coco-sealed-s\",\"emptyDir\":{}}],", 403, "volume_conflict",
         "rename that volume"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *o = pod(cases[i].meta, cases[i].spec);
        char *before = cJSON_PrintUnformatted(o);
        engine_result r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_OBJECT, NULL);
        assert_int_equal(r.decision.outcome, ENGINE_DENIED);
        assert_int_equal(r.decision.code, cases[i].code);
        assert_string_equal(r.decision.reason, cases[i].reason);
        if (!strstr(r.decision.message, cases[i].text))
            fail_msg("case %zu: \"%s\" not in \"%s\"", i, cases[i].text, r.decision.message);
        assert_null(r.patch);
        assert_int_equal(r.decision.warning_count, 0);
        /* A denial changes nothing. */
        char *after = cJSON_PrintUnformatted(o);
        assert_string_equal(before, after);
        free(before);
        free(after);
        engine_result_clear(&r);
        cJSON_Delete(o);
    }
    config_free(cfg);
}

static void test_no_pod_spec_denied(void **state)
{
    (void)state;
    config *cfg = config_new_default();
    cJSON *o = cJSON_Parse("{\"apiVersion\":\"kubeflow.org/v1\",\"kind\":\"Notebook\","
                           "\"metadata\":{\"labels\":{\"coco.confidentialcontainers.org/"
                           "enabled\":\"true\"}},\"spec\":{}}");
    engine_result r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_OBJECT, NULL);
    assert_int_equal(r.decision.outcome, ENGINE_DENIED);
    assert_int_equal(r.decision.code, 400);
    assert_non_null(strstr(r.decision.message, "/spec/template/spec"));
    engine_result_clear(&r);
    cJSON_Delete(o);
    config_free(cfg);
}

static void test_long_names_warning_bounded(void **state)
{
    (void)state;
    config *cfg = config_new_default();
    char spec[1024];
    snprintf(spec, sizeof spec,
             "\"volumes\":[{\"name\":\"%s\",\"persistentVolumeClaim\":{\"claimName\":\"%s\"}}],",
             "a-very-long-volume-name-that-goes-on-and-on-and-on-and-on-and-on",
             "claim-name-that-is-also-really-quite-long-for-a-claim-name-indeed-yes");
    cJSON *o = pod("", spec);
    engine_result r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_OBJECT, NULL);
    assert_int_equal(r.decision.outcome, ENGINE_MUTATED);
    assert_int_equal(r.decision.warning_count, 1);
    assert_true(strlen(r.warnings[0]) <= ENGINE_WARNING_MAX);
    assert_non_null(strstr(r.warnings[0], "data is lost when the pod ends"));
    assert_int_equal(r.decision.volumes_replaced, 1);
    engine_result_clear(&r);
    cJSON_Delete(o);
    config_free(cfg);
}

static void test_hashed_volume_name_and_counts(void **state)
{
    (void)state;
    config *cfg = config_new_default();
    cJSON *o = pod(",\"annotations\":{\"coco.confidentialcontainers.org/sealed-secrets\":"
                   "\"tls.example.com, plain\"}",
                   "");
    engine_result r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_OBJECT, NULL);
    assert_int_equal(r.decision.outcome, ENGINE_MUTATED);
    assert_int_equal(r.decision.secrets_mounted, 2);
    const cJSON *vols = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "spec"), "volumes");
    assert_int_equal(cJSON_GetArraySize(vols), 2);
    const char *hashed =
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(vols, 0), "name"));
    assert_int_equal(strlen(hashed), strlen("coco-sealed-") + 16);
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(vols, 1), "name")),
        "coco-sealed-plain");
    engine_result_clear(&r);
    cJSON_Delete(o);
    config_free(cfg);
}

static void test_too_many_entries(void **state)
{
    (void)state;
    config *cfg = config_new_default();
    char list[8192] = "";
    size_t len = 0;
    for (int i = 0; i <= SEALED_ENTRIES_MAX; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%ss%d", i ? "," : "", i);
    char meta[9000];
    snprintf(meta, sizeof meta,
             ",\"annotations\":{\"coco.confidentialcontainers.org/sealed-secrets\":\"%s\"}", list);
    cJSON *o = pod(meta, "");
    engine_result r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_OBJECT, NULL);
    assert_int_equal(r.decision.outcome, ENGINE_DENIED);
    assert_int_equal(r.decision.code, 400);
    assert_non_null(strstr(r.decision.message, "more than"));
    engine_result_clear(&r);
    cJSON_Delete(o);
    config_free(cfg);
}

/* With patch_text_max the patch comes back as the text the tree prints as, the object is
 * mutated the same, and a patch longer than the limit is CW_ELIMIT. */
static void test_patch_as_text(void **state)
{
    (void)state;
    config *cfg = config_new_default();
    cJSON *o = pod(",\"annotations\":{\"coco.confidentialcontainers.org/sealed-secrets\":\"s1\"}",
                   "\"volumes\":[{\"name\":\"v\",\"ephemeral\":{}}],");
    cJSON *copy = cJSON_Duplicate(o, 1), *copy2 = cJSON_Duplicate(o, 1);
    engine_result r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_OBJECT, NULL);
    assert_int_equal(r.decision.outcome, ENGINE_MUTATED);
    assert_null(r.patch_text);
    char *want = cJSON_PrintUnformatted(r.patch);

    engine_result t = run_as_server(cfg, copy);
    assert_int_equal(t.decision.outcome, ENGINE_MUTATED);
    assert_null(t.patch);
    assert_non_null(t.patch_text);
    assert_string_equal(t.patch_text, want);
    assert_int_equal(t.patch_len, strlen(want));
    assert_string_equal(t.record, r.record);
    assert_true(jsonpatch_equal(copy, o));
    engine_result_clear(&t);

    engine_request req = {.object = copy2,
                          .operation = ENGINE_OP_CREATE,
                          .scope = ENGINE_SCOPE_OBJECT,
                          .patch_text_max = strlen(want) - 1};
    assert_int_equal(engine_mutate(cfg, &req, &t), CW_ELIMIT);
    assert_null(t.patch_text);
    assert_null(t.patch);
    engine_result_clear(&t);

    cJSON_free(want);
    engine_result_clear(&r);
    cJSON_Delete(copy);
    cJSON_Delete(copy2);
    cJSON_Delete(o);
    config_free(cfg);
}

/* Nodes of v that reference other nodes' members (cJSON_IsReference). */
static size_t references_in(const cJSON *v)
{
    size_t n = (v->type & cJSON_IsReference) ? 1 : 0;
    for (const cJSON *m = v->child; m; m = m->next)
        n += references_in(m);
    return n;
}

/* With patch_text_max a mount repeated in every container and the emptyDir of every replaced
 * volume are one value and references to its members: the same text as the copies an offline
 * caller gets, an equal object that prints the same, and everything freed once (ASan). */
static void test_repeated_values_shared(void **state)
{
    (void)state;
    config *cfg = config_new_default();
    cfg->empty_dir_size_limit = strdup("1Gi");
    assert_non_null(cfg->empty_dir_size_limit);
    const char *text =
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":"
        "{\"coco.confidentialcontainers.org/enabled\":\"true\"},\"annotations\":"
        "{\"coco.confidentialcontainers.org/sealed-secrets\":\"s1,s2:/keys\"}},\"spec\":"
        "{\"volumes\":[{\"name\":\"a\",\"persistentVolumeClaim\":{\"claimName\":\"ca\"}},"
        "{\"name\":\"b\",\"ephemeral\":{}},{\"name\":\"c\",\"persistentVolumeClaim\":"
        "{\"claimName\":\"cc\"}}],\"containers\":[{\"name\":\"x\"},{\"name\":\"y\","
        "\"volumeMounts\":[{\"name\":\"a\",\"mountPath\":\"/a\"}]},{\"name\":\"z\"}]}}";
    cJSON *o = cJSON_Parse(text), *copy = cJSON_Parse(text);
    assert_non_null(o);
    assert_non_null(copy);
    engine_result r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_OBJECT, NULL);
    assert_int_equal(r.decision.outcome, ENGINE_MUTATED);
    assert_int_equal(r.decision.secrets_mounted, 6);
    assert_int_equal(references_in(o), 0); /* offline: copies */
    char *want = cJSON_PrintUnformatted(r.patch);

    engine_result t = run_as_server(cfg, copy);
    assert_int_equal(t.decision.outcome, ENGINE_MUTATED);
    assert_string_equal(t.patch_text, want);
    /* Two more containers per entry and two more emptyDirs reference the first one. */
    assert_int_equal(references_in(copy), 2 * 2 + 2);
    const cJSON *z =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(copy, "spec"), "containers"), 2);
    const cJSON *mount = cJSON_GetArrayItem(cJSON_GetObjectItem(z, "volumeMounts"), 1);
    assert_true(mount->type & cJSON_IsReference);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(mount, "mountPath")), "/keys");
    assert_true(jsonpatch_equal(copy, o));
    char *printed = cJSON_PrintUnformatted(copy), *printed_offline = cJSON_PrintUnformatted(o);
    assert_string_equal(printed, printed_offline);
    cJSON_free(printed);
    cJSON_free(printed_offline);
    engine_result_clear(&t);

    cJSON_free(want);
    engine_result_clear(&r);
    cJSON_Delete(copy);
    cJSON_Delete(o);
    config_free(cfg);
}

static void test_patch_reapplies_to_pristine_copy(void **state)
{
    (void)state;
    config *cfg = config_new_default();
    cJSON *o = pod(",\"annotations\":{\"coco.confidentialcontainers.org/sealed-secrets\":\"s1\"}",
                   "\"volumes\":[{\"name\":\"v\",\"ephemeral\":{}}],");
    cJSON *copy = cJSON_Duplicate(o, 1);
    engine_result r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_OBJECT, NULL);
    assert_int_equal(r.decision.outcome, ENGINE_MUTATED);
    cw_error err;
    assert_int_equal(jsonpatch_apply(&copy, r.patch, &err), CW_OK);
    assert_true(jsonpatch_equal(copy, o));
    engine_result_clear(&r);

    /* Second pass: nothing to do. */
    r = run(cfg, o, ENGINE_OP_CREATE, ENGINE_SCOPE_OBJECT, NULL);
    assert_int_equal(r.decision.outcome, ENGINE_UNCHANGED);
    assert_int_equal(cJSON_GetArraySize(r.patch), 0);
    assert_null(r.record);
    engine_result_clear(&r);
    cJSON_Delete(copy);
    cJSON_Delete(o);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delete_and_connect_admitted),
        cmocka_unit_test(test_pod_update_skipped_notebook_update_mutated),
        cmocka_unit_test(test_podvm),
        cmocka_unit_test(test_request_overrides_object),
        cmocka_unit_test(test_denial_codes),
        cmocka_unit_test(test_no_pod_spec_denied),
        cmocka_unit_test(test_long_names_warning_bounded),
        cmocka_unit_test(test_hashed_volume_name_and_counts),
        cmocka_unit_test(test_too_many_entries),
        cmocka_unit_test(test_patch_reapplies_to_pristine_copy),
        cmocka_unit_test(test_patch_as_text),
        cmocka_unit_test(test_repeated_values_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
