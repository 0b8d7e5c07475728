// A policy decision: accept, or an SMTP reply code and the text after it.

export type Verdict = { ok: true } | { ok: false; code: number; text: string };

export const ACCEPT: Verdict = Object.freeze({ ok: true });

export function reject(code: number, text: string): Verdict {
  return { ok: false, code, text };
}

/** The SMTP reply line for a rejection, e.g. "523 Encryption Needed: Invalid Unencrypted Mail". */
export function replyLine(v: Verdict): string {
  return v.ok ? "250 OK" : `${v.code} ${v.text}`;
}

export const ENCRYPTION_NEEDED: Verdict = Object.freeze(
  reject(523, "Encryption Needed: Invalid Unencrypted Mail"),
);
