import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import dgram from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { testConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { renderCoturnConfig } from "../../src/turn/coturn.ts";
import { turnCredentials } from "../../src/turn/credentials.ts";
import {
  ALLOCATE,
  ATTR,
  BINDING,
  ERROR,
  encode,
  errorCode,
  integrityValid,
  REFRESH,
  StunClient,
  SUCCESS,
  xorAddress,
} from "./stun.ts";

let dir: string;
let config: Config;
let turnserver: ChildProcess;
let port: number;
let log = "";

function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "chatrelay-turn-"));
  port = await freeUdpPort();
  config = testConfig({
    data_dir: dir,
    turn_secret: "s3cret-for-tests",
    turn_host: "turn.example.org",
    turn_port: port,
  });
  // the configuration chatrelay renders, bound to loopback for the test
  const conf = renderCoturnConfig(config).replace(
    /^syslog$/m,
    `log-file=${join(dir, "turn.log")}\nsimple-log`,
  );
  writeFileSync(
    join(dir, "turnserver.conf"),
    `${conf}\nlistening-ip=127.0.0.1\nrelay-ip=127.0.0.1\nno-tcp\npidfile=${join(dir, "turn.pid")}\nuserdb=${join(dir, "turndb")}\n`,
  );
  turnserver = spawn("turnserver", ["-c", join(dir, "turnserver.conf")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  turnserver.stdout?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  turnserver.stderr?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  // ready when it answers a Binding request
  const probe = new StunClient("127.0.0.1", port);
  try {
    for (let i = 0; ; i++) {
      try {
        await probe.request(encode(BINDING, []), 500);
        break;
      } catch (e) {
        if (i > 40 || turnserver.exitCode !== null)
          throw new Error(`turnserver did not start: ${log}`, { cause: e });
      }
    }
  } finally {
    probe.close();
  }
});

after(async () => {
  if (turnserver.exitCode === null) {
    const exited = new Promise((r) => turnserver.once("exit", r));
    turnserver.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

function split(value: string | undefined) {
  assert.ok(value);
  const [host, p, username, password] = value.split(":");
  return { host, port: Number(p), username: username as string, password: password as string };
}

test("coturn with use-auth-secret accepts our credentials for an Allocate", async () => {
  const creds = split(turnCredentials(config, Date.now()));
  assert.equal(creds.host, "turn.example.org");
  assert.equal(creds.port, port);
  const client = new StunClient("127.0.0.1", port);
  try {
    const { response, key, realm, nonce } = await client.allocate(creds.username, creds.password);
    assert.equal(realm, config.mail_domain);
    assert.equal(response.type, ALLOCATE | SUCCESS, `error ${errorCode(response)}\n${log}`);
    assert.ok(integrityValid(response, key), "the answer is signed with the same key");
    const relayed = xorAddress(response.attrs.get(ATTR.XOR_RELAYED_ADDRESS));
    assert.equal(relayed?.ip, "127.0.0.1");
    assert.ok((relayed?.port ?? 0) >= 49152);
    const released = await client.release(creds.username, realm, nonce, key);
    assert.equal(released.type, REFRESH | SUCCESS);
  } finally {
    client.close();
  }
});

test("coturn refuses a wrong password, another secret and expired credentials", async () => {
  const good = split(turnCredentials(config, Date.now()));
  const other = split(turnCredentials({ ...config, turn_secret: "another-secret" }, Date.now()));
  const expired = split(turnCredentials(config, Date.now() - 6 * 86400 * 1000));
  const cases: Array<[string, string, string]> = [
    ["wrong password", good.username, `${good.password.slice(0, -4)}AAA=`],
    ["other secret", other.username, other.password],
    ["expired", expired.username, expired.password],
  ];
  for (const [name, username, password] of cases) {
    const client = new StunClient("127.0.0.1", port);
    try {
      const { response } = await client.allocate(username, password);
      assert.equal(response.type, ALLOCATE | ERROR, name);
      assert.equal(errorCode(response), 401, name);
    } finally {
      client.close();
    }
  }
});

test("the rendered coturn config matches the credentials", () => {
  const text = renderCoturnConfig(config);
  assert.match(text, /^use-auth-secret$/m);
  assert.match(text, /^static-auth-secret=s3cret-for-tests$/m);
  assert.match(text, new RegExp(`^listening-port=${port}$`, "m"));
  assert.match(text, /^realm=_chatrelay\.test$/m);
  assert.match(text, /^denied-peer-ip=10\.0\.0\.0-10\.255\.255\.255$/m);
  assert.doesNotMatch(renderCoturnConfig({ ...config, turn_secret: "" }), /^static-auth-secret=/m);
  assert.ok(
    readFileSync(join(dir, "turnserver.conf"), "utf8").includes("static-auth-secret=s3cret-for-tests"),
  );
});
