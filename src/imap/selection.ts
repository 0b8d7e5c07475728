/**
 * The selected mailbox of one session and the bus events that reach it. Events
 * only update the MailboxView (synchronously, never awaiting: the publisher's
 * call is on the stack); during IDLE the view is flushed to the client at once
 * (RFC 2177). While SELECT reads its snapshot, events are kept and applied to
 * the new view afterwards, so nothing committed in between is missed.
 */
import type { MailboxEvent } from "../events/bus.ts";
import type { ServerContext } from "./context.ts";
import type { MailboxView } from "./mailbox-view.ts";

export interface SelectionOwner {
  readonly ctx: ServerContext;
  readonly idling: boolean;
  writeUnsolicited(text: string): void;
  shutdown(text: string): void;
}

export class Selection {
  view: MailboxView | null = null;
  /** Events that arrive while SELECT reads its snapshot. */
  private selecting: MailboxEvent[] | null = null;
  private checking = false;

  constructor(private readonly owner: SelectionOwner) {}

  /** Starts a SELECT: from now until `end`, events are kept for the new view. */
  begin(): void {
    this.view = null;
    this.selecting = [];
  }

  end(view: MailboxView | null): void {
    const events = this.selecting ?? [];
    this.selecting = null;
    if (!view) return;
    for (const e of events) if (!(e.kind === "flags" && e.origin === this.owner)) view.apply(e);
    view.absorb();
    this.view = view;
    if (view.suspect) void this.checkSuspects();
  }

  readonly onEvent = (e: MailboxEvent): void => {
    // The account was removed: nothing of this session's user exists any more,
    // and the address may be registered again by someone else.
    if (e.kind === "account-removed") {
      this.owner.shutdown("Account removed");
      return;
    }
    if (this.selecting) {
      this.selecting.push(e);
      return;
    }
    const v = this.view;
    if (!v) return;
    // A session's own flag changes were answered by its STORE or FETCH already.
    if (e.kind === "flags" && e.origin === this.owner) return;
    v.apply(e);
    if (v.suspect) void this.checkSuspects();
    // RFC 2177: during IDLE every change is reported at once, EXPUNGE included.
    if (this.owner.idling) {
      const updates = v.flush(true);
      if (updates) this.owner.writeUnsolicited(updates);
      if (updates && e.kind === "exists" && e.committedAt !== undefined)
        this.owner.ctx.metrics?.commitToExists.observe((performance.now() - e.committedAt) / 1000);
    }
  };

  /**
   * The selected mailbox may have been deleted by another session (checked
   * after a "mailboxes" event). False, after saying BYE, when it is gone.
   */
  async revalidate(): Promise<boolean> {
    const v = this.view;
    if (!v?.revalidate) return true;
    v.revalidate = false;
    const mb = await this.owner.ctx.store.getMailboxById(v.mailboxId);
    if (!mb || mb.uidValidity !== v.uidValidity) {
      this.owner.shutdown("Selected mailbox was deleted, have to disconnect");
      return false;
    }
    v.name = mb.name;
    return true;
  }

  /**
   * A UID below announced ones arrived unannounced: if the message exists, the
   * client's sequence numbers can no longer be kept right, so it must reconnect.
   */
  private async checkSuspects(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await this.checkSuspectsNow();
    } catch (err) {
      // The store is closing or failing: the next command will notice.
      this.owner.ctx.log.debug({ err }, "imap: suspect check failed");
    } finally {
      this.checking = false;
    }
  }

  private async checkSuspectsNow(): Promise<void> {
    while (this.view?.suspect) {
      const v = this.view;
      const uids = v.suspect!;
      v.suspect = null;
      for (const uid of uids) {
        if (await this.owner.ctx.store.getMessage(v.mailboxId, uid)) {
          this.owner.shutdown("Mailbox state changed, please reconnect");
          return;
        }
      }
    }
  }
}
