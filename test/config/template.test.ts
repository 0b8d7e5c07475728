import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { defaultConfig, parseConfig } from "../../src/config/load.ts";
import { CONFIG_KEYS, type ConfigKey, defaultText, IGNORED_KEYS, SCHEMA } from "../../src/config/schema.ts";
import { renderIni } from "../../src/config/template.ts";

const source = "/etc/chatmail.ini";
const domains = ["chat.example.org", "_test.example", "192.0.2.1"];

test("the init template parses back to the defaults for its domain, without warnings", () => {
  for (const domain of domains) {
    const { config, warnings } = parseConfig(renderIni(domain), source);
    assert.deepEqual(warnings, [], domain);
    assert.deepEqual(config, defaultConfig(domain, source), domain);
  }
  assert.equal(parseConfig(renderIni("_test.example"), source).config.tls_mode, "self");
  assert.equal(parseConfig(renderIni("chat.example.org"), source).config.tls_mode, "acme");
});

test("every option appears once, commented out except mail_domain", () => {
  const text = renderIni("chat.example.org");
  assert.match(text, /^\[params\]$/m);
  assert.match(text, /^mail_domain = chat\.example\.org$/m);
  for (const key of CONFIG_KEYS) {
    if (key === "mail_domain") continue;
    const lines = text.split("\n").filter((l) => new RegExp(`^#? ?${key} =`).test(l));
    assert.deepEqual(
      lines.map((l) => l.startsWith("# ")),
      [true],
      key,
    );
  }
});

test("uncommenting every option line gives the same values (iroh_relay then advertises NIL)", () => {
  for (const domain of domains) {
    const uncommented = renderIni(domain).replace(
      /^# ([a-z0-9_]+) =(.*)$/gm,
      (line, key: string, rest: string) =>
        (CONFIG_KEYS as string[]).includes(key) ? `${key} =${rest}` : line,
    );
    const { config, warnings } = parseConfig(uncommented, source);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config, { ...defaultConfig(domain, source), iroh_relay: "" }, domain);
  }
});

test("values given to the template are written as set, multi-line ones as continuation lines", () => {
  const text = renderIni("chat.example.org", {
    values: {
      acme_email: "admin@example.org",
      privacy_postal: "Example Relay e.V.\nExample Street 1, 12345 Example Town",
      data_dir: "/srv/chatrelay",
      tls_external_cert_and_key: "/etc/tls/chain.pem /etc/tls/key.pem",
    },
  });
  assert.match(text, /^privacy_postal = Example Relay e\.V\.\n {4}Example Street 1, 12345 Example Town$/m);
  assert.match(text, /^# tls_mode = external$/m);
  const { config, warnings } = parseConfig(text, source);
  assert.deepEqual(warnings, []);
  assert.equal(config.acme_email, "admin@example.org");
  assert.equal(config.privacy_postal, "Example Relay e.V.\nExample Street 1, 12345 Example Town");
  assert.equal(config.data_dir, "/srv/chatrelay");
  assert.equal(config.tls_mode, "external");
});

test("docs/configuration.md lists every option with its default, and every ignored option", () => {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const docs = readFileSync(join(here, "..", "..", "docs", "configuration.md"), "utf8");
  const rows = new Map<string, string[]>();
  for (const line of docs.split("\n")) {
    const m = /^\| `([a-z0-9_]+)` \|(.*)\|$/.exec(line);
    if (m && !rows.has(m[1]!))
      rows.set(
        m[1]!,
        m[2]!.split(" | ").map((c) => c.trim()),
      );
  }
  for (const key of CONFIG_KEYS) {
    const cells = rows.get(key);
    assert.ok(cells, `docs row for ${key}`);
    const text = defaultText(key as ConfigKey);
    const expected =
      (SCHEMA[key] as { defaultText?: string }).defaultText !== undefined
        ? text
        : text === ""
          ? "(empty)"
          : `\`${text}\``;
    assert.equal(cells[0], expected, key);
  }
  for (const key of Object.keys(IGNORED_KEYS)) assert.ok(rows.has(key), `docs row for ${key}`);
});
