/**
 * testssl.sh (Debian package `testssl.sh`, binary `testssl`) against a live relay's
 * 993 (IMAP, implicit TLS), 465 (submission, implicit TLS) and 443 (HTTPS with ALPN
 * routing) on loopback. Only the protocol (-p), cipher-category (-s) and forward-secrecy
 * (-f) checks run, with no DNS lookups: about 15 s per port.
 *
 * Asserts: no SSLv2/SSLv3/TLS 1.0/TLS 1.1 (RFC 8996), no NULL, anonymous, export,
 * LOW (DES, RC2, RC4), 3DES/IDEA or obsolete CBC suites, TLS 1.3 offered everywhere,
 * and TLS 1.2 not offered on 993 and 465 (the reference's TLS-1.3-only client ports,
 * `tls_min_version_client`); 443 keeps TLS 1.2 for browsers. Fails, never skips, when
 * testssl is missing.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestRelay, type TestRelay } from "../support/relay.ts";

const APT_PACKAGE = "testssl.sh";

interface Finding {
  id: string;
  severity: string;
  finding: string;
}

function testsslBinary(): string {
  for (const name of ["testssl", "testssl.sh"]) {
    const r = spawnSync(name, ["--version"], { stdio: "ignore" });
    if (r.status === 0) return name;
  }
  throw new Error(`testssl not found: apt-get install --no-install-recommends ${APT_PACKAGE}`);
}

/** Runs the checks against host:port and returns the findings of its JSON output by id. */
function testssl(bin: string, dir: string, host: string, port: number): Promise<Map<string, Finding>> {
  const json = join(dir, `${port}.json`);
  const args = [
    "--quiet",
    "--color",
    "0",
    "--warnings",
    "batch",
    "--nodns",
    "none",
    "--connect-timeout",
    "10",
    "--openssl-timeout",
    "10",
    "-p",
    "-s",
    "-f",
    "--jsonfile",
    json,
    `${host}:${port}`,
  ];
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: 120_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      let findings: Finding[];
      try {
        findings = JSON.parse(readFileSync(json, "utf8")) as Finding[];
      } catch (e) {
        reject(
          new Error(`${bin} ${args.join(" ")}: no JSON (${err?.message})\n${stdout}${stderr}`, { cause: e }),
        );
        return;
      }
      // testssl's exit status counts findings; a failed scan shows up as FATAL/scanProblem
      const fatal = findings.filter((f) => f.severity === "FATAL" || f.id === "scanProblem");
      if (fatal.length)
        reject(new Error(`testssl could not scan ${port}: ${JSON.stringify(fatal)}\n${stdout}`));
      else resolve(new Map(findings.map((f) => [f.id, f])));
    });
  });
}

function finding(results: Map<string, Finding>, id: string): string {
  const f = results.get(id);
  assert.ok(f, `testssl reported no "${id}" (got ${[...results.keys()].join(", ")})`);
  return f.finding;
}

let bin: string;
let relay: TestRelay;
let dir: string;

before(async () => {
  bin = testsslBinary();
  dir = mkdtempSync(join(tmpdir(), "chatrelay-testssl-"));
  relay = await startTestRelay();
});

after(async () => {
  await relay?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const WEAK_CATEGORIES = [
  "cipherlist_NULL",
  "cipherlist_aNULL",
  "cipherlist_EXPORT",
  "cipherlist_LOW", // 64-bit, DES, RC2, RC4
  "cipherlist_3DES_IDEA",
  "cipherlist_AVERAGE", // "obsolete CBC ciphers"
];

function assertPolicy(results: Map<string, Finding>, name: string, tls12: boolean): void {
  for (const id of ["SSLv2", "SSLv3", "TLS1", "TLS1_1"])
    assert.match(finding(results, id), /^not offered/, `${name}: ${id}`);
  assert.match(finding(results, "TLS1_3"), /^offered/, `${name}: TLS 1.3`);
  assert.match(finding(results, "TLS1_2"), tls12 ? /^offered/ : /^not offered/, `${name}: TLS 1.2`);
  for (const id of WEAK_CATEGORIES) assert.match(finding(results, id), /^not offered/, `${name}: ${id}`);
  assert.match(finding(results, "cipherlist_STRONG"), /^offered/, `${name}: AEAD suites`);
  assert.match(finding(results, "PFS"), /^offered/, `${name}: forward secrecy`);
  // every suite offered is forward secret and AEAD (the list is what -f saw)
  for (const suite of finding(results, "PFS_ciphers").split(/\s+/))
    assert.match(suite, /^(TLS_|ECDHE-).*(GCM|CHACHA20[-_]POLY1305)/, `${name}: suite ${suite}`);
}

test("993, 465 and 443 offer no weak protocol or cipher; TLS 1.3 only on 993 and 465", {
  timeout: 240_000,
}, async () => {
  const started = Date.now();
  const ports: [string, number, boolean][] = [
    ["imaps", relay.imapsPort, false],
    ["submissions", relay.submissionsPort, false],
    ["https", relay.httpsPort, true],
  ];
  for (const [name, port, tls12] of ports) {
    const results = await testssl(bin, dir, relay.host, port);
    assertPolicy(results, name, tls12);
  }
  console.log(`testssl: 3 ports in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
