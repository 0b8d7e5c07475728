/** Cheap, total reads of top-level header fields (no MIME parsing). */

/** The raw top-level header block (without the blank line). */
export function headerBlock(message: Buffer): string {
  const crlf = message.indexOf("\r\n\r\n");
  const lf = message.indexOf("\n\n");
  let end = message.length;
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) end = crlf;
  else if (lf >= 0) end = lf;
  return message.subarray(0, Math.min(end, 256 * 1024)).toString("latin1");
}

/** First value of a top-level header field, unfolded, or undefined. */
export function headerValue(message: Buffer, name: string): string | undefined {
  const lines = headerBlock(message).split(/\r?\n/);
  const want = `${name.toLowerCase()}:`;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.toLowerCase().startsWith(want)) continue;
    let value = line.slice(want.length);
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1]!)) value += ` ${lines[++i]!.trim()}`;
    return value.trim();
  }
  return undefined;
}
