/* cli_initdata: `coco-webhook initdata` (SPEC §6): render a document, show its digests in the
 * forms attestation compares, encode it as the pod annotation, inspect an annotation value.
 * The work on documents is initdata_doc.c's. Exit status: 0 done, 1 failed, 2 bad usage. */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "fileread.h"
#include "flags.h"
#include "initdata_doc.h"

#define SNP_HOSTDATA_LEN 32
#define TDX_MRCONFIGID_LEN 48
#define CCA_LEN 64
#define PCR_LEN 32
#define URL_MAX 2048
#define VALUE_INPUT_MAX (INITDATA_VALUE_MAX * 2) /* an annotation value read by inspect */
/* A rendered document: the certificate twice, the policy and the fixed text around them. */
#define RENDER_MAX (3 * (size_t)INITDATA_FILE_MAX)

static const char initdata_usage[] =
    "Usage: coco-webhook initdata COMMAND [OPTIONS]\n"
    "\n"
    "Initdata documents tell a pod VM which Trustee it attests to, with which certificate,\n"
    "under which kata agent policy. The webhook sets them as the pod annotation\n"
    "io.katacontainers.config.hypervisor.cc_init_data (config initdata).\n"
    "\n"
    "Commands:\n"
    "  render    write a document for a Trustee URL, certificate and agent policy\n"
    "  digest    the document's digest in the forms Trustee's reference values take\n"
    "  encode    the annotation value of a document (base64 of its gzip)\n"
    "  inspect   decode an annotation value: the document and its digests\n"
    "\n"
    "Run 'coco-webhook initdata COMMAND --help' for a command's options.\n";

static const char render_usage[] =
    "Usage: coco-webhook initdata render --trustee-url URL [--trustee-cert PEM]\n"
    "                                    [--policy REGO] [--algorithm ALG] [-o FILE]\n"
    "\n"
    "Writes an initdata document (TOML, version 0.1.0) whose [data] holds aa.toml (attestation\n"
    "agent: token_configs.coco_as and token_configs.kbs), cdh.toml (confidential data hub:\n"
    "kbc cc_kbc) and policy.rego (the kata agent policy), as guest-components read them.\n"
    "\n"
    "Options:\n"
    "      --trustee-url URL    the Trustee (KBS) URL, http:// or https:// (required)\n"
    "      --trustee-cert PEM   the Trustee's HTTPS certificate (a PEM file); needed when it is\n"
    "                           not signed by a CA the pod VM trusts\n"
    "      --policy REGO        the kata agent policy file; default: every agent request\n"
    "                           allowed except exec into containers, writing to their stdin\n"
    "                           and changing the policy (SetPolicyRequest)\n"
    "      --algorithm ALG      sha256 (default), sha384 or sha512: the digest measured;\n"
    "                           vTPM (Azure) peer pods need sha256 (PCR 8 is sha256 only)\n"
    "  -o, --output FILE        write to FILE instead of standard output\n"
    "  -h, --help               show this help\n";

static const char digest_usage[] =
    "Usage: coco-webhook initdata digest FILE\n"
    "\n"
    "Checks the document FILE and prints its digest with the hash its algorithm names, the\n"
    "TEE forms (SNP hostdata 32 bytes, TDX mr_config_id 48, CCA 64: truncated or padded with\n"
    "zero bytes), and the vTPM PCR 8 value Azure peer pods extend,\n"
    "sha256(32 zero bytes || sha256(document)), as hex and as entries for Trustee's\n"
    "reference values (ConfigMap trusteeconfig-rvps-reference-values, reference-values.json).\n"
    "vTPM (Azure) peer pods need algorithm = \"sha256\": for other algorithms no PCR 8 value\n"
    "is printed, as none can attest there.\n"
    "\n"
    "The digest is over the file's bytes exactly: the webhook delivers them unchanged. A runtime\n"
    "that merges a base document with the pod's measures the merged text instead.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n";

static const char encode_usage[] =
    "Usage: coco-webhook initdata encode FILE\n"
    "\n"
    "Checks the document FILE and prints the annotation value: the standard base64 (one line)\n"
    "of a gzip of the file's bytes, the same value the webhook sets. Equivalent to\n"
    "'gzip -c FILE | base64 -w0' up to the gzip header.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n";

static const char inspect_usage[] =
    "Usage: coco-webhook initdata inspect VALUE|-\n"
    "\n"
    "Decodes an annotation value (base64 of gzip; '-' reads it from standard input), checks\n"
    "the document and prints it, then its digests as 'digest' does.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n";

/* The default agent policy, in the spirit of the fraud-detection workshop's: every request
 * the agent needs to run a pod, no exec, no writes to a container's stdin, no new policy. */
static const char default_policy[] = "package agent_policy\n"
                                     "\n"
                                     "default AddARPNeighborsRequest := true\n"
                                     "default AddSwapRequest := true\n"
                                     "default CloseStdinRequest := true\n"
                                     "default CopyFileRequest := true\n"
                                     "default CreateContainerRequest := true\n"
                                     "default CreateSandboxRequest := true\n"
                                     "default DestroySandboxRequest := true\n"
                                     "default GetMetricsRequest := true\n"
                                     "default GetOOMEventRequest := true\n"
                                     "default GuestDetailsRequest := true\n"
                                     "default ListInterfacesRequest := true\n"
                                     "default ListRoutesRequest := true\n"
                                     "default MemHotplugByProbeRequest := true\n"
                                     "default OnlineCPUMemRequest := true\n"
                                     "default PauseContainerRequest := true\n"
                                     "default PullImageRequest := true\n"
                                     "default ReadStreamRequest := true\n"
                                     "default RemoveContainerRequest := true\n"
                                     "default RemoveStaleVirtiofsShareMountsRequest := true\n"
                                     "default ReseedRandomDevRequest := true\n"
                                     "default ResumeContainerRequest := true\n"
                                     "default SetGuestDateTimeRequest := true\n"
                                     "default SignalProcessRequest := true\n"
                                     "default StartContainerRequest := true\n"
                                     "default StartTracingRequest := true\n"
                                     "default StatsContainerRequest := true\n"
                                     "default StopTracingRequest := true\n"
                                     "default TtyWinResizeRequest := true\n"
                                     "default UpdateContainerRequest := true\n"
                                     "default UpdateEphemeralMountsRequest := true\n"
                                     "default UpdateInterfaceRequest := true\n"
                                     "default UpdateRoutesRequest := true\n"
                                     "default WaitProcessRequest := true\n"
                                     "\n"
                                     "# No exec into containers, no writes to their stdin.\n"
                                     "default ExecProcessRequest := false\n"
                                     "default WriteStreamRequest := false\n"
                                     "\n"
                                     "# The policy cannot be replaced from the host.\n"
                                     "default SetPolicyRequest := false\n";

/* Appends s. A failure stays in o: render checks buf_status once, at the end. */
static void out_str(buf *o, const char *s)
{
    if (buf_adds(o, s) != CW_OK)
        return;
}

/* Reads a text file that is placed inside a TOML literal string: it must not close it. */
static unsigned char *read_embedded(const char *what, const char *path, size_t *len)
{
    unsigned char *text;
    cw_error err = {{0}};
    if (initdata_read_file(path, &text, len, &err) != CW_OK) {
        fprintf(stderr, "coco-webhook initdata render: %s: %s\n", what, err.msg);
        return NULL;
    }
    if (memchr(text, '\0', *len) || strstr((const char *)text, "'''")) {
        fprintf(stderr,
                "coco-webhook initdata render: %s: %s: holds a NUL byte or ''' (which would end "
                "the TOML string it is placed in)\n",
                what, path);
        free(text);
        return NULL;
    }
    return text;
}

/* The certificate file must hold at least one PEM certificate, and only text. */
static bool check_certificate(const char *path, const unsigned char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    bool ok = x != NULL;
    X509_free(x);
    BIO_free(bio);
    if (!ok)
        fprintf(stderr, "coco-webhook initdata render: --trustee-cert: %s: no PEM certificate\n",
                path);
    if (ok && strstr((const char *)pem, "\"\"\"")) {
        fprintf(stderr, "coco-webhook initdata render: --trustee-cert: %s: holds \"\"\"\n", path);
        ok = false;
    }
    return ok;
}

/* A URL that fits a TOML basic string as it is: http(s), no quotes, backslashes or controls. */
static bool check_url(const char *url)
{
    size_t n = strlen(url);
    bool scheme = strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0;
    bool ok = scheme && n < URL_MAX && n > (size_t)(url[4] == 's' ? 8 : 7);
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '\'')
            ok = false;
    }
    if (!ok)
        fprintf(stderr,
                "coco-webhook initdata render: --trustee-url \"%.200s\": need an http:// or "
                "https:// URL without spaces, quotes or backslashes\n",
                url);
    return ok;
}

/* Appends text with exactly one trailing newline. */
static void out_text_block(buf *o, const unsigned char *text, size_t len)
{
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    if (buf_add(o, text, len) == CW_OK)
        out_str(o, "\n");
}

/* key = """CERT""" when there is a certificate. */
static void out_cert(buf *o, const char *key, const unsigned char *cert, size_t len)
{
    if (!cert)
        return;
    out_str(o, key);
    out_str(o, " = \"\"\"\n");
    out_text_block(o, cert, len);
    out_str(o, "\"\"\"\n");
}

static int write_output(const char *path, const char *text, size_t len)
{
    FILE *f = path ? fopen(path, "wbe") : stdout;
    if (!f) {
        perror(path);
        return 1;
    }
    bool ok = fwrite(text, 1, len, f) == len;
    ok = (path ? fclose(f) == 0 : fflush(f) == 0) && ok;
    if (!ok) {
        fprintf(stderr, "coco-webhook initdata: cannot write %s\n", path ? path : "the output");
        return 1;
    }
    return 0;
}

typedef struct render_opts {
    const char *url, *cert_path, *policy_path, *algorithm, *output;
} render_opts;

static int cmd_render(int argc, char **argv)
{
    static const cli_flag flags[] = {
        CLI_STRING_FLAG("--trustee-url", 0, render_opts, url),
        CLI_STRING_FLAG("--trustee-cert", 0, render_opts, cert_path),
        CLI_STRING_FLAG("--policy", 0, render_opts, policy_path),
        CLI_STRING_FLAG("--algorithm", 0, render_opts, algorithm),
        CLI_STRING_FLAG("--output", 'o', render_opts, output),
    };
    static const cli_command cmd = CLI_COMMAND("initdata render", render_usage, flags, 0);
    render_opts f = {0};
    int positional = 0;
    int status = cli_flags_parse(&cmd, argc, argv, &f, &positional);
    if (status >= 0)
        return status;
    const char *url = f.url, *cert_path = f.cert_path, *policy_path = f.policy_path;
    const char *output = f.output;
    initdata_alg alg = INITDATA_SHA256;
    if (f.algorithm && !initdata_alg_parse(f.algorithm, &alg))
        return cli_usage_error(cmd.name, "--algorithm \"%.64s\": need sha256, sha384 or sha512",
                               f.algorithm);
    if (!url)
        return cli_usage_error(cmd.name, "--trustee-url is required");
    if (alg != INITDATA_SHA256)
        fprintf(stderr,
                "coco-webhook initdata render: note: vTPM (Azure) peer pods need algorithm = "
                "\"sha256\" (their PCR 8 is sha256 only): a %s document cannot attest there\n",
                initdata_alg_name(alg));
    if (!check_url(url))
        return 2;
    int rc = 1;
    unsigned char *cert = NULL, *policy = NULL;
    size_t cert_len = 0, policy_len = 0;
    buf o;
    buf_init(&o, RENDER_MAX);
    if (cert_path && (!(cert = read_embedded("--trustee-cert", cert_path, &cert_len)) ||
                      !check_certificate(cert_path, cert, cert_len)))
        goto done;
    if (policy_path && !(policy = read_embedded("--policy", policy_path, &policy_len)))
        goto done;

    out_str(&o, "algorithm = \"");
    out_str(&o, initdata_alg_name(alg));
    out_str(&o, "\"\nversion = \"0.1.0\"\n\n[data]\n\"aa.toml\" = '''\n[token_configs]\n"
                "[token_configs.coco_as]\nurl = \"");
    out_str(&o, url);
    out_str(&o, "\"\n\n[token_configs.kbs]\nurl = \"");
    out_str(&o, url);
    out_str(&o, "\"\n");
    out_cert(&o, "cert", cert, cert_len);
    out_str(&o, "'''\n\n\"cdh.toml\" = '''\n"
                "socket = 'unix:///run/confidential-containers/cdh.sock'\n"
                "credentials = []\n\n[kbc]\nname = \"cc_kbc\"\nurl = \"");
    out_str(&o, url);
    out_str(&o, "\"\n");
    out_cert(&o, "kbs_cert", cert, cert_len);
    out_str(&o, "'''\n\n\"policy.rego\" = '''\n");
    if (policy)
        out_text_block(&o, policy, policy_len);
    else
        out_str(&o, default_policy);
    out_str(&o, "'''\n");
    if (buf_status(&o) != CW_OK) {
        fprintf(stderr, "coco-webhook initdata render: %s\n",
                buf_status(&o) == CW_ENOMEM ? "out of memory"
                                            : "the document would be larger than its limit");
        goto done;
    }
    /* What we write must pass the check the webhook makes when it loads it. */
    initdata_doc doc;
    cw_error err = {{0}};
    if (initdata_doc_from_bytes(output ? output : "the rendered document",
                                (const unsigned char *)o.data, o.len, &doc, &err) != CW_OK) {
        fprintf(stderr, "coco-webhook initdata render: %s\n", err.msg);
        goto done;
    }
    initdata_doc_clear(&doc);
    rc = write_output(output, o.data, o.len);
done:
    free(cert);
    free(policy);
    buf_free(&o);
    return rc;
}

static void print_hex_line(const char *label, const unsigned char *b, size_t n)
{
    char hex[2 * INITDATA_DIGEST_MAX + 1];
    initdata_hex(b, n, hex);
    printf("%-32s %s\n", label, hex);
}

/* The digests of a checked document, for digest and inspect. */
static int print_digests(const initdata_doc *doc)
{
    unsigned char fit[INITDATA_DIGEST_MAX];
    unsigned char pcr[PCR_LEN];
    char pcr_hex[2 * PCR_LEN + 1];
    const char *alg = initdata_alg_name(doc->info.alg);
    if (!initdata_pcr8(doc->bytes, doc->len, pcr)) {
        fputs("coco-webhook initdata: cannot hash\n", stderr);
        return 1;
    }
    initdata_hex(pcr, sizeof pcr, pcr_hex);
    printf("%-32s %s\n", "algorithm", alg);
    printf("%-32s %zu\n", "bytes", doc->len);
    char label[64];
    snprintf(label, sizeof label, "%s", alg);
    print_hex_line(label, doc->digest, doc->digest_len);
    initdata_fit(doc->digest, doc->digest_len, fit, SNP_HOSTDATA_LEN);
    print_hex_line("snp hostdata (32 bytes)", fit, SNP_HOSTDATA_LEN);
    initdata_fit(doc->digest, doc->digest_len, fit, TDX_MRCONFIGID_LEN);
    print_hex_line("tdx mr_config_id (48 bytes)", fit, TDX_MRCONFIGID_LEN);
    initdata_fit(doc->digest, doc->digest_len, fit, CCA_LEN);
    print_hex_line("cca (64 bytes)", fit, CCA_LEN);
    /* FACTS.md, "Initdata": the vTPM extends PCR 8 with sha256 only, and Trustee's check of
     * it copies 32 bytes: a sha384 or sha512 document cannot attest there at all. */
    if (doc->info.alg != INITDATA_SHA256) {
        printf("%-32s %s\n", "vtpm pcr8", "none");
        printf(
            "\n# vTPM (Azure) peer pods need algorithm = \"sha256\": they attest initdata\n"
            "# through PCR 8, which their pod VM extends with sha256 only, so this %s\n"
            "# document cannot attest there. The SNP, TDX and CCA fields above are unaffected.\n",
            alg);
    } else {
        printf("%-32s %s\n", "vtpm pcr8", pcr_hex);
        printf("\n# The PCR 8 value for Trustee's reference values (ConfigMap\n"
               "# trusteeconfig-rvps-reference-values, key reference-values.json): add it to the\n"
               "# \"value\" list of these entries:\n"
               "[\n"
               "  {\"name\": \"snp_pcr08\", \"value\": [\"%s\"]},\n"
               "  {\"name\": \"tdx_pcr08\", \"value\": [\"%s\"]}\n"
               "]\n"
               "# vTPM (Azure) peer pods need algorithm = \"sha256\", as this document has.\n",
               pcr_hex, pcr_hex);
    }
    printf("# The digests are over this exact text; a runtime that merges documents measures the\n"
           "# merged text.\n");
    return 0;
}

/* The commands that take one positional argument and no flags. Returns -1 to go on, or the
 * exit status. */
static int one_argument(const char *name, const char *usage, const char *what, int argc,
                        char **argv)
{
    const cli_command cmd = {name, usage, NULL, 0, 1};
    int positional = 0;
    int status = cli_flags_parse(&cmd, argc, argv, NULL, &positional);
    if (status >= 0)
        return status;
    if (positional == 0)
        return cli_usage_error(name, "need one %s", what);
    return -1;
}

static int cmd_file(int argc, char **argv, bool encode)
{
    const char *name = encode ? "initdata encode" : "initdata digest";
    int status = one_argument(name, encode ? encode_usage : digest_usage, "FILE", argc, argv);
    if (status >= 0)
        return status;
    if (strcmp(argv[1], "-") == 0)
        return cli_usage_error(name, "need one FILE");
    initdata_doc doc;
    cw_error err = {{0}};
    if (initdata_doc_load(argv[1], &doc, &err) != CW_OK)
        return cli_failed(name, err.msg);
    int rc = 0;
    if (encode)
        rc = write_output(NULL, doc.value, doc.value_len) || write_output(NULL, "\n", 1);
    else
        rc = print_digests(&doc);
    initdata_doc_clear(&doc);
    return rc;
}

static int cmd_inspect(int argc, char **argv)
{
    static const char name[] = "initdata inspect";
    int status = one_argument(name, inspect_usage, "VALUE or -", argc, argv);
    if (status >= 0)
        return status;
    char *value = argv[1];
    char *owned = NULL;
    size_t len = strlen(value);
    cw_error err = {{0}};
    if (strcmp(value, "-") == 0) {
        if (file_read_stream(stdin, "standard input", VALUE_INPUT_MAX, &owned, &len, &err) != CW_OK)
            return cli_failed(name, err.msg);
        value = owned;
    }
    while (len > 0 && (value[len - 1] == '\n' || value[len - 1] == '\r' || value[len - 1] == ' '))
        len--;
    unsigned char *bytes = NULL;
    size_t n = 0;
    initdata_doc doc;
    int rc = 1;
    if (initdata_decode(value, len, INITDATA_FILE_MAX, &bytes, &n, &err) != CW_OK) {
        fprintf(stderr, "coco-webhook initdata inspect: the value is not base64 of gzip: %s\n",
                err.msg);
        goto done;
    }
    if (initdata_doc_from_bytes("the decoded document", bytes, n, &doc, &err) != CW_OK) {
        fwrite(bytes, 1, n, stdout);
        fprintf(stderr, "coco-webhook initdata inspect: %s\n", err.msg);
        goto done;
    }
    printf("# document (%zu bytes)\n", n);
    fwrite(bytes, 1, n, stdout);
    if (n > 0 && bytes[n - 1] != '\n')
        putchar('\n');
    printf("# end of document\n\n");
    if (doc.value_len != len || memcmp(doc.value, value, len) != 0)
        printf("# note: the value is another encoding of this document than the webhook's\n\n");
    rc = print_digests(&doc);
    initdata_doc_clear(&doc);
done:
    free(bytes);
    free(owned);
    return rc;
}

static int cmd_digest(int argc, char **argv)
{
    return cmd_file(argc, argv, false);
}

static int cmd_encode(int argc, char **argv)
{
    return cmd_file(argc, argv, true);
}

int cli_initdata(int argc, char **argv)
{
    static const cli_subcommand subs[] = {
        {"render", cmd_render},
        {"digest", cmd_digest},
        {"encode", cmd_encode},
        {"inspect", cmd_inspect},
    };
    return cli_dispatch("initdata", initdata_usage, subs, sizeof subs / sizeof subs[0], argc, argv);
}
