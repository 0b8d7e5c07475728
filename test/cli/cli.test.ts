import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { alive, descendants } from "../support/process-tree.ts";

const BIN = new URL("../../bin/chatrelay.js", import.meta.url).pathname;

function chatrelay(args: string[], cwd: string) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", timeout: 60_000 });
}

function waitFor(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (d: Buffer) => {
      out += d;
      if (pattern.test(out)) resolve(out);
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

describe("chatrelay command line", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "chatrelay-cli-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("init writes a commented chatmail.ini and a DKIM key and prints the DNS records", () => {
    // --data-dir keeps the key inside the test's folder, never in the system default.
    const data = join(dir, "init-data");
    const r = chatrelay(["init", "chat.example.org", "--data-dir", data], dir);
    assert.equal(r.status, 0, r.stderr);
    const ini = readFileSync(join(dir, "chatmail.ini"), "utf8");
    assert.match(ini, /^\[params\]/m);
    assert.match(ini, /^mail_domain\s*=\s*chat\.example\.org/m);
    assert.equal(ini.match(/^data_dir = (.*)$/m)?.[1], data);
    assert.ok(existsSync(join(data, "dkim", "opendkim.private")), r.stdout);
    assert.ok(r.stdout.includes(`in ${join(data, "dkim", "opendkim.private")}`), r.stdout);
    assert.match(ini, /^#/m);
    assert.match(r.stdout, /opendkim\._domainkey\.chat\.example\.org\. 3600 IN TXT "v=DKIM1;k=rsa;p=/);
    assert.match(r.stdout, /chat\.example\.org\. 3600 IN MX 10 chat\.example\.org\./);
    const again = chatrelay(["init", "chat.example.org"], dir);
    assert.equal(again.status, 1, "does not overwrite");
    const dns = chatrelay(["dns", "--config", join(dir, "chatmail.ini")], dir);
    assert.equal(dns.status, 0, dns.stderr);
    assert.match(dns.stdout, /v=DKIM1;k=rsa;p=/);
  });

  test("a bad value stops start-up with file:line: key: what is wrong", () => {
    const ini = join(dir, "bad.ini");
    writeFileSync(ini, "[params]\nmail_domain = x.example\nmax_user_send_per_minute = lots\n");
    const r = chatrelay(["serve", "--config", ini], dir);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(`^chatrelay: ${ini.replace(/[.]/g, "\\.")}:3: max_user_send_per_minute: `),
    );
    assert.equal(r.stderr.trim().split("\n").length, 1, "one line, no stack trace");
  });

  test("a port in use is one clear line", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const ini = join(dir, "busy.ini");
      writeFileSync(
        ini,
        `[params]\nmail_domain = _busy.test\nlisten_address = 127.0.0.1\ndata_dir = ${join(dir, "busy")}\n` +
          `smtp_port = off\nsubmission_port = off\nsubmissions_port = off\nimap_port = off\nhttps_port = off\nhttp_port = off\nimaps_port = ${port}\n`,
      );
      const r = chatrelay(["serve", "--config", ini], dir);
      assert.equal(r.status, 1);
      assert.equal(
        r.stderr.trim(),
        `chatrelay: cannot listen on 127.0.0.1:${port} (imaps): address already in use`,
      );
    } finally {
      blocker.close();
    }
  });

  test("serve prints its ports and stops cleanly on SIGINT and SIGTERM", async () => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const ini = join(dir, `run-${signal}.ini`);
      writeFileSync(
        ini,
        `[params]\nmail_domain = _run.test\nlisten_address = 127.0.0.1\ndata_dir = ${join(dir, `run-${signal}`)}\n` +
          "smtp_port = 0\nsubmission_port = 0\nsubmissions_port = 0\nimap_port = 0\nimaps_port = 0\nhttps_port = 0\nhttp_port = 0\n",
      );
      const child = spawn(process.execPath, [BIN, "serve", "--config", ini], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      const out = await waitFor(child, /listening: .*imaps 127\.0\.0\.1:\d+/);
      const port = Number(/imaps 127\.0\.0\.1:(\d+)/.exec(out)![1]);
      // an open client connection must not stop the drain; its reset at shutdown is expected
      const socket = net.connect(port, "127.0.0.1");
      socket.on("error", () => {});
      await new Promise((resolve) => socket.once("connect", resolve));
      const code = await new Promise<number | null>((resolve) => {
        child.once("exit", (c) => resolve(c));
        child.kill(signal);
      });
      socket.destroy();
      assert.equal(code, 0, signal);
      assert.ok(existsSync(join(dir, `run-${signal}`, "store.sqlite")));
    }
  });

  test("npm start's embedded default: chatrelay serve without --config", async () => {
    const cwd = mkdtempSync(join(dir, "embedded-"));
    const child = spawn(process.execPath, [BIN, "serve"], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const out = await waitFor(child, /listening: /);
      assert.match(out, /_chatrelay\.localhost/);
      assert.match(out, /imaps 127\.0\.0\.1:2993/);
      assert.ok(existsSync(join(cwd, "data", "tls", "cert.pem")));
    } finally {
      child.kill("SIGINT");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  });

  test("npm start stops with all its processes and frees its ports on SIGTERM and on Ctrl-C", async () => {
    const repo = new URL("../../", import.meta.url).pathname;
    for (const how of ["SIGTERM to npm", "Ctrl-C"] as const) {
      // the real package.json and bin/, with the embedded default's ./data in a temporary folder
      const cwd = mkdtempSync(join(dir, "npm-start-"));
      copyFileSync(join(repo, "package.json"), join(cwd, "package.json"));
      symlinkSync(join(repo, "bin"), join(cwd, "bin"));
      const npm = spawn("npm", ["start"], {
        cwd,
        detached: true, // its own process group, like a shell job
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, npm_config_update_notifier: "false" },
      });
      let out = "";
      npm.stdout!.on("data", (d: Buffer) => (out += d));
      await waitFor(npm, /listening: .*imaps 127\.0\.0\.1:2993/);
      const tree = descendants(npm.pid!);
      assert.ok(tree.length > 0);
      const code = await new Promise<number | null>((resolve) => {
        npm.once("exit", (c) => resolve(c));
        // a terminal's Ctrl-C signals the whole foreground process group; npm forwards it too
        if (how === "Ctrl-C") process.kill(-npm.pid!, "SIGINT");
        else npm.kill("SIGTERM");
      });
      for (let i = 0; i < 100 && tree.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(tree.filter(alive), [], `${how}: processes left`);
      assert.equal(code, 0, how);
      assert.match(out, /"msg":"stopped"/, `${how}: drained and stopped`);
      for (const port of [2525, 2587, 2465, 2143, 2993, 2443, 2080]) {
        const server = net.createServer();
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(port, "127.0.0.1", resolve);
        });
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });
});
