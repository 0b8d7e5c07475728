// RFC 5322 §3.4 address-list parser for ENVELOPE, as lenient as Dovecot's
// message-address.c with MESSAGE_ADDRESS_PARSE_FLAG_FILL_MISSING: broken
// addresses still produce an entry, with MISSING_MAILBOX / MISSING_DOMAIN /
// SYNTAX_ERROR / INVALID_ROUTE filled in. Groups follow RFC 3501 §7.4.2:
// a start entry (mailbox = group name, domain NIL) and an all-NIL end entry.

import { Rfc822Parser, Str } from "./rfc822.ts";

export interface EnvelopeAddress {
  name: string | null;
  route: string | null;
  mailbox: string | null;
  domain: string | null;
}

class AddressParser {
  readonly p: Rfc822Parser;
  readonly list: EnvelopeAddress[] = [];
  addr: EnvelopeAddress = { name: null, route: null, mailbox: null, domain: null };
  invalid = false;
  str = new Str();

  constructor(value: string) {
    this.p = new Rfc822Parser(value, true);
  }

  private add(): void {
    this.list.push(this.addr);
    this.addr = { name: null, route: null, mailbox: null, domain: null };
    this.invalid = false;
  }

  private addFixed(): void {
    if (this.addr.mailbox === null) this.addr.mailbox = "MISSING_MAILBOX";
    if (this.addr.domain === null || this.addr.domain === "") this.addr.domain = "MISSING_DOMAIN";
    this.add();
  }

  private localPart(): number {
    this.str = new Str();
    const ret = this.p.c() === 0x22 ? this.p.quotedString(this.str) : this.p.dotAtom(this.str);
    if (ret < 0) return -1;
    this.addr.mailbox = this.str.v;
    return ret;
  }

  private domain(): number {
    const s = new Str();
    const ret = this.p.domain(s);
    if (ret < 0) return -1;
    this.addr.domain = s.v;
    return ret;
  }

  /** obs-domain-list = "@" domain *(*(CFWS / ",") [CFWS] "@" domain) */
  private domainList(): number {
    const s = new Str();
    const p = this.p;
    for (;;) {
      if (p.pos >= p.end) return 0;
      if (p.c() !== 0x40) break;
      if (s.v.length > 0) s.v += ",";
      s.v += "@";
      const ret = p.domain(s);
      if (ret <= 0) return ret;
      while (p.skipLwsp() > 0 && p.c() === 0x2c) p.pos++;
    }
    this.addr.route = s.v;
    return 1;
  }

  /** "<" [ "@" route ":" ] local-part "@" domain ">" */
  private angleAddr(): number {
    const p = this.p;
    p.pos++;
    if (p.skipLwsp() <= 0) return -1;
    if (p.c() === 0x40) {
      if (this.domainList() > 0 && p.c() === 0x3a) {
        p.pos++;
      } else {
        this.addr.route = "INVALID_ROUTE";
        if (p.pos >= p.end) return -1;
      }
      if (p.skipLwsp() <= 0) return -1;
    }
    if (p.c() !== 0x3e) {
      if (this.localPart() <= 0) return -1;
      if (p.c() === 0x40 && this.domain() <= 0) return -1;
    }
    if (p.c() !== 0x3e) return -1;
    p.pos++;
    return p.skipLwsp();
  }

  private nameAddr(): number {
    const p = this.p;
    const s = new Str();
    if (p.phrase(s) <= 0 || p.c() !== 0x3c) return -1;
    this.addr.name = s.v === "" ? null : s.v;
    if (this.angleAddr() < 0) {
      this.addr.domain = "SYNTAX_ERROR";
      this.invalid = true;
    }
    return p.pos < p.end ? 1 : 0;
  }

  private addrSpec(): number {
    const p = this.p;
    p.lastComment = "";
    const quoted = p.c() === 0x22;
    let ret = this.localPart();
    if (ret <= 0) this.invalid = true;
    let ret2 = -2;
    if (ret !== 0 && p.pos < p.end && p.c() === 0x40) {
      ret2 = this.domain();
      if (ret2 <= 0) ret = ret2;
    }
    if (p.lastComment !== null && p.lastComment.length > 0) {
      this.addr.name = p.lastComment;
    } else if (ret2 === -2) {
      // A lone "user" is a mailbox, but "user more words" is a display-name.
      this.str.v += " ";
      const before = this.str.v.length;
      p.phrase(this.str);
      if (this.str.v.length !== before) {
        this.addr.mailbox = null;
        this.addr.name = this.str.v;
      } else if (!quoted) {
        this.addr.domain = "";
      }
      this.invalid = true;
      ret = -1;
    }
    return ret;
  }

  private mailbox(): number {
    const p = this.p;
    const start = p.pos;
    let ret = this.nameAddr();
    if (ret < 0) {
      p.pos = start;
      ret = this.addrSpec();
      const a = this.addr;
      if (this.invalid && a.name === null && a.mailbox !== null && a.domain === null) {
        a.name = a.mailbox;
        a.mailbox = null;
      }
    }
    this.addFixed();
    return ret;
  }

  /** group = display-name ":" [mailbox-list / CFWS] ";" [CFWS] */
  private group(): number {
    const p = this.p;
    const s = new Str();
    if (p.phrase(s) <= 0 || p.c() !== 0x3a) return -1;
    p.pos++;
    let ret = p.skipLwsp();
    this.addr.mailbox = s.v;
    this.add();
    if (ret > 0 && p.c() !== 0x3b) {
      for (;;) {
        this.mailbox();
        if (p.pos >= p.end || p.c() !== 0x2c) break;
        p.pos++;
        if (p.skipLwsp() <= 0) {
          ret = -1;
          break;
        }
      }
    }
    if (ret >= 0) {
      if (p.pos >= p.end || p.c() !== 0x3b) ret = -1;
      else {
        p.pos++;
        ret = p.skipLwsp();
      }
    }
    this.add();
    return ret === 0 ? 0 : 1;
  }

  private address(): number {
    const start = this.p.pos;
    let ret = this.group();
    if (ret < 0) {
      this.p.pos = start;
      ret = this.mailbox();
    }
    return ret;
  }

  parse(): EnvelopeAddress[] {
    const p = this.p;
    if (p.skipLwsp() <= 0) return this.list;
    for (;;) {
      if (this.address() === 0) break;
      if (p.pos >= p.end || p.c() !== 0x2c) break;
      p.pos++;
      const ret = p.skipLwsp();
      if (ret <= 0) {
        if (ret < 0) this.addFixed(); // ends with some garbage
        break;
      }
    }
    return this.list;
  }
}

/** Parses an address header value (binary string); empty list when there is none. */
export function parseAddressList(value: string): EnvelopeAddress[] {
  return new AddressParser(value).parse();
}
