/**
 * Client and MTA discovery documents (docs/reference-relay.md §5.3): Thunderbird autoconfig
 * (read by chatmail/core src/configure/auto_mozilla.rs) and the MTA-STS policy (RFC 8461 §3.2).
 */
import type { Config } from "../config/types.ts";
import { type PortsSource, publicPort } from "./ports.ts";

export function xmlEscape(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function server(
  kind: "incomingServer" | "outgoingServer",
  type: string,
  host: string,
  port: number,
  socket: string,
) {
  return [
    `    <${kind} type="${type}">`,
    `      <hostname>${xmlEscape(host)}</hostname>`,
    `      <port>${port}</port>`,
    `      <socketType>${socket}</socketType>`,
    "      <authentication>password-cleartext</authentication>",
    "      <username>%EMAILADDRESS%</username>",
    `    </${kind}>`,
  ].join("\n");
}

/** /.well-known/autoconfig/mail/config-v1.1.xml: IMAP 993/143/443, SMTP 465/587/443 (the public ports). */
export function autoconfigXml(config: Config, live?: PortsSource): string {
  const d = config.mail_domain;
  const port = (name: Parameters<typeof publicPort>[1]) => publicPort(config, name, live);
  const servers: string[] = [];
  const add = (
    kind: "incomingServer" | "outgoingServer",
    type: string,
    p: number | undefined,
    socket: string,
  ) => {
    if (p !== undefined) servers.push(server(kind, type, d, p, socket));
  };
  add("incomingServer", "imap", port("imaps"), "SSL");
  add("incomingServer", "imap", port("imap"), "STARTTLS");
  add("incomingServer", "imap", port("https"), "SSL");
  add("outgoingServer", "smtp", port("submissions"), "SSL");
  add("outgoingServer", "smtp", port("submission"), "STARTTLS");
  add("outgoingServer", "smtp", port("https"), "SSL");
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${xmlEscape(d)}">`,
    `    <domain>${xmlEscape(d)}</domain>`,
    `    <displayName>${xmlEscape(d)} chatmail</displayName>`,
    `    <displayShortName>${xmlEscape(d)}</displayShortName>`,
    ...servers,
    "  </emailProvider>",
    "</clientConfig>",
    "",
  ].join("\n");
}

/** Seconds an MTA caches the policy: 4 weeks, as the reference relay. */
export const MTA_STS_MAX_AGE = 2419200;

export function mtaStsPolicy(config: Config): string {
  return `version: STSv1\nmode: enforce\nmx: ${config.mail_domain}\nmax_age: ${MTA_STS_MAX_AGE}\n`;
}
