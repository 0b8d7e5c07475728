/**
 * A chatrelay in its own process for the benchmarks, so that its memory and
 * CPU are its own. Started by target/chatrelay.ts with an IPC channel:
 * the parent sends the spec, the child pre-creates the accounts, starts the
 * relay on ephemeral ports and answers {ready, ports}; then it serves
 * {cmd: "gc"} (collect garbage, report memory), {cmd: "profile-start"} and
 * {cmd: "profile-stop", path} (a V8 CPU profile of the main thread, written to
 * path) and {cmd: "stop"}.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Crypt from "../../src/accounts/sha512-crypt.ts";
import type * as ConfigLoad from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import type * as Log from "../../src/log.ts";
import type * as RelayModule from "../../src/relay.ts";
import type { Relay } from "../../src/relay.ts";
import type * as StoreOpen from "../../src/store/open.ts";
import { formatPattern } from "../load/accounts.ts";

/**
 * The relay's modules: the TypeScript sources through tsx, or with
 * CHATRELAY_BENCH_DIST the compiled JavaScript in that folder (what runs in
 * production; tsx compiles with esbuild's keepNames, which gives every closure
 * an own `name` property and so a larger heap than the compiled code has).
 */
const DIST = process.env.CHATRELAY_BENCH_DIST;
const load = <T>(path: string): Promise<T> =>
  import(DIST ? pathToFileURL(join(DIST, `${path}.js`)).href : `../../src/${path}.ts`) as Promise<T>;
const { newSalt, sha512Crypt } = await load<typeof Crypt>("accounts/sha512-crypt");
const { testConfig } = await load<typeof ConfigLoad>("config/load");
const { createLogger, silentLogger } = await load<typeof Log>("log");
const { Relay: RelayClass } = await load<typeof RelayModule>("relay");
const { openStore } = await load<typeof StoreOpen>("store/open");

export interface ChildSpec {
  accounts: number;
  pattern: string;
  start: number;
  domain: string;
  password: string;
  /** Config overrides (listen address, ports, DNS, …). */
  config: Partial<Config>;
  logLevel?: string;
}

export type ChildMessage =
  | { kind: "ready"; ports: Relay["ports"]; pid: number; dataDir: string }
  | { kind: "memory"; rss: number; heapUsed: number; external: number; arrayBuffers: number }
  | { kind: "profile"; path: string }
  | { kind: "error"; message: string };

const send = (m: ChildMessage) => process.send?.(m);

async function precreate(dataDir: string, spec: ChildSpec): Promise<void> {
  const store = await openStore(dataDir);
  // one hash for all: SHA512-CRYPT with the default 5000 rounds, as accounts created on login get
  const hash = `{SHA512-CRYPT}${sha512Crypt(spec.password, newSalt())}`;
  const now = Math.floor(Date.now() / 1000);
  const batch = 500;
  for (let i = 0; i < spec.accounts; i += batch) {
    const jobs: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(spec.accounts, i + batch); j++) {
      jobs.push(
        store.createAccount(`${formatPattern(spec.pattern, spec.start + j)}@${spec.domain}`, hash, now),
      );
    }
    await Promise.all(jobs);
  }
  await store.close();
}

async function main(spec: ChildSpec): Promise<void> {
  const dataDir = spec.config.data_dir ?? mkdtempSync(join(tmpdir(), "chatrelay-bench-"));
  await precreate(dataDir, spec);
  const config = testConfig({
    mail_domain: spec.domain,
    tls_mode: "self",
    // the data path is measured, not the per-user send limit (a classic stack has none)
    max_user_send_per_minute: 1_000_000_000,
    max_user_send_burst_size: 1_000_000_000,
    max_imap_connections: 100_000,
    max_smtp_connections: 10_000,
    ...spec.config,
    data_dir: dataDir,
  });
  const log = spec.logLevel ? createLogger(spec.logLevel, process.stderr as never) : silentLogger;
  const relay = await RelayClass.start(config, log);
  let inspector: Session | undefined;
  process.on("message", (m: { cmd: string; path?: string }) => {
    if (m.cmd === "profile-start") {
      inspector = new Session();
      inspector.connect();
      inspector.post("Profiler.enable", () => inspector!.post("Profiler.start"));
    } else if (m.cmd === "profile-stop" && inspector) {
      const session = inspector;
      session.post("Profiler.stop", (err, res) => {
        if (!err) writeFileSync(m.path!, JSON.stringify(res.profile));
        session.disconnect();
        send({ kind: "profile", path: m.path! });
      });
      inspector = undefined;
    } else if (m.cmd === "gc") {
      (globalThis as { gc?: () => void }).gc?.();
      const u = process.memoryUsage();
      send({
        kind: "memory",
        rss: u.rss,
        heapUsed: u.heapUsed,
        external: u.external,
        arrayBuffers: u.arrayBuffers,
      });
    } else if (m.cmd === "stop") {
      relay
        .stop(500)
        .catch(() => {})
        .finally(() => {
          if (spec.config.data_dir === undefined) rmSync(dataDir, { recursive: true, force: true });
          process.exit(0);
        });
    }
  });
  process.on("disconnect", () => process.exit(0));
  send({ kind: "ready", ports: relay.ports, pid: process.pid, dataDir });
}

process.once("message", (spec: ChildSpec) => {
  main(spec).catch((e: unknown) => {
    send({ kind: "error", message: String((e as Error)?.stack ?? e) });
    process.exit(1);
  });
});
