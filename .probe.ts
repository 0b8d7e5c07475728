import { checkOutgoing } from "./src/policy/gate.ts";
import { rewriteSubmitted } from "./src/policy/rewrite.ts";
import { armor, packet, pgpMime, partialPacket } from "./test/policy/helpers.ts";
const big = Buffer.alloc(20_000_000, 7);
const msg = pgpMime(armor(Buffer.concat([packet(1, Buffer.alloc(90, 1)), partialPacket(18, big, 13)])));
console.log("size", msg.length);
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  const v = checkOutgoing({ mailFrom: "alice@c.example", recipients: ["bob@d.example"], message: msg });
  const t2 = performance.now();
  rewriteSubmitted(msg);
  console.log(JSON.stringify(v), (t2 - t).toFixed(0), "ms gate", (performance.now() - t2).toFixed(1), "ms rewrite");
}
const plain = Buffer.from("From: alice@c.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + "QUJDREVGR0g=\r\n".repeat(1_500_000) + "--b--\r\n");
const t = performance.now();
console.log(JSON.stringify(checkOutgoing({ mailFrom: "alice@c.example", recipients: ["bob@d.example"], message: plain })), (performance.now() - t).toFixed(0), "ms headerless part", plain.length);
