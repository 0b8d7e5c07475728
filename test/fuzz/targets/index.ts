/** Every fuzzer by name, each opened with what it needs and closed after its run. */
import type { FuzzTarget } from "../lib/engine.ts";
import { dkimTarget } from "./dkim.ts";
import { gateTarget } from "./gate.ts";
import { openGateLive } from "./gate-live.ts";
import { openImapLive } from "./imap.ts";
import { mimeTarget } from "./mime.ts";

export type Opened = { target: FuzzTarget; close(): Promise<void> };

export const TARGETS: Record<string, () => Promise<Opened>> = {
  gate: async () => ({ target: gateTarget(), close: async () => {} }),
  "gate-live": openGateLive,
  mime: async () => ({ target: mimeTarget(), close: async () => {} }),
  imap: openImapLive,
  dkim: async () => ({ target: await dkimTarget(), close: async () => {} }),
};
