/**
 * `chatrelay dns --check` as a child process against the tests' own DNS server on loopback:
 * a correct zone, a broken one (each complaint line exactly), warnings for optional records,
 * CAA with the ACME account URI, and the comparison with the server's own address.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { dkimTxtRecord, loadOrCreateDkimKey } from "../../src/dkim/keys.ts";
import { dkimKeyPath } from "../../src/dkim/path.ts";
import { writeAccountUrl } from "../../src/tls/acme-files.ts";
import { type DnsServer, startDnsServer, type ZoneRecords } from "../support/dns-server.ts";

const BIN = new URL("../../bin/chatrelay.js", import.meta.url).pathname;
const D = "chat.example.org";
const IP4 = "93.184.216.34";
const IP6 = "2a01:4f8:c17:1234::1";
const LE = "https://acme-v02.api.letsencrypt.org/directory";

function chatrelay(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** The zone as `chatrelay dns` prints it, with the relay's DKIM key. */
function goodZone(dkim: string): Record<string, ZoneRecords> {
  return {
    [D]: {
      A: [IP4],
      AAAA: [IP6],
      MX: [{ priority: 10, exchange: D }],
      TXT: ["v=spf1 a ~all", "google-site-verification=abc"],
    },
    [`www.${D}`]: { CNAME: D },
    [`mta-sts.${D}`]: { CNAME: D },
    [`_mta-sts.${D}`]: { TXT: ["v=STSv1; id=202501011200"] },
    [`opendkim._domainkey.${D}`]: { TXT: [dkim] },
    [`_dmarc.${D}`]: { TXT: ["v=DMARC1;p=reject;adkim=s;aspf=s"] },
    [`_submission._tcp.${D}`]: { SRV: [{ priority: 0, weight: 1, port: 587, target: D }] },
    [`_submissions._tcp.${D}`]: { SRV: [{ priority: 0, weight: 1, port: 465, target: D }] },
    [`_imap._tcp.${D}`]: { SRV: [{ priority: 0, weight: 1, port: 143, target: D }] },
    [`_imaps._tcp.${D}`]: { SRV: [{ priority: 0, weight: 1, port: 993, target: D }] },
  };
}

function levels(stdout: string): string[] {
  return stdout
    .trim()
    .split("\n")
    .slice(0, -1)
    .map((l) => l.split(" ")[0] as string);
}

describe("chatrelay dns --check", () => {
  let dir: string;
  let ini: string;
  let dkim: string;
  let dns: DnsServer;

  /** A fresh zone for each test (the server's zone map is replaced in place). */
  function serve(zone: Record<string, ZoneRecords>): void {
    dns.zone.clear();
    for (const [name, records] of Object.entries(zone)) dns.zone.set(name, records);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "chatrelay-dns-check-"));
    ini = join(dir, "chatmail.ini");
    writeFileSync(ini, `[params]\nmail_domain = ${D}\ndata_dir = ${join(dir, "data")}\n`);
    const { config } = loadConfig(ini);
    const pair = await loadOrCreateDkimKey(dkimKeyPath(config));
    dkim = dkimTxtRecord(
      createPublicKey(pair.privateKeyPem).export({ type: "spki", format: "pem" }).toString(),
    );
    dns = await startDnsServer({});
    writeFileSync(
      ini,
      `[params]\nmail_domain = ${D}\ndata_dir = ${join(dir, "data")}\ndns_servers = ${dns.address}\n`,
    );
  });
  after(async () => {
    await dns.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a correct zone: every record OK, exit 0", async () => {
    serve(goodZone(dkim));
    const r = await chatrelay(["dns", "--check", "--config", ini, "--ip", `${IP4},${IP6}`]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(new Set(levels(r.stdout)), new Set(["OK"]), r.stdout);
    const lines = r.stdout.trim().split("\n");
    assert.deepEqual(lines, [
      `OK   A ${D}: ${IP4}`,
      `OK   AAAA ${D}: ${IP6}`,
      `OK   MX ${D}: 10 ${D}.`,
      `OK   CNAME www.${D}: ${D}.`,
      `OK   CNAME mta-sts.${D}: ${D}.`,
      `OK   MTA-STS _mta-sts.${D}: "v=STSv1; id=202501011200"`,
      `OK   DKIM opendkim._domainkey.${D}: the relay's key`,
      `OK   SPF ${D}: "v=spf1 a ~all"`,
      `OK   DMARC _dmarc.${D}: "v=DMARC1;p=reject;adkim=s;aspf=s"`,
      `OK   CAA ${D}: none (any CA may issue)`,
      `OK   SRV _submission._tcp.${D}: 0 1 587 ${D}.`,
      `OK   SRV _submissions._tcp.${D}: 0 1 465 ${D}.`,
      `OK   SRV _imap._tcp.${D}: 0 1 143 ${D}.`,
      `OK   SRV _imaps._tcp.${D}: 0 1 993 ${D}.`,
      "all required records are in place",
    ]);
  });

  test("a broken zone: missing DKIM, wrong MX, no SPF, weak DMARC → one FAIL line each, exit 1", async () => {
    const zone = goodZone(dkim);
    delete zone[`opendkim._domainkey.${D}`];
    zone[D] = {
      ...zone[D],
      MX: [{ priority: 10, exchange: "mail.example.net" }],
      TXT: ["google-site-verification=abc"],
    };
    zone[`_dmarc.${D}`] = { TXT: ["v=DMARC1; p=none"] };
    serve(zone);
    // the resolver given on the command line wins over dns_servers
    const bogus = join(dir, "bogus.ini");
    writeFileSync(
      bogus,
      `[params]\nmail_domain = ${D}\ndata_dir = ${join(dir, "data")}\ndns_servers = 127.0.0.1:9\n`,
    );
    const r = await chatrelay(["dns", "--check", "--config", bogus, "--server", dns.address]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const complaints = r.stdout.split("\n").filter((l) => !l.startsWith("OK "));
    assert.deepEqual(complaints, [
      `FAIL MX ${D}: expected 10 ${D}., found 10 mail.example.net.`,
      `FAIL DKIM opendkim._domainkey.${D}: expected "${dkim}", found nothing`,
      `FAIL SPF ${D}: expected "v=spf1 a ~all", found nothing`,
      `FAIL DMARC _dmarc.${D}: expected "v=DMARC1;p=reject;adkim=s;aspf=s", found "v=DMARC1; p=none"`,
      "4 required records missing or wrong",
      "",
    ]);
  });

  test("optional records are warnings; a wrong key, a foreign address and a missing www fail", async () => {
    const zone = goodZone(dkim);
    zone[D] = { ...zone[D], A: ["93.184.216.99"], AAAA: [] };
    for (const s of ["_submission._tcp", "_imap._tcp"]) delete zone[`${s}.${D}`];
    zone[`_imaps._tcp.${D}`] = { SRV: [{ priority: 0, weight: 1, port: 993, target: "imap.example.net" }] };
    delete zone[`www.${D}`];
    zone[`mta-sts.${D}`] = { A: [IP4] }; // not the domain's address (93.184.216.99)
    zone[`opendkim._domainkey.${D}`] = {
      TXT: ["v=DKIM1;k=rsa;p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"],
    };
    serve(zone);
    const r = await chatrelay(["dns", "--check", "--config", ini, "--ip", IP4]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const complaints = r.stdout.split("\n").filter((l) => !l.startsWith("OK "));
    assert.deepEqual(complaints, [
      `FAIL A ${D}: expected ${IP4}, found 93.184.216.99`,
      `WARN AAAA ${D}: none (fine if the server has no IPv6 address)`,
      `FAIL CNAME www.${D}: expected ${D}., found nothing`,
      `FAIL CNAME mta-sts.${D}: expected ${D}., found ${IP4}`,
      `FAIL DKIM opendkim._domainkey.${D}: expected "${dkim}", found "v=DKIM1;k=rsa;p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"`,
      `WARN SRV _submission._tcp.${D}: expected 0 1 587 ${D}., found nothing`,
      `WARN SRV _imap._tcp.${D}: expected 0 1 143 ${D}., found nothing`,
      `WARN SRV _imaps._tcp.${D}: expected 0 1 993 ${D}., found 0 1 993 imap.example.net.`,
      "4 required records missing or wrong (4 warnings)",
      "",
    ]);
  });

  test("CAA: the ACME account URI once an account exists; a CAA that forbids Let's Encrypt fails", async () => {
    const account = "https://acme-v02.api.letsencrypt.org/acme/acct/123456";
    await writeAccountUrl(join(dir, "data"), LE, account);
    try {
      const zone = goodZone(dkim);
      serve(zone);
      let r = await chatrelay(["dns", "--config", ini]);
      assert.match(
        r.stdout,
        new RegExp(`^${D}\\. 3600 IN CAA 0 issue "letsencrypt\\.org;accounturi=${account}"$`, "m"),
      );
      r = await chatrelay(["dns", "--check", "--config", ini]);
      assert.equal(r.status, 0, "CAA is optional");
      assert.match(
        r.stdout,
        new RegExp(
          `^WARN CAA ${D}: expected 0 issue "letsencrypt\\.org;accounturi=${account}", found nothing$`,
          "m",
        ),
      );
      assert.match(r.stdout, /^all required records are in place \(1 warning\)$/m);

      // the relevant set is the closest one up the tree (RFC 8659 §3)
      zone["example.org"] = {
        CAA: [{ flags: 0, tag: "issue", value: `letsencrypt.org; accounturi=${account}` }],
      };
      serve(zone);
      r = await chatrelay(["dns", "--check", "--config", ini]);
      assert.equal(r.status, 0);
      assert.match(
        r.stdout,
        new RegExp(
          `^OK   CAA ${D}: 0 issue "letsencrypt.org; accounturi=${account}" \\(at example\\.org\\)$`,
          "m",
        ),
      );

      zone[D] = { ...zone[D], CAA: [{ flags: 0, tag: "issue", value: "digicert.com" }] };
      serve(zone);
      r = await chatrelay(["dns", "--check", "--config", ini]);
      assert.equal(r.status, 1);
      assert.match(
        r.stdout,
        new RegExp(
          `^FAIL CAA ${D}: expected letsencrypt.org to be allowed, found 0 issue "digicert.com"$`,
          "m",
        ),
      );
    } finally {
      rmSync(join(dir, "data", "acme"), { recursive: true, force: true });
    }
  });

  test("an unreachable name server and a bad --server are clear", async () => {
    serve(goodZone(dkim));
    dns.servfail.add(`_dmarc.${D}`);
    try {
      const r = await chatrelay(["dns", "--check", "--config", ini]);
      assert.equal(r.status, 1);
      assert.match(r.stdout, new RegExp(`^FAIL DMARC _dmarc\\.${D}: lookup failed \\(ESERVFAIL\\)$`, "m"));
    } finally {
      dns.servfail.clear();
    }
    const bad = await chatrelay(["dns", "--check", "--config", ini, "--server", "not a server"]);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, "chatrelay dns --check: --server not a server: expected IP or IP:port\n");
  });
});
