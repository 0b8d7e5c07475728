/**
 * A parser for the output of `strace -f -y -xx -o FILE` (strace(1)): one event
 * per system call with the line where it entered and the line where it
 * returned. strace writes lines in the order it sees the calls stop; a call of
 * one thread that blocks while another thread's call is printed is split into
 * "name(args <unfinished ...>" and, later, "<... name resumed>rest) = ret" on a
 * line of the same thread id, and a thread has at most one call in flight, so
 * the two halves pair by thread id. Line order is causal order: a thread stops
 * at the return of its call until strace has printed it, so whatever that
 * thread does next (and whatever it lets other threads do) comes on later lines.
 *
 * Total: a line it does not understand (signals, exits, strace's own notes, a
 * resumed half without its start) is skipped.
 */

export interface SyscallEvent {
  tid: number;
  name: string;
  /** The path strace's -y printed for the first argument (a file, or "socket:[...]"), as latin1 text. */
  fdPath: string | undefined;
  /** The octets of every quoted string argument, concatenated (-xx prints each as \xHH). */
  data: Buffer;
  /** Some string was longer than strace's -s limit and is cut short in `data`. */
  truncated: boolean;
  /** Line index where the call entered and where it returned (the same for an uninterrupted call). */
  entry: number;
  exit: number;
  /** The return value as printed ("0", "45", "-1 EIO (Input/output error)"), "" until it returned. */
  ret: string;
}

const LINE = /^(\d+)\s+(.*)$/;
const CALL = /^([a-z_0-9]+)\((.*)$/;
const RESUMED = /^<\.\.\. ([a-z_0-9]+) resumed>(.*)$/;
const UNFINISHED = " <unfinished ...>";
const FD_PATH = /^-?\d+<([^>]*)>/;
const HEX = /\\x([0-9a-f]{2})/g;
const STRING = /"((?:\\x[0-9a-f]{2})*)"(\.\.\.)?/g;
const RETURN = /\)\s+= (.*)$/;

function strings(args: string): { data: Buffer; truncated: boolean } {
  const parts: Buffer[] = [];
  let truncated = false;
  for (const m of args.matchAll(STRING)) {
    parts.push(Buffer.from(m[1]!.replaceAll("\\x", ""), "hex"));
    if (m[2]) truncated = true;
  }
  return { data: Buffer.concat(parts), truncated };
}

export function parseStrace(text: string): SyscallEvent[] {
  const events: SyscallEvent[] = [];
  const open = new Map<number, SyscallEvent>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = LINE.exec(lines[i]!);
    if (!line) continue;
    const tid = Number(line[1]);
    const rest = line[2]!;
    const resumed = RESUMED.exec(rest);
    if (resumed) {
      const ev = open.get(tid);
      if (!ev || ev.name !== resumed[1]) continue;
      open.delete(tid);
      ev.exit = i;
      ev.ret = RETURN.exec(resumed[2]!)?.[1] ?? "";
      continue;
    }
    const call = CALL.exec(rest);
    if (!call) continue;
    const unfinished = rest.endsWith(UNFINISHED);
    const args = unfinished ? call[2]!.slice(0, -UNFINISHED.length) : call[2]!;
    const { data, truncated } = strings(args);
    const ev: SyscallEvent = {
      tid,
      name: call[1]!,
      // -xx escapes the path's octets too
      fdPath: FD_PATH.exec(args)?.[1]?.replace(HEX, (_, h: string) =>
        String.fromCharCode(Number.parseInt(h, 16)),
      ),
      data,
      truncated,
      entry: i,
      exit: unfinished ? Number.POSITIVE_INFINITY : i,
      ret: unfinished ? "" : (RETURN.exec(args)?.[1] ?? ""),
    };
    if (unfinished) open.set(tid, ev);
    events.push(ev);
  }
  return events;
}
