import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultConfig } from "../../src/config/schema.ts";
import { TURN_CREDENTIAL_LIFETIME_SECONDS, turnCredentials } from "../../src/turn/credentials.ts";

const NOW = 1_700_000_000_000;

test("TURN REST credentials: expiry 5 days ahead, base64 HMAC-SHA1 of it", () => {
  const config = { ...defaultConfig("chat.example.org"), turn_secret: "north" };
  // value computed with Python's hmac module
  assert.equal(turnCredentials(config, NOW), "chat.example.org:3478:1700432000:6i3MOC5CcUjtk51HuMCT6nsg1eU=");
  assert.equal(TURN_CREDENTIAL_LIFETIME_SECONDS, 432000);
  // milliseconds are cut, not rounded
  assert.equal(turnCredentials(config, NOW + 999)?.split(":")[2], "1700432000");
});

test("turn_host and turn_port are advertised; no secret, no credentials", () => {
  const config = {
    ...defaultConfig("chat.example.org"),
    turn_secret: "north",
    turn_host: "turn.example.net",
    turn_port: 3479,
  };
  assert.match(turnCredentials(config, NOW) ?? "", /^turn\.example\.net:3479:1700432000:/);
  assert.equal(turnCredentials({ ...config, turn_secret: "" }, NOW), undefined);
  assert.match(turnCredentials({ ...config, turn_host: "" }, NOW) ?? "", /^chat\.example\.org:3479:/);
});
