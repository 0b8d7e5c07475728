// Every regular expression in src/ runs in linear time: each regex literal and each
// `RegExp(...)` whose pattern is a compile-time constant is found with the TypeScript
// compiler API and checked with recheck (https://makenowjust-labs.github.io/recheck/).
// A vulnerable one fails the test with file:line and recheck's attack string; a
// `RegExp(...)` whose pattern cannot be resolved to a constant fails too, since it
// could not be checked.

import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { check, type Diagnostics } from "recheck";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SRC = join(ROOT, "src");

// recheck's default backend runs its native binary (the optional recheck-linux-x64
// package, ~3 s for src/) and falls back to its pure-JS build in a worker (~6 s);
// RECHECK_BACKEND=pure forces the latter. Both give the same verdicts.

interface Found {
  where: string;
  source: string;
  flags: string;
}

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) tsFiles(path, out);
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** The constant string value of an expression, following `const` bindings in the same file. */
function constant(node: ts.Expression, consts: Map<string, ts.Expression>, depth = 0): string | undefined {
  if (depth > 20) return undefined;
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isParenthesizedExpression(node)) return constant(node.expression, consts, depth + 1);
  if (ts.isAsExpression(node)) return constant(node.expression, consts, depth + 1);
  if (ts.isIdentifier(node)) {
    const init = consts.get(node.text);
    return init === undefined ? undefined : constant(init, consts, depth + 1);
  }
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const a = constant(node.left, consts, depth + 1);
    const b = constant(node.right, consts, depth + 1);
    return a === undefined || b === undefined ? undefined : a + b;
  }
  if (ts.isTemplateExpression(node)) {
    let out = node.head.text;
    for (const span of node.templateSpans) {
      const v = constant(span.expression, consts, depth + 1);
      if (v === undefined) return undefined;
      out += v + span.literal.text;
    }
    return out;
  }
  return undefined;
}

function collect(file: string, found: Found[], unresolved: string[]): void {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const consts = new Map<string, ts.Expression>();
  const where = (n: ts.Node) =>
    `${relative(ROOT, file)}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
  const visitConsts = (n: ts.Node): void => {
    if (
      ts.isVariableDeclarationList(n) &&
      (n.flags & ts.NodeFlags.Const) !== 0 &&
      n.declarations.every((d) => ts.isIdentifier(d.name))
    ) {
      for (const d of n.declarations)
        if (d.initializer) consts.set((d.name as ts.Identifier).text, d.initializer);
    }
    ts.forEachChild(n, visitConsts);
  };
  visitConsts(sf);
  const visit = (n: ts.Node): void => {
    if (n.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      const lit = (n as ts.RegularExpressionLiteral).text;
      const slash = lit.lastIndexOf("/");
      found.push({ where: where(n), source: lit.slice(1, slash), flags: lit.slice(slash + 1) });
    } else if (
      (ts.isNewExpression(n) || ts.isCallExpression(n)) &&
      ts.isIdentifier(n.expression) &&
      n.expression.text === "RegExp"
    ) {
      const args = n.arguments ?? [];
      const source = args[0] === undefined ? "" : constant(args[0], consts);
      const flags = args[1] === undefined ? "" : constant(args[1], consts);
      if (source === undefined || flags === undefined) unresolved.push(where(n));
      else found.push({ where: where(n), source, flags });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
}

function describe(f: Found, d: Diagnostics): string {
  const head = `${f.where} /${f.source}/${f.flags}`;
  if (d.status === "vulnerable") {
    return `${head}: ${d.complexity.summary}, attack ${JSON.stringify(d.attack.pattern)}`;
  }
  return `${head}: ${d.status}${d.status === "unknown" ? ` (${d.error.kind})` : ""}`;
}

test("the extractor finds literals and constant RegExp patterns", () => {
  const found: Found[] = [];
  const unresolved: string[] = [];
  const all = tsFiles(SRC);
  for (const file of all) collect(file, found, unresolved);
  assert.ok(all.length > 50, "src/ has its TypeScript files");
  assert.ok(found.length > 20, `found ${found.length} regular expressions`);
  // The constant folder sees through `const` bindings and template literals (config/ini.ts).
  assert.ok(found.some((f) => f.where.startsWith("src/config/ini.ts") && f.source.startsWith("^[")));
  assert.deepEqual(unresolved, [], "every RegExp(...) pattern is a constant the checker can see");
});

test("no regular expression in src/ backtracks super-linearly (recheck)", async () => {
  const found: Found[] = [];
  const unresolved: string[] = [];
  for (const file of tsFiles(SRC)) collect(file, found, unresolved);
  const bad: string[] = [];
  for (const f of found) {
    const d = await check(f.source, f.flags, { checker: "auto", timeout: 10_000 });
    if (d.status !== "safe") bad.push(describe(f, d));
  }
  assert.deepEqual(bad, [], `vulnerable or unchecked regular expressions:\n${bad.join("\n")}`);
});

test("the checker does flag a quadratic pattern (the test can fail)", async () => {
  const d = await check("^(a|a)*$", "", { checker: "auto", timeout: 10_000 });
  assert.equal(d.status, "vulnerable");
  const q = await check("^[^@]+@[^@]+$", "", { checker: "auto", timeout: 10_000 });
  assert.equal(q.status, "safe");
});
