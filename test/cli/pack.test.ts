/**
 * An install that does not need the git tree: the tarball `npm pack` makes,
 * installed with `npm install --omit=dev` into a temporary prefix, runs
 * `chatrelay init` and `chatrelay serve` from a folder outside the source tree
 * as compiled JavaScript (no tsx anywhere in the installed tree), and a client
 * logs in over IMAP, which creates the account through the hash workers.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ephemeralSettings, imapLogin, packAndInstall, startServe, stop } from "../support/installed.ts";

describe("the packed install", () => {
  let dir: string;
  let installed: Awaited<ReturnType<typeof packAndInstall>>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "chatrelay-pack-"));
    installed = await packAndInstall(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("holds compiled JavaScript and no TypeScript sources, tests or tsx", () => {
    const pkg = join(installed.prefix, "node_modules", "chatrelay");
    assert.ok(existsSync(join(pkg, "dist", "cli", "main.js")));
    assert.ok(existsSync(join(pkg, "dist", "accounts", "sha512-crypt.js")));
    assert.ok(!existsSync(join(pkg, "src")), "no src/");
    assert.ok(!existsSync(join(pkg, "test")), "no test/");
    assert.ok(!existsSync(join(installed.prefix, "node_modules", "tsx")), "tsx is not installed");
    assert.ok(
      !existsSync(join(installed.prefix, "node_modules", "typescript")),
      "typescript is not installed",
    );
    const main = readFileSync(join(pkg, "dist", "cli", "main.js"), "utf8");
    assert.doesNotMatch(main, /from "[^"]+\.ts"/, "relative imports were rewritten to .js");
  });

  test("init and serve run from outside the source tree; IMAP LOGIN creates an account", async () => {
    const work = join(dir, "work");
    mkdirSync(work);
    const init = spawnSync(
      installed.bin,
      ["init", "_packed.test", "--config", "relay.ini", "--data-dir", "data"],
      {
        cwd: work,
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    assert.equal(init.status, 0, init.stderr);
    assert.ok(existsSync(join(work, "relay.ini")));
    // the DKIM key went to the given data folder (relative to the file), not a system path
    assert.ok(existsSync(join(work, "data", "dkim", "opendkim.private")), init.stdout);
    // the written config (every port and folder commented out at its default), here
    // with ephemeral loopback ports and a data folder beside it
    const ini = readFileSync(join(work, "relay.ini"), "utf8")
      .replace(/^data_dir = data\n/m, "")
      .replace(/^\[params\]$/m, `[params]\n${ephemeralSettings(join(work, "data"))}`);
    writeFileSync(join(work, "relay.ini"), ini);
    const started = await startServe(installed.bin, ["serve", "--config", "relay.ini"], work);
    try {
      assert.match(started.output, /_packed\.test/);
      const reply = await imapLogin(started.imapsPort, "abcdefghi@_packed.test", "a-long-password");
      assert.match(reply, /^a1 OK/);
      // the same password again is verified by a worker against the stored hash
      assert.match(await imapLogin(started.imapsPort, "abcdefghi@_packed.test", "a-long-password"), /^a1 OK/);
      assert.match(await imapLogin(started.imapsPort, "abcdefghi@_packed.test", "wrong-password"), /^a1 NO/);
    } finally {
      assert.equal(await stop(started.child), 0);
    }
    assert.ok(existsSync(join(work, "data", "store.sqlite")));
  });
});
