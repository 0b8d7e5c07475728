/**
 * The built-in website (docs/reference-relay.md §5.3): the index page with the
 * `DCACCOUNT:https://<domain>/new` QR code, an info page with the relay's
 * limits and retention, a privacy page from the privacy_* options, and
 * robots.txt.
 */
import type { Config } from "../../config/types.ts";
import { html, page } from "./layout.ts";
import { qrSvg } from "./qr.ts";

export function accountLink(config: Config): string {
  return `DCACCOUNT:https://${config.mail_domain}/new`;
}

function bytes(n: number): string {
  const units: Array<[string, number]> = [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10],
  ];
  for (const [unit, factor] of units) if (n >= factor) return `${Number((n / factor).toFixed(1))} ${unit}`;
  return `${n} bytes`;
}

function days(n: number): string {
  return n === 1 ? "1 day" : `${n} days`;
}

/**
 * `login`: a dclogin: link with fresh credentials, for relays whose
 * DCACCOUNT link cannot work (self-signed on an IP or a localhost name).
 */
export function indexPage(config: Config, login?: string): string {
  const d = config.mail_domain;
  const link = login ?? accountLink(config);
  const svg = qrSvg(link, { label: `QR code: ${link}` });
  const self = login
    ? `<p class="muted">This code carries a new address and password for this relay, which uses a self-signed certificate; reload the page for another one.</p>`
    : config.tls_mode === "self"
      ? `<p class="muted">This relay uses a self-signed certificate. A <code>dclogin:</code> link for a new profile comes from <code>POST https://${html(d)}/new</code> (field <code>dclogin_url</code>).</p>`
      : "";
  return page({
    domain: d,
    path: "/",
    title: `${d} chatmail relay`,
    body: `<h1>${html(d)}</h1>
<p>Welcome to instant, interoperable and privacy-preserving messaging. ${html(d)} is a chatmail relay: it stores and forwards end-to-end encrypted messages for <a href="https://delta.chat">Delta Chat</a> and other chatmail apps.</p>
<h2>Get a profile</h2>
<p>Install Delta Chat, then scan this code with it, or tap the button on the device where Delta Chat is installed.</p>
<a class="qr" href="${html(link)}">${svg}</a>
<p class="center"><a class="button" href="${html(link)}">Get a ${html(d)} profile</a></p>
${self}
<p>The relay creates an address with a random name for you. It never sees your messages in cleartext: only encrypted mail passes, apart from the messages that set up encryption.</p>
<p>See <a href="/info.html">limits and retention</a> and the <a href="/privacy.html">privacy policy</a>.</p>`,
  });
}

export function infoPage(config: Config): string {
  const d = config.mail_domain;
  const rows: Array<[string, string]> = [
    ["Largest message", bytes(config.max_message_size)],
    ["Storage per address", bytes(config.max_mailbox_size)],
    ["Messages are deleted after", days(config.delete_mails_after)],
    ["Read messages over 200 kB are deleted after", days(config.delete_large_after)],
    ["Addresses without a login are deleted after", days(config.delete_inactive_users_after)],
    [
      "Sending limit",
      `${config.max_user_send_per_minute} messages per minute (bursts of ${config.max_user_send_burst_size})`,
    ],
  ];
  const table = rows
    .map(([k, v]) => `<tr><th scope="row">${html(k)}</th><td>${html(v)}</td></tr>`)
    .join("\n");
  return page({
    domain: d,
    path: "/info.html",
    title: `${d}: limits and retention`,
    body: `<h1>Limits and retention</h1>
<p>${html(d)} keeps messages only until your devices have fetched them, and not longer than the times below.</p>
<table>
<caption class="muted">Settings of this relay</caption>
${table}
</table>
<h2>Only encrypted mail</h2>
<p>The relay accepts end-to-end encrypted messages (OpenPGP) and the few unencrypted messages that set up encryption between contacts. Other unencrypted mail is refused.</p>
<h2>When storage fills up</h2>
<p>When an address uses more than three quarters of its storage, the oldest messages are removed until it is back at 70 %. Messages younger than a day are kept.</p>`,
  });
}

function contact(label: string, value: string): string {
  if (!value.trim()) return "";
  return `<h3>${html(label)}</h3>\n<address>${html(value.trim())}</address>`;
}

export function privacyPage(config: Config): string {
  const d = config.mail_domain;
  const mail = config.privacy_mail.trim();
  const mailLine = mail ? `<p>Email: <a href="mailto:${html(mail)}">${html(mail)}</a></p>` : "";
  const contacts = [
    contact("Responsible for this service", config.privacy_postal),
    mailLine,
    contact("Data protection officer", config.privacy_pdo),
    contact("Supervisory authority", config.privacy_supervisor),
  ]
    .filter(Boolean)
    .join("\n");
  return page({
    domain: d,
    path: "/privacy.html",
    title: `${d}: privacy policy`,
    body: `<h1>Privacy policy</h1>
<p>${html(d)} is a chatmail relay. It is built to know as little about you as possible.</p>
<h2>What the relay stores</h2>
<ul>
<li>Your address, which has a random name, and a hash of your password.</li>
<li>The day of your last login, to delete addresses unused for ${days(config.delete_inactive_users_after)}.</li>
<li>Messages for you until your devices fetch them, at most ${days(config.delete_mails_after)}. They are end-to-end encrypted: the relay cannot read them.</li>
<li>If you allow notifications: an encrypted device token, used only to wake your device when a message arrives. It is deleted after 90 days without renewal.</li>
</ul>
<h2>What the relay does not store</h2>
<ul>
<li>No name, phone number or other personal details: none are asked for.</li>
<li>No IP addresses tied to your address. Your IP address is removed from the messages you send.</li>
<li>No contact lists and no message contents in cleartext.</li>
</ul>
<h2>Notifications</h2>
<p>To wake your device, the relay sends your encrypted device token, and nothing else, to the Delta Chat notification proxy, which forwards a wake-up signal through Apple's, Google's or another push service.</p>
<h2>Messages to other servers</h2>
<p>Messages you send to addresses on other servers are handed to those servers, encrypted.</p>
<h2>Your rights</h2>
<p>You can delete your data at any time by deleting your profile in the app and letting the address expire. For questions about your data, use the contacts below.</p>
<h2>Contact</h2>
${contacts || `<p class="muted">The operator of ${html(d)} has not published contact details.</p>`}`,
  });
}

export const ROBOTS_TXT = "User-agent: *\nDisallow: /\n";
