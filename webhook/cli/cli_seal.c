/* cli_seal: `coco-webhook seal`, the command line over seal.h. Exit status: 0 done,
 * 1 failed (bad values, files, invalid signature), 2 usage error. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cli.h"
#include "fileread.h"
#include "flags.h"
#include "keyfile.h"
#include "seal.h"
#include "secret_manifest.h"

static const char seal_usage[] =
    "Usage: coco-webhook seal COMMAND [OPTIONS]\n"
    "\n"
    "Makes Confidential Containers sealed secrets: Secret values that name a resource kept\n"
    "in Trustee (KBS); the pod VM fetches the real value after attestation.\n"
    "\n"
    "Commands:\n"
    "  vault     make a sealed secret (signed or unsigned, bare or as a Secret manifest)\n"
    "  keygen    make a P-256 signing key pair as JWK files\n"
    "  inspect   decode a sealed secret and verify its signature\n"
    "\n"
    "Run 'coco-webhook seal COMMAND --help' for a command's options.\n";

static const char vault_usage[] =
    "Usage: coco-webhook seal vault --resource-uri kbs:///REPOSITORY/TYPE/TAG [OPTIONS]\n"
    "\n"
    "Prints a sealed secret that names the resource; upload the secret value itself to\n"
    "Trustee at REPOSITORY/TYPE/TAG.\n"
    "\n"
    "Options:\n"
    "  --resource-uri URI        the resource in Trustee: kbs:///REPOSITORY/TYPE/TAG\n"
    "                            (required; segments of A-Z a-z 0-9 . _ -)\n"
    "  --provider NAME           the secret provider: kbs (the default and only one)\n"
    "  --provider-settings JSON  a JSON object for the provider (default {})\n"
    "  --annotations JSON        a JSON object of annotations (default {})\n"
    "  --signing-key FILE        private P-256 JWK: print the signed (ES256) form, which\n"
    "                            guest-components v0.18+ checks by default\n"
    "  --signing-kid URI         kbs:/// URI where Trustee serves the public JWK (default:\n"
    "                            the \"kid\" of the signing key)\n"
    "  --padded                  unsigned form with padded standard base64 (older agents)\n"
    "  --secret-name NAME        print a Secret manifest holding the value instead\n"
    "  --key KEY                 the Secret's key for the value (with --secret-name)\n"
    "  -n, --namespace NS        the Secret's namespace (with --secret-name)\n"
    "  -o, --output yaml|json    the manifest format (default yaml)\n"
    "  --data                    put the value base64-encoded under data, not stringData\n"
    "  -h, --help                show this help\n"
    "\n"
    "Without --signing-key the unsigned form is printed: guests before v0.18 read it, later\n"
    "ones only with signature checking turned off.\n";

static const char keygen_usage[] =
    "Usage: coco-webhook seal keygen --kid URI --out DIR [--force]\n"
    "\n"
    "Makes a P-256 key pair for signing sealed secrets: DIR/private.jwk (mode 0600, keep it\n"
    "secret) and DIR/public.jwk (upload it to Trustee at the kid's REPOSITORY/TYPE/TAG).\n"
    "\n"
    "Options:\n"
    "  --kid URI    kbs:///REPOSITORY/TYPE/TAG where Trustee will serve public.jwk\n"
    "  --out DIR    a new directory for the two files (created with mode 0700)\n"
    "  --force      DIR may exist: replace the key files in it\n"
    "  -h, --help   show this help\n";

static const char inspect_usage[] =
    "Usage: coco-webhook seal inspect SEALED|- [--public-key FILE] [-o text|json]\n"
    "\n"
    "Decodes a sealed secret (given, or read from standard input with -) and prints its\n"
    "header and payload. With --public-key it verifies the ES256 signature and fails\n"
    "unless it is valid.\n"
    "\n"
    "Options:\n"
    "  --public-key FILE       P-256 JWK to verify the signature with\n"
    "  -o, --output text|json  the output format (default text)\n"
    "  -h, --help              show this help\n";

static int flush_stdout(const char *cmd)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_failed(cmd, "cannot write the output");
    return 0;
}

typedef struct vault_opts {
    const char *uri, *provider, *settings, *annotations, *key_file, *kid, *secret_name;
    const char *secret_key, *ns, *output;
    bool padded, use_data;
} vault_opts;

static int seal_vault_cmd(int argc, char **argv)
{
    static const char name[] = "seal vault";
    static const cli_flag flags[] = {
        CLI_STRING_FLAG("--resource-uri", 0, vault_opts, uri),
        CLI_STRING_FLAG("--provider", 0, vault_opts, provider),
        CLI_STRING_FLAG("--provider-settings", 0, vault_opts, settings),
        CLI_STRING_FLAG("--annotations", 0, vault_opts, annotations),
        CLI_STRING_FLAG("--signing-key", 0, vault_opts, key_file),
        CLI_STRING_FLAG("--signing-kid", 0, vault_opts, kid),
        CLI_BOOL_FLAG("--padded", vault_opts, padded),
        CLI_STRING_FLAG("--secret-name", 0, vault_opts, secret_name),
        CLI_STRING_FLAG("--key", 0, vault_opts, secret_key),
        CLI_STRING_FLAG("--namespace", 'n', vault_opts, ns),
        CLI_STRING_FLAG("--output", 'o', vault_opts, output),
        CLI_BOOL_FLAG("--data", vault_opts, use_data),
    };
    static const cli_command cmd = CLI_COMMAND(name, vault_usage, flags, 0);
    vault_opts o = {0};
    int positional = 0;
    int rc = cli_flags_parse(&cmd, argc, argv, &o, &positional);
    if (rc >= 0)
        return rc;
    const char *uri = o.uri, *kid = o.kid, *output = o.output;
    if (!uri)
        return cli_usage_error(name, "--resource-uri is required");
    if (o.padded && o.key_file)
        return cli_usage_error(name, "--padded is for the unsigned form; it cannot be signed");
    if (kid && !o.key_file)
        return cli_usage_error(name, "--signing-kid needs --signing-key");
    if (!o.secret_name && (o.secret_key || o.ns || output || o.use_data))
        return cli_usage_error(name, "--key, --namespace, --output and --data need --secret-name");
    if (o.secret_name && !o.secret_key)
        return cli_usage_error(name, "--secret-name needs --key");
    if (output && strcmp(output, "yaml") != 0 && strcmp(output, "json") != 0)
        return cli_usage_error(name, "--output must be yaml or json, not \"%s\"", output);

    int status = 1;
    cw_error err = {{0}};
    cJSON *settings = NULL, *annotations = NULL, *manifest = NULL;
    jwk *key = NULL;
    char *sealed = NULL;
    buf text;
    buf_init(&text, SIZE_MAX);

    if (o.settings && seal_parse_object("--provider-settings", o.settings, &settings, &err))
        goto out;
    if (o.annotations && seal_parse_object("--annotations", o.annotations, &annotations, &err))
        goto out;
    seal_vault v = {uri, o.provider, settings, annotations};
    if (o.key_file) {
        if (keyfile_load(o.key_file, true, &key, &err))
            goto out;
        if (!kid)
            kid = key->kid;
        if (!kid) {
            cw_fail(&err, CW_EINVAL, "%s has no \"kid\": give --signing-kid", o.key_file);
            goto out;
        }
        if (seal_signed(&v, key->key, kid, &sealed, &err))
            goto out;
    } else if (seal_unsigned(&v, o.padded, &sealed, &err)) {
        goto out;
    }

    if (!o.secret_name) {
        printf("%s\n", sealed);
    } else {
        secret_manifest_format format =
            output && strcmp(output, "json") == 0 ? SECRET_MANIFEST_JSON : SECRET_MANIFEST_YAML;
        if (secret_manifest_build(o.secret_name, o.ns, o.secret_key, sealed, o.use_data, &manifest,
                                  &err))
            goto out;
        if (secret_manifest_write(&text, manifest, format)) {
            CW_FAIL_NOMEM(&err);
            goto out;
        }
        fwrite(text.data, 1, text.len, stdout);
    }
    if (flush_stdout(name))
        goto done;
    /* Like the upstream tool's warning: the value only names the secret. */
    fprintf(stderr, "note: upload the secret itself to Trustee at %s\n", uri + strlen("kbs:///"));
    status = 0;
    goto done;
out:
    cli_failed(name, err.msg);
done:
    cJSON_Delete(settings);
    cJSON_Delete(annotations);
    cJSON_Delete(manifest);
    jwk_free(key);
    free(sealed);
    buf_free(&text);
    return status;
}

typedef struct keygen_opts {
    const char *kid, *dir;
    bool force;
} keygen_opts;

static int seal_keygen_cmd(int argc, char **argv)
{
    static const char name[] = "seal keygen";
    static const cli_flag flags[] = {
        CLI_STRING_FLAG("--kid", 0, keygen_opts, kid),
        CLI_STRING_FLAG("--out", 0, keygen_opts, dir),
        CLI_BOOL_FLAG("--force", keygen_opts, force),
    };
    static const cli_command cmd = CLI_COMMAND(name, keygen_usage, flags, 0);
    keygen_opts o = {0};
    int positional = 0;
    int rc = cli_flags_parse(&cmd, argc, argv, &o, &positional);
    if (rc >= 0)
        return rc;
    const char *kid = o.kid, *dir = o.dir;
    if (!kid || !dir)
        return cli_usage_error(name, "--kid and --out are required");

    cw_error err = {{0}};
    if (keyfile_keygen(dir, kid, o.force, &err))
        return cli_failed(name, err.msg);
    printf("wrote %s/private.jwk (secret: sign with it) and %s/public.jwk\n", dir, dir);
    printf("upload %s/public.jwk to Trustee at %s, then: coco-webhook seal vault "
           "--signing-key %s/private.jwk --resource-uri ...\n",
           dir, kid + strlen("kbs:///"), dir);
    return flush_stdout(name);
}

typedef struct inspect_opts {
    const char *key_file, *output;
} inspect_opts;

static int seal_inspect_cmd(int argc, char **argv)
{
    static const char name[] = "seal inspect";
    static const cli_flag flags[] = {
        CLI_STRING_FLAG("--public-key", 0, inspect_opts, key_file),
        CLI_STRING_FLAG("--output", 'o', inspect_opts, output),
    };
    static const cli_command cmd = CLI_COMMAND(name, inspect_usage, flags, 1);
    inspect_opts o = {.output = "text"};
    int positional = 0;
    int rc = cli_flags_parse(&cmd, argc, argv, &o, &positional);
    if (rc >= 0)
        return rc;
    const char *key_file = o.key_file, *output = o.output;
    if (positional == 0)
        return cli_usage_error(name, "give the sealed secret, or - to read it from standard input");
    int json_out = strcmp(output, "json") == 0;
    if (!json_out && strcmp(output, "text") != 0)
        return cli_usage_error(name, "--output must be text or json, not \"%s\"", output);

    int status = 1, valid = 0;
    cw_error err = {{0}};
    char *input = NULL, *header = NULL, *payload = NULL;
    const char *text = argv[1];
    size_t len = strlen(text);
    seal_parsed parsed = {0};
    jwk *key = NULL;
    const char *verdict = "";

    if (strcmp(text, "-") == 0) {
        /* Room for surrounding whitespace; seal_parse applies the limit itself. */
        if (file_read_stream(stdin, "standard input", SEAL_SEALED_MAX + 4096, &input, &len, &err))
            goto out;
        text = input;
    }
    if (seal_parse(text, len, &parsed, &err))
        goto out;
    if (key_file && keyfile_load(key_file, false, &key, &err))
        goto out;
    if (!parsed.is_signed)
        verdict = "none (unsigned)";
    else if (!key)
        verdict = "not checked (give --public-key)";
    else if (seal_verify(&parsed, key->key, &valid, &err))
        goto out;
    else
        verdict = valid ? "valid" : "INVALID";

    header = parsed.header ? cJSON_PrintUnformatted(parsed.header) : NULL;
    payload = cJSON_PrintUnformatted(parsed.payload);
    if (!payload || (parsed.header && !header)) {
        CW_FAIL_NOMEM(&err);
        goto out;
    }
    if (json_out) {
        /* Reprinted from the parsed trees: no control character of the input reaches the
         * terminal unescaped. */
        printf("{\"form\":\"%s\",\"header\":%s,\"payload\":%s,\"signature\":\"%s\"}\n",
               parsed.is_signed ? "signed" : "unsigned", header ? header : "null", payload,
               parsed.is_signed ? (key ? (valid ? "valid" : "invalid") : "unchecked") : "none");
    } else {
        printf("form: %s\n", parsed.is_signed ? "signed (ES256 JWS)" : "unsigned (fakejwsheader)");
        if (header)
            printf("header: %s\n", header);
        printf("payload: %s\n", payload);
        printf("signature: %s\n", verdict);
    }
    if (flush_stdout(name))
        goto done;

    const cJSON *uri_item = cJSON_GetObjectItemCaseSensitive(parsed.payload, "name");
    cw_error note = {{0}};
    if (cJSON_IsString(uri_item) && seal_check_uri(uri_item->valuestring, &note))
        fprintf(stderr, "note: payload name: %s\n", note.msg);
    const cJSON *hkid = cJSON_GetObjectItemCaseSensitive(parsed.header, "kid");
    if (key && key->kid && cJSON_IsString(hkid) && strcmp(key->kid, hkid->valuestring) != 0)
        fprintf(stderr, "note: the header's kid differs from the kid of %s\n", key_file);

    if (key && !parsed.is_signed) {
        fprintf(stderr, "coco-webhook seal inspect: the sealed secret is unsigned; guests that "
                        "check signatures refuse it\n");
        goto done;
    }
    if (key && !valid) {
        fprintf(stderr, "coco-webhook seal inspect: the signature does not match %s\n", key_file);
        goto done;
    }
    status = 0;
    goto done;
out:
    cli_failed(name, err.msg);
done:
    free(input);
    free(header);
    free(payload);
    seal_parsed_free(&parsed);
    jwk_free(key);
    return status;
}

int cli_seal(int argc, char **argv)
{
    static const cli_subcommand subs[] = {
        {"vault", seal_vault_cmd},
        {"keygen", seal_keygen_cmd},
        {"inspect", seal_inspect_cmd},
    };
    return cli_dispatch("seal", seal_usage, subs, sizeof subs / sizeof subs[0], argc, argv);
}
