/**
 * Debian's pebble (Let's Encrypt's ACME test server) on loopback, validating
 * for real: its validation authority resolves names through the given DNS
 * server and connects to `httpPort` (HTTP-01) and `tlsPort` (TLS-ALPN-01).
 * PEBBLE_VA_NOSLEEP skips its artificial delays; PEBBLE_VA_ALWAYS_VALID is
 * never set. Missing pebble is an error (.ci/run installs it), not a skip.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfSignedCertificate } from "../../src/tls/selfsigned.ts";
import { commonFreePort } from "./ports.ts";

export const PEBBLE = "/usr/bin/pebble";

export interface Pebble {
  /** ACME directory URL. */
  directory: string;
  /** The certificate of pebble's own HTTPS API (trust it to talk ACME). */
  apiCa: string;
  /** The root that issues the relay's certificates (management API /roots/0). */
  root(): Promise<string>;
  /** Everything pebble printed (for failure messages). */
  output(): string;
  close(): Promise<void>;
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { ca, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

export async function startPebble(opts: {
  dnsServer: string;
  httpPort: number;
  tlsPort: number;
}): Promise<Pebble> {
  if (!existsSync(PEBBLE)) throw new Error(`${PEBBLE} not found: apt-get install pebble (see .ci/run)`);
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-pebble-"));
  const api = await selfSignedCertificate(["127.0.0.1", "localhost"], 1);
  writeFileSync(join(dir, "cert.pem"), api.cert);
  writeFileSync(join(dir, "key.pem"), api.key);
  const acmePort = await commonFreePort(["127.0.0.1"]);
  let mgmtPort = await commonFreePort(["127.0.0.1"]);
  while (mgmtPort === acmePort) mgmtPort = await commonFreePort(["127.0.0.1"]);
  writeFileSync(
    join(dir, "pebble.json"),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: join(dir, "cert.pem"),
        privateKey: join(dir, "key.pem"),
        httpPort: opts.httpPort,
        tlsPort: opts.tlsPort,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PEBBLE_VA_NOSLEEP: "1",
    // every order validates again (no reuse of valid authorizations), no random badNonce
    PEBBLE_AUTHZREUSE: "0",
    PEBBLE_WFE_NONCEREJECT: "0",
  };
  const child: ChildProcess = spawn(
    PEBBLE,
    ["-config", join(dir, "pebble.json"), "-dnsserver", opts.dnsServer, "-strict"],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const directory = `https://127.0.0.1:${acmePort}/dir`;
  const pebble: Pebble = {
    directory,
    apiCa: api.cert,
    async root() {
      const r = await httpsGet(`https://127.0.0.1:${mgmtPort}/roots/0`, api.cert);
      if (r.status !== 200) throw new Error(`pebble /roots/0: ${r.status}`);
      return r.body;
    },
    output: () => out,
    async close() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const end = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pebble exited: ${out}`);
    const ok = await httpsGet(directory, api.cert).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return pebble;
    if (Date.now() > end) {
      await pebble.close();
      throw new Error(`pebble did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
