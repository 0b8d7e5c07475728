/** Starts chatrelay as a benchmark target in a child process (target/relay-child.ts). */
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../../src/config/types.ts";
import type { ChildMessage, ChildSpec } from "./relay-child.ts";

export interface ChatrelayChild {
  pid: number;
  ports: Extract<ChildMessage, { kind: "ready" }>["ports"];
  dataDir: string;
  host: string;
  /** Runs a full GC in the child and returns its memory (bytes). */
  gc(): Promise<Extract<ChildMessage, { kind: "memory" }>>;
  /** Starts a CPU profile of the relay's main thread (V8 inspector). */
  profileStart(): void;
  /** Stops it and writes the .cpuprofile to `path`. */
  profileStop(path: string): Promise<void>;
  stop(): Promise<void>;
}

export interface ChildOptions {
  accounts: number;
  pattern: string;
  start: number;
  domain: string;
  password: string;
  config?: Partial<Config>;
  logLevel?: string;
  /** LD_PRELOAD of the child (an allocator). */
  preload?: string;
  /** Extra Node/V8 flags of the child. */
  nodeFlags?: string[];
  /** Run the compiled JavaScript in this folder (tsc -p tsconfig.build.json --outDir DIR) instead of src/. */
  dist?: string;
}

const CHILD = fileURLToPath(new URL("./relay-child.ts", import.meta.url));

export async function startChatrelay(opts: ChildOptions): Promise<ChatrelayChild> {
  const execArgv = ["--expose-gc", ...(opts.nodeFlags ?? []), "--import", "tsx"];
  const env = { ...process.env };
  if (opts.preload) env.LD_PRELOAD = opts.preload;
  if (opts.dist) env.CHATRELAY_BENCH_DIST = resolve(opts.dist);
  const child: ChildProcess = fork(CHILD, [], {
    execArgv,
    env,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const spec: ChildSpec = {
    accounts: opts.accounts,
    pattern: opts.pattern,
    start: opts.start,
    domain: opts.domain,
    password: opts.password,
    config: opts.config ?? {},
    logLevel: opts.logLevel,
  };
  child.send(spec);
  const ready = await new Promise<Extract<ChildMessage, { kind: "ready" }>>((resolve, reject) => {
    const onMessage = (m: ChildMessage) => {
      if (m.kind === "ready") {
        child.off("message", onMessage);
        resolve(m);
      } else if (m.kind === "error") reject(new Error(`chatrelay child: ${m.message}`));
    };
    child.on("message", onMessage);
    child.once("exit", (code) => reject(new Error(`chatrelay child exited (${code}) before it was ready`)));
  });
  const reply = <K extends ChildMessage["kind"]>(kind: K) =>
    new Promise<Extract<ChildMessage, { kind: K }>>((resolve) => {
      const onMessage = (m: ChildMessage) => {
        if (m.kind !== kind) return;
        child.off("message", onMessage);
        resolve(m as Extract<ChildMessage, { kind: K }>);
      };
      child.on("message", onMessage);
    });
  return {
    pid: ready.pid,
    ports: ready.ports,
    dataDir: ready.dataDir,
    host: opts.config?.listen_address ?? "127.0.0.1",
    gc() {
      const r = reply("memory");
      child.send({ cmd: "gc" });
      return r;
    },
    profileStart() {
      child.send({ cmd: "profile-start" });
    },
    async profileStop(path: string) {
      mkdirSync(dirname(path), { recursive: true });
      const r = reply("profile");
      child.send({ cmd: "profile-stop", path });
      await r;
    },
    async stop() {
      if (child.exitCode === null) {
        child.send({ cmd: "stop" });
        const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
}
