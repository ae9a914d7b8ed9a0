// A ValidatingAdmissionPolicy and its binding evaluated on one admission request the way the
// API server's validating admission policy plugin does (k8s.io/apiserver
// pkg/admission/plugin/policy/validating), with cel-es (@bufbuild/cel) as the CEL evaluator:
//   1. matchConstraints.resourceRules against the request's resource and operation;
//   2. every matchCondition true, else the policy does not apply (a false one wins over an
//      error; an error otherwise counts under failurePolicy);
//   3. the variables, in order, each seeing the ones before it;
//   4. each validation: false -> its messageExpression (a non-empty one-line string), else its
//      message; an error -> failure under failurePolicy;
//   5. the binding's validationActions: Deny refuses, Warn warns, Audit records.
// Objects are JSON (from the yaml2json oracle); JSON integers become CEL ints (int64), as the
// API server's unstructured objects hold them.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(
  path.join(process.env.COCO_BUILD || ".", "guard-npm", "node_modules", "x.js"),
);
const cel = require("@bufbuild/cel");
const { strings } = require("@bufbuild/cel/ext");

import fs from "node:fs";
export const celVersion = JSON.parse(fs.readFileSync(
  path.join(process.env.COCO_BUILD || ".", "guard-npm", "node_modules", "@bufbuild", "cel",
            "package.json"), "utf8")).version;

export function toCel(v) {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map(toCel);
  if (typeof v === "object")
    return new Map(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return v;
}

const programs = new Map();

// Evaluates expr with bindings; returns {value} or {error}.
export function evaluate(expr, bindings) {
  let program = programs.get(expr);
  if (!program) {
    const env = cel.celEnv({ funcs: strings });
    program = cel.plan(env, cel.parse(expr));
    programs.set(expr, program);
  }
  let value;
  try {
    value = program(bindings);
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
  if (cel.isCelError(value)) return { error: value.message };
  return { value };
}

// The names of the functions an expression calls (macros expanded), for the check that the
// policy uses only what Kubernetes' CEL environment defines.
export function functionsOf(expr) {
  const found = new Set();
  const walk = (n) => {
    if (n === null || typeof n !== "object") return;
    if (Array.isArray(n)) return n.forEach(walk);
    if (n.$typeName === "cel.expr.Expr.Call") found.add(n.function);
    if (n.$typeName === "cel.expr.Expr.Select" && n.testOnly) found.add("has");
    for (const [k, v] of Object.entries(n)) if (k !== "$typeName") walk(v);
  };
  walk(cel.parse(expr).expr);
  return found;
}

function ruleMatches(rule, request) {
  const has = (list, v) => (list || []).includes("*") || (list || []).includes(v);
  return (
    has(rule.apiGroups, request.resource.group) &&
    has(rule.apiVersions, request.resource.version) &&
    has(rule.resources, request.resource.resource) &&
    has(rule.operations, request.operation)
  );
}

// request: {operation, namespace, name, kind: {group, version, kind},
//           resource: {group, version, resource}}; object, oldObject, namespaceObject: JSON.
// Returns {matched, allowed, denials: [message], warnings: [message], errors: [message]}.
export function admit(policy, binding, { request, object, oldObject = null, namespaceObject }) {
  const spec = policy.spec;
  const mc = spec.matchConstraints || {};
  for (const key of ["namespaceSelector", "objectSelector", "excludeResourceRules"]) {
    const sel = mc[key];
    if (sel && (Array.isArray(sel) ? sel.length : Object.keys(sel).length))
      throw new Error(`matchConstraints.${key} is not evaluated by this test`);
  }
  if (binding.spec.matchResources || binding.spec.paramRef || spec.paramKind)
    throw new Error("binding matchResources and params are not evaluated by this test");
  const result = { matched: false, allowed: true, denials: [], warnings: [], errors: [] };
  if (!(mc.resourceRules || []).some((r) => ruleMatches(r, request))) return result;

  const bindings = {
    object: toCel(object),
    oldObject: toCel(oldObject),
    request: toCel({ uid: "guard-test", dryRun: false, userInfo: { username: "test" },
                     requestKind: request.kind, requestResource: request.resource, ...request }),
    namespaceObject: toCel(namespaceObject),
    params: null,
  };
  const failOnError = (spec.failurePolicy || "Fail") === "Fail";

  let anyFalse = false;
  const conditionErrors = [];
  for (const c of spec.matchConditions || []) {
    const r = evaluate(c.expression, bindings);
    if (r.error) conditionErrors.push(`matchCondition ${c.name}: ${r.error}`);
    else if (r.value !== true) anyFalse = true;
  }
  if (anyFalse) return result;
  result.matched = true;
  const failures = [];
  if (conditionErrors.length) {
    result.errors.push(...conditionErrors);
    if (failOnError) failures.push(...conditionErrors);
  } else {
    // Variables: evaluated in order; an error is kept and reported where it is used.
    const variables = new Map();
    const variableErrors = new Map();
    bindings.variables = variables;
    for (const v of spec.variables || []) {
      const r = evaluate(v.expression, bindings);
      if (r.error) variableErrors.set(v.name, r.error);
      else variables.set(v.name, r.value);
    }
    const usedError = (expr) => {
      for (const [name, error] of variableErrors)
        if (new RegExp(`\\bvariables\\.${name}\\b`).test(expr))
          return `variable ${name}: ${error}`;
      return null;
    };
    for (const v of spec.validations || []) {
      const r = usedError(v.expression) ? { error: usedError(v.expression) }
                                        : evaluate(v.expression, bindings);
      if (r.error) {
        result.errors.push(`expression ${v.expression}: ${r.error}`);
        if (failOnError) failures.push(`expression failed: ${r.error}`);
        continue;
      }
      if (r.value === true) continue;
      let message = v.message || `failed expression: ${v.expression}`;
      if (v.messageExpression) {
        const m = usedError(v.messageExpression) ? { error: usedError(v.messageExpression) }
                                                 : evaluate(v.messageExpression, bindings);
        if (m.error) result.errors.push(`messageExpression: ${m.error}`);
        else if (typeof m.value === "string" && m.value.trim() !== "" && !/[\r\n]/.test(m.value))
          message = m.value;
        else result.errors.push(`messageExpression gave ${JSON.stringify(m.value)}`);
      }
      failures.push(message);
    }
  }
  const actions = binding.spec.validationActions || [];
  if (actions.includes("Deny") && failures.length) {
    result.allowed = false;
    result.denials = failures;
  }
  if (actions.includes("Warn")) result.warnings = failures;
  return result;
}
