/**
 * A global budget for message bodies held in memory while they arrive (SMTP
 * DATA, HTTPS /mxdeliv). The gate and DKIM need a whole message, so a body is
 * buffered; this bounds the sum over all connections (`max_buffered_bytes`) and
 * the share one client address may hold (a quarter of it, but at least one
 * message of `max_message_size`), so a few slow senders cannot fill the
 * process. A transaction reserves bytes as they arrive and gives them all back
 * when it ends; a reservation that does not fit fails, and the protocol answers
 * with a temporary error (SMTP 452 4.3.1, HTTP 503).
 */
import { addressKey } from "./address-key.ts";

export class BodyBudget {
  private used = 0;
  private readonly perKey = new Map<string, number>();
  readonly perAddress: number;

  constructor(
    readonly total: number,
    maxMessageSize: number,
  ) {
    this.perAddress = Math.min(total, Math.max(maxMessageSize, Math.floor(total / 4)));
  }

  /** Bytes reserved right now over all transactions. */
  get inUse(): number {
    return this.used;
  }

  /** A reservation for one transaction from `ip`. */
  open(ip: string | undefined): BodyReservation {
    return new BodyReservation(this, addressKey(ip));
  }

  /** @internal */
  take(key: string, n: number): boolean {
    const mine = this.perKey.get(key) ?? 0;
    if (this.used + n > this.total || mine + n > this.perAddress) return false;
    this.used += n;
    this.perKey.set(key, mine + n);
    return true;
  }

  /** @internal */
  give(key: string, n: number): void {
    if (n <= 0) return;
    this.used -= n;
    const left = (this.perKey.get(key) ?? n) - n;
    if (left <= 0) this.perKey.delete(key);
    else this.perKey.set(key, left);
  }
}

export class BodyReservation {
  private held = 0;
  private done = false;

  constructor(
    private readonly budget: BodyBudget,
    private readonly key: string,
  ) {}

  get bytes(): number {
    return this.held;
  }

  /** Reserves `n` more bytes; false when the budget cannot hold them (nothing is reserved then). */
  add(n: number): boolean {
    if (this.done) return false;
    if (!this.budget.take(this.key, n)) return false;
    this.held += n;
    return true;
  }

  /** Gives everything back; safe to call more than once. */
  release(): void {
    if (this.done) return;
    this.done = true;
    this.budget.give(this.key, this.held);
    this.held = 0;
  }
}
