/**
 * Password hashing off the event loop: SHA-512 crypt runs in worker threads
 * (about 5 ms per hash at 5000 rounds), so logins never stall other sessions.
 * One worker per core, at most MAX_WORKERS; a request goes to the worker with
 * the fewest requests in hand.
 * The queue is bounded: past `maxWaiting` requests waiting for a worker, a new
 * one is refused at once with HashPoolBusy (a temporary failure for the client)
 * instead of making every login wait behind a flood. Passwords longer than
 * MAX_PASSWORD_BYTES never reach a worker (the crypt's cost grows with length).
 * Workers start on the first request and exit after IDLE_MS without one: each is
 * a V8 isolate of several MB, which a relay that nobody logs in to does not need.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { MAX_PASSWORD_BYTES } from "./types.ts";

/**
 * Requests allowed to wait for a worker. At ~5 ms a hash on 2 workers, 64 is
 * under a fifth of a second of work: a burst of reconnecting clients fits,
 * a flood is shed instead of delaying every login by seconds.
 */
export const MAX_WAITING = 64;

/** Each worker is an isolate of several MB: more than this buys a relay little. */
export const MAX_WORKERS = 4;

/** Workers exit after this long without a request; the next login starts them again (~20 ms). */
export const IDLE_MS = 60_000;

/** The pool's queue is full: try again later. */
export class HashPoolBusy extends Error {
  readonly code = "busy";
  constructor() {
    super("password hashing is overloaded");
  }
}

type Request = { id: number; op: "hash" | "verify"; password: string; hash?: string };
type Reply = { id: number; result?: string | boolean; error?: string };

// Compiled (dist/*.js, the installed package) the worker imports sha512-crypt.js
// as it is; from the TypeScript sources (tests, a checkout) it registers tsx first.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  const m = await import(workerData.module);
  parentPort.on("message", (req) => {
    try {
      let result;
      if (req.op === "hash") result = m.sha512Crypt(req.password, m.newSalt());
      else {
        const p = m.parseSha512Crypt(req.hash);
        result = p !== undefined && m.sha512Crypt(req.password, p.salt, p.rounds) === req.hash;
      }
      parentPort.postMessage({ id: req.id, result });
    } catch (e) {
      parentPort.postMessage({ id: req.id, error: String(e) });
    }
  });
})();
`;

function workerData(): { tsx?: string; module: string } {
  const compiled = import.meta.url.endsWith(".js");
  return compiled
    ? { module: new URL("./sha512-crypt.js", import.meta.url).href }
    : { tsx: import.meta.resolve("tsx/esm/api"), module: new URL("./sha512-crypt.ts", import.meta.url).href };
}

type Pending = { worker: Worker; resolve: (v: string | boolean) => void; reject: (e: Error) => void };

export class HashPool {
  private readonly workers: Worker[] = [];
  /** Requests each worker has in hand. */
  private readonly load = new Map<Worker, number>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Requests accepted so far (tests check that a path did or did not hash). */
  submitted = 0;

  constructor(
    private readonly size = Math.min(MAX_WORKERS, availableParallelism()),
    private readonly maxWaiting = MAX_WAITING,
    private readonly idleMs = IDLE_MS,
  ) {}

  /** Live workers (0 until the first request and after an idle period). */
  get running(): number {
    return this.workers.length;
  }

  private start(): void {
    const data = workerData();
    while (this.workers.length < this.size) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: data });
      w.unref();
      w.on("message", (m: Reply) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        this.load.set(w, (this.load.get(w) ?? 1) - 1);
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m.result!);
        if (this.pending.size === 0) this.armIdle();
      });
      // A worker that died takes its requests with it; the next request starts a new one.
      const gone = (e: Error) => {
        const i = this.workers.indexOf(w);
        if (i >= 0) this.workers.splice(i, 1);
        this.load.delete(w);
        for (const [id, p] of this.pending)
          if (p.worker === w) {
            this.pending.delete(id);
            p.reject(e);
          }
      };
      w.on("error", gone);
      w.on("exit", (code) => gone(new Error(`hash worker exited with code ${code}`)));
      this.workers.push(w);
      this.load.set(w, 0);
    }
  }

  private armIdle(): void {
    if (this.idleTimer) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        if (this.pending.size === 0) void this.stopWorkers();
      }, this.idleMs);
      this.idleTimer.unref();
    }
  }

  private call(req: Omit<Request, "id">): Promise<string | boolean> {
    if (Buffer.byteLength(req.password) > MAX_PASSWORD_BYTES)
      return Promise.reject(new RangeError("password too long"));
    // Each worker runs one request; the rest wait in the workers' queues.
    if (this.pending.size >= this.size + this.maxWaiting) return Promise.reject(new HashPoolBusy());
    this.submitted++;
    if (this.workers.length < this.size) this.start();
    const id = this.nextId++;
    let worker = this.workers[0]!;
    for (const w of this.workers) if (this.load.get(w)! < this.load.get(worker)!) worker = w;
    this.load.set(worker, this.load.get(worker)! + 1);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { worker, resolve, reject });
      worker.postMessage({ ...req, id });
    });
  }

  /** "$6$salt$hash" for a new random salt. */
  async hash(password: string): Promise<string> {
    return (await this.call({ op: "hash", password })) as string;
  }

  async verify(password: string, hash: string): Promise<boolean> {
    return (await this.call({ op: "verify", password, hash })) as boolean;
  }

  private async stopWorkers(): Promise<void> {
    const workers = this.workers.splice(0);
    this.load.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    await this.stopWorkers();
  }
}
