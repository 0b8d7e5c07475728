/**
 * LIST (RFC 3501 §6.3.8 with the RFC 5258 extended syntax: selection options
 * SUBSCRIBED, SPECIAL-USE, return options SUBSCRIBED, CHILDREN, SPECIAL-USE) and
 * LSUB (§6.3.9). Hierarchy delimiter "/". Special-use attributes (RFC 6154) are
 * always returned. A name that exists only as the parent of others is listed
 * as \Noselect (\NonExistent with the extended syntax) when "%" stops at it.
 */
import type { Mailbox } from "../../store/types.ts";
import type { Session } from "../session.ts";
import { normalizeMailbox } from "../wire/command.ts";
import { Response } from "../wire/encode.ts";
import { AUTHED, bad, type CommandSpec, ok } from "./types.ts";

/**
 * RFC 3501 §6.3.8: "*" matches anything, "%" anything but the delimiter; INBOX is
 * case-insensitive. Dynamic programming over (pattern, name) positions, so no
 * pattern can make matching exponential.
 */
export function listMatcher(pattern: string): (name: string) => boolean {
  const p = normalizeMailbox(pattern);
  return (name: string) => {
    // reach[i]: the first j pattern characters can match the first i name characters.
    let reach = new Uint8Array(name.length + 1);
    reach[0] = 1;
    for (let j = 0; j < p.length; j++) {
      const c = p[j];
      const next = new Uint8Array(name.length + 1);
      if (c === "*" || c === "%") {
        let on = false;
        for (let i = 0; i <= name.length; i++) {
          if (reach[i]) on = true;
          if (on) next[i] = 1;
          if (c === "%" && i < name.length && name[i] === "/") on = false;
        }
      } else {
        for (let i = 0; i < name.length; i++) if (reach[i] && name[i] === c) next[i + 1] = 1;
      }
      reach = next;
    }
    return reach[name.length] === 1;
  };
}

interface Entry {
  name: string;
  mailbox: Mailbox | null;
  hasChildren: boolean;
}

/** Every mailbox plus the parents implied by hierarchical names. */
function entries(mailboxes: Mailbox[]): Entry[] {
  const byName = new Map<string, Entry>();
  for (const m of mailboxes) byName.set(m.name, { name: m.name, mailbox: m, hasChildren: false });
  for (const m of mailboxes) {
    const parts = m.name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const e = byName.get(parent);
      if (e) e.hasChildren = true;
      else byName.set(parent, { name: parent, mailbox: null, hasChildren: true });
    }
  }
  return [...byName.values()].sort((a, b) => {
    if (a.name === "INBOX") return -1;
    if (b.name === "INBOX") return 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

function write(s: Session, kind: "LIST" | "LSUB", attrs: string[], name: string): void {
  s.write(
    new Response()
      .text(`* ${kind} (${attrs.join(" ")}) "/" `)
      .astring(name)
      .build(),
  );
}

export const list: CommandSpec<"LIST"> = {
  states: AUTHED,
  async run(s, cmd) {
    if (cmd.patterns.length === 1 && cmd.patterns[0] === "" && !cmd.extended) {
      // RFC 3501 §6.3.8: an empty pattern asks for the delimiter.
      s.write('* LIST (\\Noselect) "/" ""\r\n');
      return ok("List completed.");
    }
    if (cmd.patterns.some((p) => p.length + cmd.reference.length > 1024)) return bad("Pattern too long.");
    const onlySubscribed = cmd.select.includes("SUBSCRIBED");
    const onlySpecial = cmd.select.includes("SPECIAL-USE");
    const showSubscribed = onlySubscribed || cmd.returns.includes("SUBSCRIBED");
    const matchers = cmd.patterns.filter((p) => p !== "").map((p) => listMatcher(cmd.reference + p));
    const all = entries(await s.ctx.store.listMailboxes(s.user));
    for (const e of all) {
      if (!matchers.some((m) => m(e.name))) continue;
      const m = e.mailbox;
      if (onlySpecial && !m?.specialUse) continue;
      if (onlySubscribed && !m?.subscribed) continue;
      const attrs: string[] = [];
      if (!m) attrs.push(cmd.extended ? "\\NonExistent" : "\\Noselect");
      attrs.push(e.hasChildren ? "\\HasChildren" : "\\HasNoChildren");
      if (m?.specialUse) attrs.push(m.specialUse);
      if (showSubscribed && m?.subscribed) attrs.push("\\Subscribed");
      write(s, "LIST", attrs, e.name);
    }
    return ok("List completed.");
  },
};

export const lsub: CommandSpec<"LSUB"> = {
  states: AUTHED,
  async run(s, cmd) {
    if (cmd.pattern.length + cmd.reference.length > 1024) return bad("Pattern too long.");
    if (cmd.pattern === "") {
      s.write('* LSUB (\\Noselect) "/" ""\r\n');
      return ok("Lsub completed.");
    }
    const match = listMatcher(cmd.reference + cmd.pattern);
    const subscribed = new Set<string>();
    for (const m of await s.ctx.store.listMailboxes(s.user)) if (m.subscribed) subscribed.add(m.name);
    // RFC 3501 §6.3.9: where "%" stops at an unsubscribed parent of subscribed
    // names, that parent is listed as \Noselect.
    const parents = new Set<string>();
    if (cmd.pattern.includes("%")) {
      for (const name of subscribed) {
        const parts = name.split("/");
        for (let i = 1; i < parts.length; i++) {
          const p = parts.slice(0, i).join("/");
          if (!subscribed.has(p)) parents.add(p);
        }
      }
    }
    for (const name of [...subscribed, ...parents].sort()) {
      if (match(name)) write(s, "LSUB", subscribed.has(name) ? [] : ["\\Noselect"], name);
    }
    return ok("Lsub completed.");
  },
};
