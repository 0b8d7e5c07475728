/**
 * The ports clients are told about (autoconfig, dclogin links, redirects):
 * the relay's actual listening ports when known (ephemeral ports in tests),
 * else the configured ones; a disabled listener (-1) is not advertised.
 */
import type { Config } from "../config/types.ts";

export type PublicPortName = "imaps" | "imap" | "submissions" | "submission" | "https";

/** Live listening ports by listener name, e.g. `() => relay.ports`. */
export type PortsSource = () => Partial<Record<string, number>>;

const CONFIG_KEY = {
  imaps: "imaps_port",
  imap: "imap_port",
  submissions: "submissions_port",
  submission: "submission_port",
  https: "https_port",
} as const;

export function publicPort(config: Config, name: PublicPortName, live?: PortsSource): number | undefined {
  const bound = live?.()[name];
  if (bound !== undefined && bound > 0) return bound;
  const configured = config[CONFIG_KEY[name]];
  return configured > 0 ? configured : undefined;
}
