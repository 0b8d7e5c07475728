/**
 * FETCH / UID FETCH (RFC 3501 §6.4.5, §6.4.8). UID FETCH always returns UID.
 * BODY[...] without .PEEK, RFC822 and RFC822.TEXT set \Seen (not in EXAMINE):
 * the flags are committed first, then published, and the FETCH response then
 * carries FLAGS. Responses are written one message at a time, waiting for the
 * client to read when the output backlog is high.
 */
import { renderFetch, setsSeen } from "../fetch-render.ts";
import { INVALID_SET, loadRecords, resolveTargets } from "../messages.ts";
import type { FetchAtt } from "../wire/types.ts";
import { bad, type CommandSpec, ok, SELECTED } from "./types.ts";

/** Longest stretch of event loop one FETCH response takes before it yields. */
const YIELD_AFTER_MS = 5;

export const fetch: CommandSpec<"FETCH"> = {
  states: SELECTED,
  async run(s, cmd) {
    const v = s.view!;
    const targets = resolveTargets(v, cmd.set, cmd.uid);
    if (!targets) return bad(INVALID_SET);
    let atts: FetchAtt[] = cmd.atts;
    if (cmd.uid && !atts.some((a) => a.kind === "UID")) atts = [{ kind: "UID" }, ...atts];
    if (targets.length === 0) return ok("Fetch completed.");
    const store = s.ctx.store;
    const records = await loadRecords(
      store,
      v.mailboxId,
      targets.map((t) => t.uid),
    );
    let seen: Set<number> | null = null;
    if (!v.readOnly && setsSeen(atts)) {
      const unseen = targets
        .map((t) => records.get(t.uid))
        .filter((r) => r !== undefined && !r.flags.includes("\\Seen"))
        .map((r) => r!.uid);
      if (unseen.length > 0) {
        const updated = await store.storeFlags(v.mailboxId, unseen, "add", ["\\Seen"]);
        for (const r of updated) records.set(r.uid, r);
        if (updated.length > 0) {
          s.publish({ kind: "flags", address: s.user, mailboxId: v.mailboxId, records: updated });
        }
        seen = new Set(updated.map((r) => r.uid));
      }
    }
    let slice = performance.now();
    for (const t of targets) {
      if (s.closed) break;
      // A long response gives other sessions a turn every few milliseconds.
      if (performance.now() - slice > YIELD_AFTER_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
      const rec = records.get(t.uid);
      // Gone meanwhile (expunged elsewhere): nothing to say about it (RFC 2180 §4.1.2).
      if (!rec || v.isExpunged(t.uid)) continue;
      let response: Buffer[];
      try {
        const flags = v.flagsOf(rec.uid, rec.flags);
        response = await renderFetch(
          store,
          t.seq,
          { ...rec, flags: [...flags] },
          atts,
          seen?.has(t.uid) ?? false,
        );
      } catch (err) {
        // The body file vanished with a concurrent expunge.
        s.ctx.log.debug({ err }, "imap: fetch of a vanished message");
        continue;
      }
      s.writev(response);
      await s.drain();
    }
    return ok("Fetch completed.");
  },
  // RFC 3501 §7.4.1: no EXPUNGE while responding to FETCH (sequence numbers).
  expunge: (cmd) => cmd.uid,
};
