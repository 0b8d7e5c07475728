/**
 * One session's view of its selected mailbox: the UIDs the client has been told
 * about (message sequence number = index + 1) and the changes other sessions (or
 * this one, through the bus) made since, waiting to be reported.
 *
 * RFC 3501 §7.4.1 / RFC 9051 §7.5.1: an EXPUNGE response must not be sent while
 * no command is in progress, nor during FETCH, STORE or SEARCH (with sequence
 * numbers), because the client's sequence numbers would shift under it. So an
 * expunge from elsewhere only marks the UID here; the message keeps its sequence
 * number until `flush` is allowed to send EXPUNGE. EXISTS and FETCH (FLAGS) may
 * be sent at any point of a command (and at once during IDLE).
 *
 * \Recent (RFC 3501 §2.3.2): a message is recent in exactly one session, the
 * first read-write one to learn of it. `recentFloor` (shared by all sessions of
 * a server, per mailbox) is the lowest UID nobody has claimed yet; a read-only
 * view shows the unclaimed ones as recent without claiming them. Kept in memory:
 * after a restart every message is recent once more.
 *
 * Memory: one number per message plus small sets that exist only while changes
 * are pending or messages are recent.
 */
import type { MailboxEvent } from "../events/bus.ts";
import { flagList } from "./wire/encode.ts";

export class MailboxView {
  /** UIDs announced to the client, ascending. */
  uids: number[];
  /** Announced UIDs that are gone from the store; EXPUNGE not yet sent. */
  private expunged: Set<number> | null = null;
  /** UIDs added after the last EXISTS, ascending; all larger than every announced UID. */
  private fresh: number[] | null = null;
  /** New flags of announced messages, not yet reported. */
  private flags: Map<number, string[]> | null = null;
  /** Another session changed the mailbox list: check at the next command that this one still exists. */
  revalidate = false;
  /** A UID arrived below ones already announced and is still unexplained; set by `apply`. */
  suspect: number[] | null = null;

  /** UIDs that are \Recent in this session. */
  private recent: Set<number> | null = null;

  constructor(
    readonly mailboxId: number,
    public name: string,
    readonly uidValidity: number,
    readonly readOnly: boolean,
    uids: number[],
    private readonly recentFloor: Map<number, number>,
  ) {
    this.uids = uids;
  }

  /** Marks announced UIDs at or above the floor recent (claiming them unless read-only). */
  private claimRecent(uids: readonly number[]): void {
    const floor = this.recentFloor.get(this.mailboxId) ?? 1;
    let top = floor;
    for (const uid of uids) {
      if (uid < floor) continue;
      (this.recent ??= new Set()).add(uid);
      if (uid >= top) top = uid + 1;
    }
    if (!this.readOnly && top > floor) this.recentFloor.set(this.mailboxId, top);
  }

  isRecent(uid: number): boolean {
    return this.recent?.has(uid) ?? false;
  }

  get recentCount(): number {
    return this.recent?.size ?? 0;
  }

  /** Flags as this session shows them: \Recent added where it applies. */
  flagsOf(uid: number, flags: readonly string[]): readonly string[] {
    return this.isRecent(uid) ? [...flags, "\\Recent"] : flags;
  }

  get count(): number {
    return this.uids.length;
  }

  /** Largest UID known (announced or fresh), 0 if none. */
  get maxUid(): number {
    if (this.fresh && this.fresh.length > 0) return this.fresh[this.fresh.length - 1]!;
    return this.uids.length > 0 ? this.uids[this.uids.length - 1]! : 0;
  }

  /** Index of `uid` among the announced UIDs, or -1. */
  indexOf(uid: number): number {
    const a = this.uids;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! < uid) lo = mid + 1;
      else hi = mid;
    }
    return lo < a.length && a[lo] === uid ? lo : -1;
  }

  isExpunged(uid: number): boolean {
    return this.expunged?.has(uid) ?? false;
  }

  /** Whether anything waits to be reported. */
  get pending(): boolean {
    return (this.expunged?.size ?? 0) > 0 || (this.fresh?.length ?? 0) > 0 || (this.flags?.size ?? 0) > 0;
  }

  /** Records a change of this mailbox; nothing is written here. */
  apply(event: MailboxEvent): void {
    if (event.kind === "mailboxes" || event.kind === "account-removed") {
      this.revalidate = true;
      return;
    }
    if (event.mailboxId !== this.mailboxId) return;
    if (event.kind === "exists") {
      for (const rec of event.records) this.addUid(rec.uid);
    } else if (event.kind === "expunge") {
      for (const uid of event.uids) this.removeUid(uid);
    } else {
      for (const rec of event.records) {
        if (this.indexOf(rec.uid) < 0 || this.isExpunged(rec.uid)) continue;
        (this.flags ??= new Map()).set(rec.uid, rec.flags);
      }
    }
  }

  private addUid(uid: number): void {
    if (uid > this.maxUid) {
      (this.fresh ??= []).push(uid);
      return;
    }
    if (this.indexOf(uid) >= 0) return;
    if (this.fresh?.includes(uid)) return;
    // Below the largest known UID and unknown: either already expunged again, or
    // published out of commit order. The session checks the store (see `suspect`).
    if (this.fresh && this.fresh.length > 0 && uid > (this.uids[this.uids.length - 1] ?? 0)) {
      // Still unannounced territory: insert in order.
      const f = this.fresh;
      let i = f.length;
      while (i > 0 && f[i - 1]! > uid) i--;
      f.splice(i, 0, uid);
      return;
    }
    (this.suspect ??= []).push(uid);
  }

  private removeUid(uid: number): void {
    if (this.fresh) {
      const i = this.fresh.indexOf(uid);
      if (i >= 0) {
        this.fresh.splice(i, 1);
        return;
      }
    }
    if (this.indexOf(uid) >= 0) {
      (this.expunged ??= new Set()).add(uid);
      this.flags?.delete(uid);
      this.recent?.delete(uid);
    }
  }

  /**
   * The untagged responses that report pending changes, in an order that keeps
   * sequence numbers right: EXPUNGE (only when `allowExpunge`), then FETCH FLAGS,
   * then EXISTS. Updates the view as the client's view changes.
   */
  flush(allowExpunge: boolean): string {
    let out = "";
    if (allowExpunge && this.expunged && this.expunged.size > 0) {
      const gone = this.expunged;
      // Highest sequence number first: each EXPUNGE leaves the lower numbers unchanged.
      for (let i = this.uids.length - 1; i >= 0; i--) {
        if (gone.has(this.uids[i]!)) out += `* ${i + 1} EXPUNGE\r\n`;
      }
      this.uids = this.uids.filter((u) => !gone.has(u));
      this.expunged = null;
    }
    if (this.flags && this.flags.size > 0) {
      const changes = [...this.flags].sort((a, b) => a[0] - b[0]);
      this.flags = null;
      for (const [uid, flags] of changes) {
        const i = this.indexOf(uid);
        if (i >= 0) out += `* ${i + 1} FETCH (UID ${uid} FLAGS ${flagList(this.flagsOf(uid, flags))})\r\n`;
      }
    }
    out += this.flushExists();
    return out;
  }

  /** Only the EXISTS part (allowed at any point of any command). */
  flushExists(): string {
    if (!this.fresh || this.fresh.length === 0) return "";
    for (const uid of this.fresh) this.uids.push(uid);
    const before = this.recentCount;
    this.claimRecent(this.fresh);
    this.fresh = null;
    const exists = `* ${this.uids.length} EXISTS\r\n`;
    return this.recentCount !== before ? `${exists}* ${this.recentCount} RECENT\r\n` : exists;
  }

  /** Folds every pending change in without reporting (used before SELECT's first answer). */
  absorb(): void {
    if (this.expunged) {
      const gone = this.expunged;
      this.uids = this.uids.filter((u) => !gone.has(u));
      this.expunged = null;
    }
    this.flags = null;
    if (this.fresh) {
      for (const uid of this.fresh) this.uids.push(uid);
      this.fresh = null;
    }
    this.recent = null;
    this.claimRecent(this.uids);
  }

  /** Removes UIDs this session expunged itself and reports them now (EXPUNGE, MOVE, CLOSE). */
  expungeNow(uids: Iterable<number>): void {
    for (const uid of uids) this.removeUid(uid);
  }
}
