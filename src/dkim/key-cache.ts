/**
 * A small LRU cache of DKIM key TXT lookups (`<selector>._domainkey.<domain>`), as filtermail
 * keeps: 1000 entries, a short lifetime, and an entry dropped when a signature failed with it
 * (the key may have been rotated). Failed lookups are not cached; concurrent lookups of one
 * name share a query.
 */

export interface TxtResolver {
  resolveTxt(name: string): Promise<string[][]>;
}

export interface DkimKeyCacheOptions {
  maxEntries?: number;
  ttlMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

interface Entry {
  records: string[][];
  expires: number;
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

export class DkimKeyCache implements TxtResolver {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<string[][]>>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly resolver: TxtResolver,
    opts: DkimKeyCacheOptions = {},
  ) {
    this.maxEntries = Math.max(1, opts.maxEntries ?? 1000);
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  async resolveTxt(name: string): Promise<string[][]> {
    const key = normalize(name);
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      if (hit.expires > this.now()) {
        this.entries.set(key, hit); // most recently used goes last
        return hit.records;
      }
    }
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const lookup = this.resolver.resolveTxt(name).then((records) => {
      this.store(key, records);
      return records;
    });
    this.inflight.set(key, lookup);
    try {
      return await lookup;
    } finally {
      this.inflight.delete(key);
    }
  }

  invalidate(name: string): void {
    this.entries.delete(normalize(name));
  }

  private store(key: string, records: string[][]): void {
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { records, expires: this.now() + this.ttlMs });
  }
}
