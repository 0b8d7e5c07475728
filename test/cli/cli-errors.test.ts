/**
 * The command line fails politely: a wrong command or option is one line plus
 * the usage on stderr and status 2; an unexpected error in a command is one
 * line and status 1, with the stack only under --debug or log_level debug.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type OptionSpecs, parseCommandLine } from "../../src/cli/args.ts";

const BIN = new URL("../../bin/chatrelay.js", import.meta.url).pathname;
const VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

const OPTIONS: OptionSpecs = {
  config: { type: "string", short: "c" },
  help: { type: "boolean", short: "h" },
  "dry-run": { type: "boolean" },
};

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs chatrelay without blocking, so that the cases below run side by side. */
function chatrelay(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const STACK_LINE = /^\s+at /m;

function assertUsageError(r: Run, line: string): void {
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, "");
  const [first, ...rest] = r.stderr.split("\n");
  assert.equal(first, line);
  assert.match(rest.join("\n"), /^usage: chatrelay <command>/);
  assert.doesNotMatch(r.stderr, STACK_LINE);
}

describe("a command line that fails politely", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "chatrelay-cli-errors-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("unknown commands and options, missing and surplus option values: one line, usage, status 2", async () => {
    const cases: [string[], string][] = [
      [["import", "--from", "x"], 'chatrelay: unknown command "import"'],
      [["serve", "--bogus"], 'chatrelay: unknown option "--bogus"'],
      [["dns", "--config"], 'chatrelay: option "--config" needs a value'],
    ];
    const runs = await Promise.all(cases.map(([args]) => chatrelay(args, dir)));
    for (const [i, [, line]] of cases.entries()) assertUsageError(runs[i]!, line);
  });

  test("the parser names the first mistake in each form", () => {
    const cases: [string[], string | undefined][] = [
      [["dns", "-x"], 'unknown option "-x"'],
      [["dns", "-hx"], 'unknown option "-x"'],
      [["dns", "--config", "--dry-run"], 'option "--config" needs a value'],
      [["expire", "--dry-run=yes"], 'option "--dry-run" takes no value'],
      [["dns", "-cfile.ini"], undefined],
      [["dns", "--config=-odd.ini"], undefined],
      [["init", "--", "--x"], undefined],
    ];
    for (const [args, error] of cases) {
      assert.equal(parseCommandLine(args, OPTIONS).error, error, args.join(" "));
    }
    assert.equal(parseCommandLine(["dns", "--config=-odd.ini"], OPTIONS).values.config, "-odd.ini");
    assert.deepEqual(parseCommandLine(["init", "--", "--x"], OPTIONS).positionals, ["init", "--x"]);
    // the positionals survive a mistake, so that an unknown command is named first
    assert.deepEqual(parseCommandLine(["import", "--from", "x"], OPTIONS).positionals, ["import", "x"]);
  });

  test("--version, -V and help: stdout, status 0", async () => {
    const [version, short, help] = await Promise.all([
      chatrelay(["--version"], dir),
      chatrelay(["-V"], dir),
      chatrelay(["help"], dir),
    ]);
    for (const r of [version, short]) {
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `chatrelay ${VERSION}\n`);
      assert.equal(r.stderr, "");
    }
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^usage: chatrelay <command>/);
    assert.match(help.stdout, /--version/);
    assert.equal(help.stderr, "");
  });

  test("an unexpected error in a command: one line and status 1; the stack with --debug or log_level debug", async () => {
    // a store that is not a SQLite database: not a configuration mistake, nothing the CLI expects
    const data = join(dir, "broken");
    mkdirSync(data);
    writeFileSync(join(data, "store.sqlite"), "this is not a database, ".repeat(200));
    const ini = join(dir, "broken.ini");
    writeFileSync(ini, `[params]\nmail_domain = chat.example.org\ndata_dir = ${data}\n`);
    const debugIni = join(dir, "broken-debug.ini");
    writeFileSync(
      debugIni,
      `[params]\nmail_domain = chat.example.org\ndata_dir = ${data}\nlog_level = debug\n`,
    );

    const [plain, debug, debugLevel] = await Promise.all([
      chatrelay(["queue", "--config", ini], dir),
      chatrelay(["queue", "--config", ini, "--debug"], dir),
      chatrelay(["queue", "--config", debugIni], dir),
    ]);
    assert.equal(plain.status, 1, plain.stderr);
    assert.equal(plain.stderr.trimEnd().split("\n").length, 1, plain.stderr);
    assert.match(plain.stderr, /^chatrelay: SqliteError.*file is not a database.*--debug/);
    for (const r of [debug, debugLevel]) {
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^chatrelay: SqliteError: file is not a database\n/);
      assert.match(r.stderr, STACK_LINE);
    }
  });
});
