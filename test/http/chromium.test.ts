import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { startHttp } from "./harness.ts";
import { readPngGray } from "./png.ts";
import { decodeMatrix, sampleFromImage } from "./qr-decode.ts";

const run = promisify(execFile);

function chromium(args: string[], profile: string) {
  return run(
    "chromium",
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      `--user-data-dir=${profile}`,
      "--ignore-certificate-errors",
      "--window-size=800,1000",
      ...args,
    ],
    { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 },
  );
}

test("headless Chromium renders the index page with a readable QR code", async () => {
  const h = await startHttp();
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-chromium-"));
  try {
    const url = `https://127.0.0.1:${h.httpsPort}/`;
    const shot = join(dir, "index.png");
    await chromium([`--screenshot=${shot}`, url], join(dir, "profile"));
    const image = readPngGray(readFileSync(shot));
    assert.equal(image.width, 800);
    const decoded = decodeMatrix(sampleFromImage(image.gray, image.width, image.height));
    assert.equal(decoded.text, "DCACCOUNT:https://_chatrelay.test/new");
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
