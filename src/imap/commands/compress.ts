/**
 * COMPRESS DEFLATE (RFC 4978): after the tagged OK both directions are raw
 * DEFLATE. Offered only when config.imap_compress is on; Delta Chat always
 * uses it when advertised.
 */
import { AUTHED, bad, type CommandSpec, no, ok } from "./types.ts";

export const compress: CommandSpec<"COMPRESS"> = {
  states: AUTHED,
  run(s, cmd) {
    if (!s.ctx.config.imap_compress) return bad("Unknown command.");
    if (s.transport.compressed) return no("Compression is already active.", "COMPRESSIONACTIVE");
    if (cmd.mechanism !== "DEFLATE") return no("Unsupported compression mechanism.", "CANNOT");
    return {
      ...ok("DEFLATE active."),
      after() {
        // What the client pipelined after COMPRESS is already compressed.
        s.transport.startCompression(s.takeBufferedInput());
      },
    };
  },
};
