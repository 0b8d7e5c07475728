/**
 * SHA-512 crypt against the test vectors of its specification (Drepper,
 * "Unix crypt using SHA-256 and SHA-512", https://www.akkadia.org/drepper/SHA-crypt.txt)
 * and against an independent implementation, `openssl passwd -6`, on random
 * passwords (1 to 200 bytes, non-ASCII), salts and round counts.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { test } from "node:test";
import { newSalt, sha512Crypt } from "../../src/accounts/sha512-crypt.ts";

test("the specification's test vectors", () => {
  assert.equal(
    sha512Crypt("Hello world!", "saltstring"),
    "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
  );
  assert.equal(
    sha512Crypt("Hello world!", "saltstringsaltstring", 10000),
    "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.",
  );
  assert.equal(
    sha512Crypt("the minimum number is still observed", "roundstoolow", 10),
    "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.",
  );
});

test("random passwords, salts and rounds agree with openssl passwd -6", () => {
  const seed = randomBytes(4).toString("hex");
  for (let i = 0; i < 24; i++) {
    const length = [1, 2, 15, 16, 63, 64, 65, 128, 200][i % 9]!;
    // printable ASCII and some two-byte UTF-8; no newline (openssl reads a line)
    const chars = "abcXYZ019 !$%&/()=?{}[]äöüß€";
    let password = "";
    while (Buffer.byteLength(password) < length) password += chars[randomInt(chars.length)];
    const salt = newSalt().slice(0, 1 + randomInt(16));
    const rounds = i % 3 === 0 ? undefined : 1000 + randomInt(5000);
    const spec = rounds === undefined ? salt : `rounds=${rounds}$${salt}`;
    const expected = execFileSync("openssl", ["passwd", "-6", "-salt", spec, "-stdin"], {
      input: `${password}\n`,
    })
      .toString()
      .trim();
    assert.equal(
      sha512Crypt(password, salt, rounds),
      expected,
      `case ${i} (run ${seed}): ${JSON.stringify(password)}`,
    );
  }
});
