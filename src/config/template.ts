/**
 * The chatmail.ini that `chatrelay init <domain>` writes: a `[params]` section
 * with mail_domain set and every other option present as a commented-out line
 * showing its default, each with a short explanation.
 */
import { CONFIG_KEYS, type ConfigKey, defaultOf, SCHEMA } from "./schema.ts";

export interface RenderOptions {
  /** Options to write as set (uncommented), as ini text; multi-line values become continuation lines. */
  values?: Partial<Record<ConfigKey, string>>;
}

function wrap(text: string, width = 78): string[] {
  const lines: string[] = [];
  let line = "#";
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > width && line !== "#") {
      lines.push(line);
      line = "#";
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

function setting(key: string, value: string, commented: boolean): string[] {
  const [first = "", ...rest] = value.split("\n");
  const prefix = commented ? "# " : "";
  return [
    `${prefix}${key} =${first === "" ? "" : ` ${first}`}`,
    ...rest.map((l) => (commented ? `#     ${l}` : `    ${l}`)),
  ];
}

export function renderIni(domain: string, opts: RenderOptions = {}): string {
  const basis = {
    mail_domain: domain,
    tls_external_cert_and_key: opts.values?.tls_external_cert_and_key ?? "",
  };
  const out: string[] = [
    `# chatrelay configuration for ${domain}`,
    "#",
    '# Syntax as read by Python\'s configparser: "key = value" lines in the [params]',
    "# section; lines starting with # or ; are comments; indented lines continue",
    "# the value above. Commented-out options show their defaults. Relative paths",
    "# are relative to the folder of this file.",
    "",
    "[params]",
  ];
  let group: string | undefined;
  for (const key of CONFIG_KEYS) {
    const spec = SCHEMA[key];
    if (spec.origin !== group) {
      group = spec.origin;
      out.push(
        "",
        "#",
        group === "reference"
          ? "# Options of the chatmail relay (same names and defaults)"
          : "# chatrelay's own options",
        "#",
      );
    }
    out.push("", ...wrap(spec.doc));
    const given = key === "mail_domain" ? domain : opts.values?.[key];
    if (given !== undefined) {
      out.push(...setting(key, given, false));
      continue;
    }
    const format = spec.format as (v: unknown) => string;
    out.push(...setting(key, format(defaultOf(key, basis)), true));
  }
  return `${out.join("\n")}\n`;
}
