/* cli_seal: `coco-webhook seal`, the command line over seal.h. Exit status: 0 done,
 * 1 failed (bad values, files, invalid signature), 2 usage error. */
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cli.h"
#include "fileread.h"
#include "keyfile.h"
#include "seal.h"
#include "secret_manifest.h"

#define EXIT_USAGE 2

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

/* Prints one line "coco-webhook seal CMD: message" and returns EXIT_USAGE. */
static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "coco-webhook seal%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'coco-webhook seal%s%s --help')\n", cmd ? " " : "", cmd ? cmd : "");
    return EXIT_USAGE;
}

static int failed(const char *cmd, const cw_error *err)
{
    fprintf(stderr, "coco-webhook seal %s: %s\n", cmd, err->msg);
    return 1;
}

/* Reports what getopt_long refused (called with its return value ':' or '?'). */
static int bad_option(const char *cmd, int c, char **argv)
{
    const char *arg = argv[optind - 1];
    if (c == ':')
        return usage_error(cmd, "option %s needs a value", arg);
    if (optopt && optopt != '?')
        return usage_error(cmd, "unknown option -%c", optopt);
    return usage_error(cmd, "unknown option %s", arg);
}

static int is_help(const char *s)
{
    return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 || strcmp(s, "help") == 0;
}

static int flush_stdout(const char *cmd)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "coco-webhook seal %s: cannot write the output\n", cmd);
        return 1;
    }
    return 0;
}

enum {
    OPT_URI = 256,
    OPT_PROVIDER,
    OPT_SETTINGS,
    OPT_ANNOTATIONS,
    OPT_SIGNING_KEY,
    OPT_SIGNING_KID,
    OPT_PADDED,
    OPT_SECRET_NAME,
    OPT_KEY,
    OPT_DATA,
    OPT_KID,
    OPT_OUT,
    OPT_FORCE,
    OPT_PUBLIC_KEY,
};

static int seal_vault_cmd(int argc, char **argv)
{
    static const char cmd[] = "vault";
    static const struct option opts[] = {
        {"resource-uri", required_argument, NULL, OPT_URI},
        {"provider", required_argument, NULL, OPT_PROVIDER},
        {"provider-settings", required_argument, NULL, OPT_SETTINGS},
        {"annotations", required_argument, NULL, OPT_ANNOTATIONS},
        {"signing-key", required_argument, NULL, OPT_SIGNING_KEY},
        {"signing-kid", required_argument, NULL, OPT_SIGNING_KID},
        {"padded", no_argument, NULL, OPT_PADDED},
        {"secret-name", required_argument, NULL, OPT_SECRET_NAME},
        {"key", required_argument, NULL, OPT_KEY},
        {"namespace", required_argument, NULL, 'n'},
        {"output", required_argument, NULL, 'o'},
        {"data", no_argument, NULL, OPT_DATA},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *uri = NULL, *provider = NULL, *settings_text = NULL, *annotations_text = NULL;
    const char *key_file = NULL, *kid = NULL, *secret_name = NULL, *secret_key = NULL;
    const char *ns = NULL, *output = NULL;
    int padded = 0, use_data = 0, c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:o:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_URI: uri = optarg; break;
        case OPT_PROVIDER: provider = optarg; break;
        case OPT_SETTINGS: settings_text = optarg; break;
        case OPT_ANNOTATIONS: annotations_text = optarg; break;
        case OPT_SIGNING_KEY: key_file = optarg; break;
        case OPT_SIGNING_KID: kid = optarg; break;
        case OPT_PADDED: padded = 1; break;
        case OPT_SECRET_NAME: secret_name = optarg; break;
        case OPT_KEY: secret_key = optarg; break;
        case 'n': ns = optarg; break;
        case 'o': output = optarg; break;
        case OPT_DATA: use_data = 1; break;
        case 'h': fputs(vault_usage, stdout); return 0;
        default: return bad_option(cmd, c, argv);
        }
    }
    if (optind < argc)
        return usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
    if (!uri)
        return usage_error(cmd, "--resource-uri is required");
    if (padded && key_file)
        return usage_error(cmd, "--padded is for the unsigned form; it cannot be signed");
    if (kid && !key_file)
        return usage_error(cmd, "--signing-kid needs --signing-key");
    if (!secret_name && (secret_key || ns || output || use_data))
        return usage_error(cmd, "--key, --namespace, --output and --data need --secret-name");
    if (secret_name && !secret_key)
        return usage_error(cmd, "--secret-name needs --key");
    if (output && strcmp(output, "yaml") != 0 && strcmp(output, "json") != 0)
        return usage_error(cmd, "--output must be yaml or json, not \"%s\"", output);

    int status = 1;
    cw_error err = {{0}};
    cJSON *settings = NULL, *annotations = NULL, *manifest = NULL;
    jwk *key = NULL;
    char *sealed = NULL;
    buf text;
    buf_init(&text, SIZE_MAX);

    if (settings_text && seal_parse_object("--provider-settings", settings_text, &settings, &err))
        goto out;
    if (annotations_text &&
        seal_parse_object("--annotations", annotations_text, &annotations, &err))
        goto out;
    seal_vault v = {uri, provider, settings, annotations};
    if (key_file) {
        if (keyfile_load(key_file, true, &key, &err))
            goto out;
        if (!kid)
            kid = key->kid;
        if (!kid) {
            cw_fail(&err, CW_EINVAL, "%s has no \"kid\": give --signing-kid", key_file);
            goto out;
        }
        if (seal_signed(&v, key->key, kid, &sealed, &err))
            goto out;
    } else if (seal_unsigned(&v, padded, &sealed, &err)) {
        goto out;
    }

    if (!secret_name) {
        printf("%s\n", sealed);
    } else {
        secret_manifest_format format =
            output && strcmp(output, "json") == 0 ? SECRET_MANIFEST_JSON : SECRET_MANIFEST_YAML;
        if (secret_manifest_build(secret_name, ns, secret_key, sealed, use_data, &manifest, &err))
            goto out;
        if (secret_manifest_write(&text, manifest, format)) {
            CW_FAIL_NOMEM(&err);
            goto out;
        }
        fwrite(text.data, 1, text.len, stdout);
    }
    if (flush_stdout(cmd))
        goto done;
    /* Like the upstream tool's warning: the value only names the secret. */
    fprintf(stderr, "note: upload the secret itself to Trustee at %s\n", uri + strlen("kbs:///"));
    status = 0;
    goto done;
out:
    failed(cmd, &err);
done:
    cJSON_Delete(settings);
    cJSON_Delete(annotations);
    cJSON_Delete(manifest);
    jwk_free(key);
    free(sealed);
    buf_free(&text);
    return status;
}

static int seal_keygen_cmd(int argc, char **argv)
{
    static const char cmd[] = "keygen";
    static const struct option opts[] = {
        {"kid", required_argument, NULL, OPT_KID},
        {"out", required_argument, NULL, OPT_OUT},
        {"force", no_argument, NULL, OPT_FORCE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *kid = NULL, *dir = NULL;
    int force = 0, c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_KID: kid = optarg; break;
        case OPT_OUT: dir = optarg; break;
        case OPT_FORCE: force = 1; break;
        case 'h': fputs(keygen_usage, stdout); return 0;
        default: return bad_option(cmd, c, argv);
        }
    }
    if (optind < argc)
        return usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
    if (!kid || !dir)
        return usage_error(cmd, "--kid and --out are required");

    cw_error err = {{0}};
    if (keyfile_keygen(dir, kid, force, &err))
        return failed(cmd, &err);
    printf("wrote %s/private.jwk (secret: sign with it) and %s/public.jwk\n", dir, dir);
    printf("upload %s/public.jwk to Trustee at %s, then: coco-webhook seal vault "
           "--signing-key %s/private.jwk --resource-uri ...\n",
           dir, kid + strlen("kbs:///"), dir);
    return flush_stdout(cmd);
}

static int seal_inspect_cmd(int argc, char **argv)
{
    static const char cmd[] = "inspect";
    static const struct option opts[] = {
        {"public-key", required_argument, NULL, OPT_PUBLIC_KEY},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *key_file = NULL, *output = "text";
    int c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_PUBLIC_KEY: key_file = optarg; break;
        case 'o': output = optarg; break;
        case 'h': fputs(inspect_usage, stdout); return 0;
        default: return bad_option(cmd, c, argv);
        }
    }
    if (optind >= argc)
        return usage_error(cmd, "give the sealed secret, or - to read it from standard input");
    if (optind + 1 < argc)
        return usage_error(cmd, "unexpected argument \"%s\"", argv[optind + 1]);
    int json_out = strcmp(output, "json") == 0;
    if (!json_out && strcmp(output, "text") != 0)
        return usage_error(cmd, "--output must be text or json, not \"%s\"", output);

    int status = 1, valid = 0;
    cw_error err = {{0}};
    char *input = NULL, *header = NULL, *payload = NULL;
    const char *text = argv[optind];
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
    if (flush_stdout(cmd))
        goto done;

    const cJSON *name = cJSON_GetObjectItemCaseSensitive(parsed.payload, "name");
    cw_error note = {{0}};
    if (cJSON_IsString(name) && seal_check_uri(name->valuestring, &note))
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
    failed(cmd, &err);
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
    if (argc < 2) {
        fputs(seal_usage, stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (is_help(sub)) {
        fputs(seal_usage, stdout);
        return 0;
    }
    if (strcmp(sub, "vault") == 0)
        return seal_vault_cmd(argc - 1, argv + 1);
    if (strcmp(sub, "keygen") == 0)
        return seal_keygen_cmd(argc - 1, argv + 1);
    if (strcmp(sub, "inspect") == 0)
        return seal_inspect_cmd(argc - 1, argv + 1);
    return usage_error(NULL, "unknown command \"%s\"", sub);
}
