/**
 * Message body files, for bodies larger than INLINE_MAX_BYTES (the smaller ones
 * live inside SQLite, inline-bodies.ts). A blob id names its own place on disk:
 * "YYYYMMDDHHm-<32 hex>" lives in `<root>/YYYYMMDD/HHm/<id>` (m = tens of
 * minutes, UTC). Files written at about the same time share a directory, so a
 * batch of concurrent writes needs one directory fsync instead of one each.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { asStoreError } from "./full.ts";
import { StoreError } from "./types.ts";

const BLOB_ID = /^(\d{8})(\d{3})-[0-9a-f]{32}$/;

/** fsync a directory so that the entries created in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class BlobFiles {
  /** Directories known to exist with a durable entry in their parent. */
  private readonly dirs = new Map<string, Promise<void>>();

  constructor(readonly root: string) {}

  newId(nowMs = Date.now()): string {
    const iso = new Date(nowMs).toISOString(); // 2026-01-15T14:37:...
    const slot = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso[14];
    return `${slot}-${randomBytes(16).toString("hex")}`;
  }

  /** The directory a blob lives in; throws on a malformed id. */
  dirOf(id: string): string {
    const m = BLOB_ID.exec(id);
    if (!m) throw new StoreError("NONEXISTENT", "malformed blob id");
    return join(this.root, m[1]!, m[2]!);
  }

  pathOf(id: string): string {
    return join(this.dirOf(id), id);
  }

  /**
   * Writes a new file and fsyncs its contents. The caller must still fsync the
   * returned directory before relying on the file (group commit does that).
   */
  async write(data: Buffer, nowMs = Date.now()): Promise<{ id: string; dir: string }> {
    const id = this.newId(nowMs);
    const dir = this.dirOf(id);
    try {
      await this.ensureDir(dir);
      const fh = await fs.open(join(dir, id), "wx", 0o600);
      try {
        await fh.writeFile(data);
        await fh.datasync();
      } catch (err) {
        // a partial file would hold on to the space of a full disk; nothing refers to it yet
        await fh.close().catch(() => {});
        await fs.unlink(join(dir, id)).catch(() => {});
        throw err;
      }
      await fh.close();
    } catch (err) {
      throw asStoreError(err);
    }
    return { id, dir };
  }

  async read(id: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.pathOf(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new StoreError("NONEXISTENT", "no such blob");
      }
      throw err;
    }
  }

  /** Removes a file; a missing file is not an error. */
  async remove(id: string): Promise<void> {
    try {
      await fs.unlink(this.pathOf(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }

  private ensureDir(dir: string): Promise<void> {
    let p = this.dirs.get(dir);
    if (!p) {
      if (this.dirs.size > 1000) this.dirs.clear();
      p = this.makeDir(dir);
      this.dirs.set(dir, p);
      p.catch(() => this.dirs.delete(dir));
    }
    return p;
  }

  /** mkdir the slot directory and its day directory, fsyncing each parent. */
  private async makeDir(dir: string): Promise<void> {
    const rel = dir.slice(this.root.length + 1).split("/");
    let parent = this.root;
    for (const part of rel) {
      const d = join(parent, part);
      await fs.mkdir(d, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "EEXIST") throw err;
      });
      // Even if it existed: an earlier process may have crashed before this fsync.
      await fsyncDir(parent);
      parent = d;
    }
  }
}
