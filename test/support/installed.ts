/**
 * The packed install, as an operator gets it: `npm pack` of this checkout
 * (its prepack builds dist/), `npm install` of the tarball into a temporary
 * prefix (dependencies from the registry, production only), then
 * `chatrelay serve` started from there and an IMAP login over TLS. Used by
 * test/cli/pack.test.ts and bench/startup.ts.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Packs the checkout into `dir` and installs the tarball under `dir/prefix`; returns the installed bin. */
export async function packAndInstall(
  dir: string,
  root = ROOT,
): Promise<{ tgz: string; prefix: string; bin: string }> {
  await run("npm", ["pack", "--pack-destination", dir, "--loglevel=error"], {
    cwd: root,
    maxBuffer: 16 << 20,
  });
  const tgz = join(dir, readdirSync(dir).find((f) => f.endsWith(".tgz"))!);
  const prefix = join(dir, "prefix");
  await run(
    "npm",
    ["install", "--prefix", prefix, "--no-audit", "--no-fund", "--omit=dev", "--loglevel=error", tgz],
    { cwd: dir, maxBuffer: 16 << 20 },
  );
  return { tgz, prefix, bin: join(prefix, "node_modules", ".bin", "chatrelay") };
}

/**
 * Settings for a relay on ephemeral loopback ports that creates accounts
 * whatever the machine's load (other tests run beside it).
 */
export function ephemeralSettings(dataDir: string): string {
  const ports = ["smtp", "submission", "submissions", "imap", "imaps", "https", "http"];
  return (
    `listen_address = 127.0.0.1\ndata_dir = ${dataDir}\nmax_load_1m = 1000\n` +
    ports.map((p) => `${p}_port = 0\n`).join("")
  );
}

/** A chatmail.ini for `domain` with every listener on an ephemeral loopback port. */
export function ephemeralConfig(dir: string, domain: string, dataDir = join(dir, "data")): string {
  const ini = join(dir, "chatmail.ini");
  writeFileSync(ini, `[params]\nmail_domain = ${domain}\n${ephemeralSettings(dataDir)}`);
  return ini;
}

export interface Started {
  child: ChildProcess;
  /** Milliseconds from spawn to the "listening" line. */
  startMs: number;
  output: string;
  imapsPort: number;
}

/** Spawns `command args` and resolves once it prints its "listening" line. */
export function startServe(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Started> {
  const t0 = performance.now();
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d));
    child.stdout!.on("data", (d: Buffer) => {
      out += d;
      const m = /listening: .*imaps 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ child, startMs: performance.now() - t0, output: out, imapsPort: Number(m[1]) });
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}${err}`)));
  });
}

/** A raw IMAP LOGIN over implicit TLS (self-signed certificate); resolves with the tagged reply. */
export function imapLogin(port: number, user: string, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false });
    let buf = "";
    let sent = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no LOGIN answer: ${buf}`));
    }, 30_000);
    socket.setEncoding("utf8");
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("data", (d: string) => {
      buf += d;
      if (!sent && /^\* OK/m.test(buf)) {
        sent = true;
        socket.write(`a1 LOGIN "${user}" "${password}"\r\n`);
      }
      const tagged = /^a1 (OK|NO|BAD)[^\r\n]*/m.exec(buf);
      if (tagged) {
        clearTimeout(timer);
        socket.end("a2 LOGOUT\r\n");
        resolve(tagged[0]);
      }
    });
  });
}

/** Sends `signal` and resolves with the exit code. */
export function stop(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill(signal);
  });
}
