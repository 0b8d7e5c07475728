/**
 * Citations resolve inside the repository: every `docs/NAME.md` our code, tests
 * and docs point at exists, every `docs/reference-relay.md §N` names a section
 * that document has, and nothing points at documents outside the repository.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

const ROOTS = ["src", "test", "bench", "docs", "README.md"];
const SKIP = new Set(["node_modules", "fixtures", "corpus", "findings"]);

function files(path: string, out: string[] = []): string[] {
  if (!existsSync(path)) return out;
  if (statSync(path).isFile()) {
    if (/\.(ts|mjs|js|md|py)$/.test(path)) out.push(path);
    return out;
  }
  for (const name of readdirSync(path)) if (!SKIP.has(name)) files(join(path, name), out);
  return out;
}

/** "1.2" for "### 1.2 Ports and TLS floors", "4" for "## 4. `chatmail.ini`". */
function sections(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const line of markdown.split("\n")) {
    const m = /^#{2,4} (\d+(?:\.\d+)*)\.? /.exec(line);
    if (m) out.add(m[1] as string);
  }
  return out;
}

test("citations of docs/ resolve, and nothing cites documents outside the repository", () => {
  const known = sections(readFileSync("docs/reference-relay.md", "utf8"));
  const problems: string[] = [];
  for (const file of ROOTS.flatMap((r) => files(r))) {
    if (file === "test/lint/citations.test.ts") continue;
    const lines = readFileSync(file, "utf8").split("\n");
    lines.forEach((line, i) => {
      const where = `${file}:${i + 1}`;
      if (/\.\.\/shared\/|chatmail-relay-behaviour|reference\/deltachat-client/.test(line))
        problems.push(`${where}: cites a document outside the repository`);
      if (/\breference §/.test(line)) problems.push(`${where}: "reference §" without a document`);
      for (const m of line.matchAll(/\bdocs\/([A-Za-z0-9_.-]+\.md)(?: §(\d+(?:\.\d+)*))?/g)) {
        const [, name, section] = m;
        // another project's docs ("imaptest's docs/scripted_test.md", "its docs/…")
        if (/(?:\bits|'s) $/.test(line.slice(0, m.index))) continue;
        if (!existsSync(join("docs", name as string))) problems.push(`${where}: docs/${name} does not exist`);
        else if (section !== undefined && name === "reference-relay.md" && !known.has(section))
          problems.push(`${where}: docs/reference-relay.md has no §${section}`);
      }
    });
  }
  assert.deepEqual(problems, []);
});
