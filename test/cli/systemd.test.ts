/**
 * `chatrelay systemd`: the unit passes `systemd-analyze verify` (Debian's systemd
 * package; it also checks that ExecStart's and ExecReload's binaries exist, so
 * the unit names the real node and bin script) and carries every hardening
 * directive. A missing systemd-analyze fails the test.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { installUnit, renderUnit } from "../../src/cli/systemd.ts";

const BIN = new URL("../../bin/chatrelay.js", import.meta.url).pathname;

/** Runs `systemd-analyze verify` on a unit file; the unit's own complaints, if any. */
function verify(unitFile: string): string[] {
  const r = spawnSync("systemd-analyze", ["verify", unitFile], { encoding: "utf8", timeout: 60_000 });
  assert.ifError(r.error); // ENOENT: install Debian's systemd package (.ci/run does)
  const complaints = r.stderr.split("\n").filter((l) => l.includes("chatrelay"));
  assert.equal(r.status, 0, r.stderr);
  return complaints;
}

function directives(unit: string): string[] {
  return unit.split("\n").filter((l) => /^[A-Z]\w*=/.test(l));
}

describe("chatrelay systemd", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "chatrelay-systemd-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("prints a unit that systemd-analyze verify accepts, with every required directive", () => {
    const ini = join(dir, "chatmail.ini");
    writeFileSync(ini, "[params]\nmail_domain = chat.example.org\ndata_dir = /var/lib/chatrelay\n");
    const r = spawnSync(process.execPath, [BIN, "systemd", "--config", ini], {
      cwd: dir,
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const unitFile = join(dir, "chatrelay.service");
    writeFileSync(unitFile, r.stdout);
    assert.deepEqual(verify(unitFile), []);

    const lines = directives(r.stdout);
    const bin = realpathSync(BIN);
    for (const line of [
      `ExecStart=${process.execPath} ${bin} serve --config ${ini}`,
      "ExecReload=/bin/kill -HUP $MAINPID",
      "Restart=on-failure",
      "User=chatrelay",
      "StateDirectory=chatrelay",
      "ReadWritePaths=/var/lib/chatrelay",
      "AmbientCapabilities=CAP_NET_BIND_SERVICE",
      "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "ProtectKernelTunables=yes",
      "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
      "LimitNOFILE=65536",
      "UMask=0077",
      "WantedBy=multi-user.target",
    ]) {
      assert.ok(lines.includes(line), `missing: ${line}`);
    }
    // the data dir is the only writable path, and nothing runs as root
    assert.deepEqual(
      lines.filter((l) => /^(ReadWritePaths|User|DynamicUser|MemoryDenyWriteExecute)=/.test(l)),
      ["User=chatrelay", "ReadWritePaths=/var/lib/chatrelay"],
    );
  });

  test("paths with spaces, % and $, a data_dir outside /var/lib and another user", async () => {
    // node behind a path that needs quoting: verify resolves ExecStart, so the quoting must be right
    const odd = join(dir, "node 100% $here");
    mkdirSync(odd);
    const node = join(odd, "node");
    symlinkSync(process.execPath, node);
    const dataDir = join(dir, "data $dir");
    const unit = renderUnit({
      node,
      bin: realpathSync(BIN),
      config: join(odd, "chatmail.ini"),
      dataDir,
      user: "relay",
    });
    const unitFile = join(dir, "odd", "chatrelay.service");
    await installUnit(unit, unitFile);
    assert.equal(statSync(unitFile).mode & 0o777, 0o644);
    assert.deepEqual(verify(unitFile), []);
    const lines = directives(unit);
    const escaped = odd.replace("%", "%%");
    const exec = `ExecStart="${escaped}/node" ${realpathSync(BIN)} serve --config "${escaped.replace("$", () => "$$")}/chatmail.ini"`;
    assert.ok(lines.includes(exec), unit);
    assert.ok(lines.includes(`ReadWritePaths="${dataDir}"`), unit);
    assert.ok(lines.includes("User=relay"));
    assert.ok(
      !lines.some((l) => l.startsWith("StateDirectory=")),
      "StateDirectory= only names folders in /var/lib",
    );
  });
});
