// The guard's policy (`coco-webhook guard`, webhook/core/guard.c) evaluated by an independent
// CEL implementation (cel-es, @bufbuild/cel, installed by npm-install.sh), the way the API
// server evaluates it (vap.mjs), for the base config (manifests/base/config.yaml) and for
// tests/guard/two-classes (two allowed classes, replacePersistentVolumes off, an enforced
// initdata namespace):
//   * every expression calls only functions Kubernetes 1.30's CEL environment defines;
//   * CEL literals made by celesc read back as the strings they were made from;
//   * golden cases (tests/golden/cases): every object the webhook leaves or makes (expected
//     output) passes; every input the webhook had to change fails exactly the rules its change
//     names (runtime class, replaced volumes, enforced initdata), with their messages;
//   * the bypass cases of cases.yaml: each fails or passes as stated, with the messages;
//   * what `coco-webhook mutate` makes of each bypass case passes;
//   * `--actions warn` lets the same requests through with the same messages as warnings.
// Usage: node guard_test.mjs CEL_QUOTE_BINARY (COCO_BIN, COCO_SRC, COCO_BUILD set by ctest).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { admit, celVersion, evaluate, functionsOf } from "./vap.mjs";

const BIN = process.env.COCO_BIN;
const SRC = process.env.COCO_SRC;
const BUILD = process.env.COCO_BUILD;
const HERE = path.join(SRC, "tests", "guard");
const YAML2JSON = path.join(BUILD, "oracle", "yaml2json");
const CEL_QUOTE = process.argv[2];
const LABEL = "coco.confidentialcontainers.org/enabled";
const CONFIGS = {
  base: path.join(SRC, "manifests", "base", "config.yaml"),
  "two-classes": path.join(HERE, "two-classes", "config.yaml"),
};
// CEL's standard library (operators, size, has, dyn, the macros' internal helper) and
// ext.strings' split, trim, join: all in Kubernetes' environment since 1.29 (strings v2),
// so in every release where ValidatingAdmissionPolicy is GA (1.30).
// Golden cases where the guard may be stricter than the webhook, and why: their output passes,
// or fails the rule named and no other (README "The guard", what it compares).
const STRICTER = {
  "notebook-being-deleted": ["runtimeClass", "judged as a CREATE that claims a " +
    "deletionTimestamp: `mutate` leaves it alone; the API server clears the field first"],
};
const ALLOWED_FUNCTIONS = new Set([
  "_&&_", "_||_", "!_", "_==_", "_!=_", "_?_:_", "_[_]", "@in", "_+_", "size", "has", "dyn",
  "@not_strictly_false", "split", "trim", "join",
]);

let passed = 0;
const failures = [];
function check(cond, where, msg) {
  if (cond) passed++;
  else failures.push(`${where}: ${msg}`);
  return cond;
}

function run(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: "utf8", maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  return r;
}

// The documents of a YAML or JSON stream as kubectl reads them.
function readDocs(text, where) {
  const r = run(YAML2JSON, [], text);
  if (r.status !== 0) throw new Error(`${where}: yaml2json: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l))
    .filter((d) => d !== null);
}

function objectsOf(docs) {
  const out = [];
  for (const d of docs) {
    if (d && typeof d === "object" && String(d.kind || "").endsWith("List") &&
        Array.isArray(d.items)) out.push(...d.items);
    else out.push(d);
  }
  return out;
}

const guards = new Map();
function guardFor(config, extra = []) {
  const key = JSON.stringify([config, extra]);
  if (!guards.has(key)) {
    const args = ["guard", ...(config ? ["--config", config] : []), ...extra];
    const r = run(BIN, args);
    if (r.status !== 0) throw new Error(`coco-webhook ${args.join(" ")}: ${r.stderr}`);
    const docs = readDocs(r.stdout, "guard output");
    const policy = docs.find((d) => d.kind === "ValidatingAdmissionPolicy");
    const binding = docs.find((d) => d.kind === "ValidatingAdmissionPolicyBinding");
    guards.set(key, { policy, binding, text: r.stdout });
  }
  return guards.get(key);
}

function isGuarded(obj) {
  return obj && (obj.kind === "Pod" && obj.apiVersion === "v1" ||
    obj.kind === "Notebook" && String(obj.apiVersion).startsWith("kubeflow.org/"));
}

function requestFor(obj, operation, namespace) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/")
                                                        : ["", obj.apiVersion];
  const resource = obj.kind === "Pod" ? "pods" : obj.kind.toLowerCase() + "s";
  return { operation, namespace, name: obj.metadata?.name || "",
           kind: { group, version, kind: obj.kind }, resource: { group, version, resource } };
}

function namespaceObject(name, optIn) {
  const labels = { "kubernetes.io/metadata.name": name };
  if (optIn) labels[LABEL] = "true";
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
}

// The rule a denial message belongs to.
function ruleOf(message) {
  if (/\.runtimeClassName /.test(message)) return "runtimeClass";
  if (/\.volumes "/.test(message)) return "volumes";
  if (/enforces initdata document/.test(message)) return "initdata";
  return `unknown(${message})`;
}

// Runs the guard of config on obj; returns {matched, rules: [..], denials, errors, result}.
function judge(guard, obj, { operation = "CREATE", namespace, optIn = false, oldObject }) {
  const ns = obj.metadata?.namespace || namespace || "default";
  if (operation === "CREATE" && obj.metadata?.deletionTimestamp) {
    // The API server clears it on CREATE before validating admission (rest.BeforeCreate).
    obj = structuredClone(obj);
    delete obj.metadata.deletionTimestamp;
  }
  const result = admit(guard.policy, guard.binding, {
    request: requestFor(obj, operation, ns), object: obj,
    oldObject: operation === "UPDATE" ? (oldObject || obj) : null,
    namespaceObject: namespaceObject(ns, optIn),
  });
  const rules = [...new Set([...result.denials, ...result.warnings].map(ruleOf))].sort();
  return { ...result, rules };
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

// ---- 1. the expressions use only what Kubernetes defines ----
function checkFunctions() {
  for (const [name, config] of Object.entries(CONFIGS)) {
    const { policy } = guardFor(config);
    const s = policy.spec;
    const exprs = [...(s.matchConditions || []), ...(s.variables || [])].map((x) => x.expression)
      .concat((s.validations || []).flatMap((v) => [v.expression, v.messageExpression]));
    for (const e of exprs) {
      const extra = [...functionsOf(e)].filter((f) => !ALLOWED_FUNCTIONS.has(f));
      check(extra.length === 0, `${name} policy`, `${e.slice(0, 80)}... calls ${extra}`);
    }
    for (const v of s.validations) {
      check(v.messageExpression && v.message && v.reason === "Forbidden", `${name} policy`,
            "every validation has a messageExpression, a message and reason Forbidden");
      check(v.message.startsWith("coco-webhook guard: ") && !/[\r\n]/.test(v.message),
            `${name} policy`, `message ${v.message}`);
    }
  }
}

// ---- 2. celesc's literals read back as their strings ----
function checkLiterals() {
  const strings = ["", "plain", "it's", 'say "hi"', "back\\slash", "\\'", "'\\", "\n\r\t",
    "\x00\x01\x07\x08\x0b\x0c\x1b\x1f\x7f", "ünïcödé", "日本語", "emoji 😀", "\u2028\u2029",
    "' + object.kind + '", "'); true || ('", "${x}", "%s %q %%", "?\\?", "\\x41\\u0041"];
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 200; i++) {
    let s = "";
    const n = Math.floor(rand() * 12);
    for (let j = 0; j < n; j++) {
      const pick = rand();
      s += pick < 0.5 ? String.fromCharCode(Math.floor(rand() * 128))
        : pick < 0.8 ? "\\'\"\n"[Math.floor(rand() * 4)]
        : String.fromCodePoint(0x80 + Math.floor(rand() * 0x10000 - 0x80)).replace(/[\ud800-\udfff]/g, "x");
    }
    strings.push(s.replace(/\x00/g, "\x01"));
  }
  // The C side works on NUL-terminated strings: no NUL reaches it from a config.
  const input = strings.map((s) => s.replace(/\x00/g, ""));
  const r = run(CEL_QUOTE, [], JSON.stringify(input));
  if (!check(r.status === 0, "cel-quote", r.stderr)) return;
  const literals = JSON.parse(r.stdout);
  input.forEach((s, i) => {
    const got = evaluate(literals[i], {});
    check(!got.error && got.value === s, "celesc",
          `${JSON.stringify(s)} -> ${literals[i]} reads back as ${JSON.stringify(got)}`);
    const cmp = evaluate(`${literals[i]} == x`, { x: s });
    check(cmp.value === true, "celesc", `${literals[i]} == x`);
  });
}

// ---- 3. golden cases ----
function goldenArgs(dir) {
  const file = path.join(dir, "args");
  const args = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean)
                                   : [];
  const n = args.indexOf("-n") >= 0 ? args[args.indexOf("-n") + 1] : undefined;
  return { optIn: args.includes("--all"), namespace: n };
}

// The namespaces whose document the config enforces, read from the config itself.
function enforcedNamespaces(config) {
  if (!config) return new Set();
  const [cfg] = readDocs(fs.readFileSync(config, "utf8"), config);
  const out = new Set();
  for (const [ns, v] of Object.entries(cfg?.initdata?.namespaces || {}))
    if (v && typeof v === "object" && v.enforce === true) out.add(ns);
  return out;
}

function volumeSources(obj) {
  const spec = obj.kind === "Pod" ? obj.spec : obj.spec?.template?.spec;
  const out = new Map();
  for (const v of spec?.volumes || []) out.set(v.name, v);
  return out;
}

function classOf(obj) {
  const spec = obj.kind === "Pod" ? obj.spec : obj.spec?.template?.spec;
  return spec?.runtimeClassName;
}

function checkGolden() {
  const root = path.join(SRC, "tests", "golden", "cases");
  let cases = 0;
  for (const name of fs.readdirSync(root).sort()) {
    const dir = path.join(root, name);
    const expectedFile = path.join(dir, "expected.yaml");
    const inputFile = ["input.yaml", "input.json"].map((f) => path.join(dir, f))
      .find((f) => fs.existsSync(f));
    if (!fs.existsSync(expectedFile) || !inputFile) continue; // denied cases: see cases.yaml
    const config = fs.existsSync(path.join(dir, "config.yaml")) ? path.join(dir, "config.yaml")
                                                                : null;
    const guard = guardFor(config);
    const opts = goldenArgs(dir);
    const inputs = objectsOf(readDocs(fs.readFileSync(inputFile, "utf8"), name));
    const outputs = objectsOf(readDocs(fs.readFileSync(expectedFile, "utf8"), name));
    if (!check(inputs.length === outputs.length, name, "input and expected differ in length"))
      continue;
    const enforced = enforcedNamespaces(config);
    inputs.forEach((input, i) => {
      const output = outputs[i];
      if (!isGuarded(output)) return;
      cases++;
      const where = `golden ${name} #${i}`;
      const ns = output.metadata?.namespace || opts.namespace || "default";
      const operations = output.kind === "Pod" ? ["CREATE"] : ["CREATE", "UPDATE"];
      for (const operation of operations) {
        const out = judge(guard, output, { ...opts, operation });
        if (STRICTER[name]) {
          check((out.allowed || same(out.rules, [STRICTER[name][0]])) && !out.errors.length,
                where, `may fail only ${STRICTER[name][0]} (${STRICTER[name][1]}), but: ` +
                JSON.stringify(out.rules));
          continue;
        }
        check(out.allowed && out.errors.length === 0, where,
              `the webhook's output is refused on ${operation}: ${out.denials} ${out.errors}`);
        const inp = judge(guard, input, { ...opts, operation });
        check(inp.errors.length === 0, where, `errors on the input: ${inp.errors}`);
        // The rules the webhook's change names.
        const want = new Set();
        if (classOf(input) !== classOf(output)) want.add("runtimeClass");
        const before = volumeSources(input), after = volumeSources(output);
        const replaced = [];
        for (const [vname, v] of before) {
          const a = after.get(vname);
          if ((v.persistentVolumeClaim || v.ephemeral) && a && a.emptyDir &&
              !a.persistentVolumeClaim && !a.ephemeral) replaced.push(vname);
        }
        if (replaced.length) want.add("volumes");
        if (enforced.has(ns)) {
          const key = (guard.policy.spec.variables.find((x) => x.name === "initdataKey") || {})
            .expression;
          const k = key && evaluate(key, { variables: new Map([["runtimeClass",
                                                               classOf(output) || ""]]) }).value;
          const ann = (o) => (o.metadata?.annotations || {})[k];
          if (ann(input) !== ann(output)) want.add("initdata");
        }
        check(same(inp.rules, [...want].sort()), where,
              `${operation}: the input fails ${JSON.stringify(inp.rules)}, ` +
              `the webhook's change names ${JSON.stringify([...want].sort())}`);
        for (const vname of replaced)
          check(inp.denials.some((d) => d.includes(`"${vname}"`)), where,
                `no denial names the replaced volume "${vname}": ${inp.denials}`);
      }
    });
  }
  check(cases >= 40, "golden", `only ${cases} Pods and Notebooks found in the golden cases`);
  // An exemption must name a case that exists: a renamed case would run unexempted unseen.
  for (const name of Object.keys(STRICTER))
    check(fs.existsSync(path.join(root, name, "expected.yaml")), "golden",
          `STRICTER names ${name}, which is not a golden case`);
}

// ---- 4. bypass cases ----
function substitute(value, values) {
  return JSON.parse(JSON.stringify(value).replace(/\$INITDATA\(([a-z-]+)\)/g,
                                                  (_, n) => values[n]));
}

function mutate(config, obj, { namespace, optIn }) {
  const args = ["mutate", "--config", config, "-o", "json", "-n", namespace,
                ...(optIn ? ["--all"] : [])];
  const r = run(BIN, args, JSON.stringify(obj));
  return r.status === 0 ? JSON.parse(r.stdout) : null;
}

function checkBypass() {
  const [cases] = readDocs(fs.readFileSync(path.join(HERE, "cases.yaml"), "utf8"), "cases.yaml");
  const encode = (file) => {
    const r = run(BIN, ["initdata", "encode", path.join(HERE, "two-classes", file)]);
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.trim();
  };
  const values = { fraud: encode("fraud.toml"), other: encode("other.toml") };
  let mutated = 0;
  for (const c of cases.cases) {
    for (const [configName, expected] of Object.entries(c.expect)) {
      const config = CONFIGS[configName];
      const guard = guardFor(config);
      const obj = substitute(c.object, values);
      const opts = { operation: c.operation || "CREATE", namespace: c.namespace,
                     optIn: !!c.namespaceOptIn };
      const where = `case "${c.name}" (${configName})`;
      const got = judge(guard, obj, opts);
      check(got.errors.length === 0, where, `evaluation errors: ${got.errors}`);
      if (expected === "unmatched") {
        check(!got.matched, where, "the guard applies to it; it must leave it alone");
        continue;
      }
      check(got.matched, where, "the guard's match conditions leave it out");
      check(same(got.rules, [...expected].sort()), where,
            `fails ${JSON.stringify(got.rules)}, expected ${JSON.stringify(expected)} ` +
            `(${got.denials.join(" | ")})`);
      check(got.allowed === (expected.length === 0), where, "allowed");
      for (const [rule, text] of Object.entries(c.messages || {})) {
        if (!expected.includes(rule)) continue;
        const msg = got.denials.find((d) => ruleOf(d) === rule) || "";
        check(msg.includes(text), where, `the ${rule} message ${JSON.stringify(msg)} ` +
              `does not say ${JSON.stringify(text)}`);
        check(msg.startsWith("coco-webhook guard: "), where, "the message names the guard");
      }
      // The warn variant: allowed, the same messages as warnings.
      const warn = judge(guardFor(config, ["--actions", "warn"]), obj, opts);
      check(warn.allowed && same(warn.warnings, got.denials), where,
            `--actions warn: ${JSON.stringify(warn)}`);
      // What the webhook makes of it passes.
      const m = mutate(config, obj, opts);
      if (m) {
        mutated++;
        const after = judge(guard, m, opts);
        const excused = c.stricter && same(after.rules, [c.stricter.rule]);
        check((after.allowed || excused) && after.errors.length === 0, where,
              `the webhook's output is refused: ${after.denials} ${after.errors}`);
      }
    }
  }
  check(mutated >= 20, "bypass cases", `only ${mutated} mutated by the webhook`);
}

function main() {
  for (const [step, fn] of [["functions", checkFunctions], ["literals", checkLiterals],
                            ["golden", checkGolden], ["bypass", checkBypass]]) {
    try {
      fn();
    } catch (e) {
      failures.push(`${step}: ${e.stack || e}`);
    }
  }
  for (const f of failures) console.log(`FAIL ${f}`);
  console.log(`guard: policies checked with @bufbuild/cel ${celVersion} on node ${process.version}`);
  console.log(`${passed} passed, ${failures.length} failed`);
  process.exit(failures.length ? 1 : 0);
}

main();
