/** The typed syntax tree the command parser produces (RFC 3501 §6, RFC 9051 §6 and extensions). */
import type { SequenceSet } from "./sequence.ts";

/** RFC 3501 §6.4.5 section-spec: part path, then an optional text specifier. */
export interface Section {
  /** [] = the whole message; [1, 2] = "1.2". */
  part: number[];
  text: "HEADER" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" | "TEXT" | "MIME" | null;
  /** Field names for HEADER.FIELDS[.NOT], as sent. */
  fields: string[];
}

export type FetchAtt =
  | {
      kind:
        | "UID"
        | "FLAGS"
        | "INTERNALDATE"
        | "RFC822.SIZE"
        | "ENVELOPE"
        | "BODYSTRUCTURE"
        | "BODY"
        | "RFC822"
        | "RFC822.HEADER"
        | "RFC822.TEXT";
    }
  | {
      kind: "BODY[]";
      peek: boolean;
      section: Section;
      partial: { offset: number; length: number } | null;
    };

export type SearchKey =
  | { op: "all" }
  | { op: "flag"; flag: string; present: boolean }
  | { op: "new" }
  | { op: "old" }
  | { op: "recent" }
  | { op: "header"; field: string; value: string }
  | { op: "body"; value: string }
  | { op: "text"; value: string }
  | { op: "date"; sent: boolean; cmp: "before" | "on" | "since"; day: number }
  | { op: "size"; larger: boolean; n: number }
  | { op: "uid"; set: SequenceSet }
  | { op: "seq"; set: SequenceSet }
  | { op: "not"; key: SearchKey }
  | { op: "or"; a: SearchKey; b: SearchKey }
  | { op: "and"; keys: SearchKey[] };

export interface ListCommand {
  name: "LIST";
  /** RFC 5258 selection options, upper-cased. */
  select: string[];
  reference: string;
  patterns: string[];
  /** RFC 5258 return options, upper-cased. */
  returns: string[];
  /** Whether the RFC 5258 extended syntax was used (selection options or RETURN or several patterns). */
  extended: boolean;
}

export interface MetadataOptions {
  maxSize: number | null;
  depth: "0" | "1" | "infinity";
}

export type Command =
  | {
      name:
        | "CAPABILITY"
        | "NOOP"
        | "LOGOUT"
        | "STARTTLS"
        | "CHECK"
        | "CLOSE"
        | "UNSELECT"
        | "EXPUNGE"
        | "IDLE"
        | "NAMESPACE";
    }
  | { name: "AUTHENTICATE"; mechanism: string; initial: string | null }
  | { name: "LOGIN"; user: string; password: string }
  | { name: "SELECT" | "EXAMINE"; mailbox: string }
  | { name: "CREATE" | "DELETE" | "SUBSCRIBE" | "UNSUBSCRIBE"; mailbox: string }
  | { name: "RENAME"; from: string; to: string }
  | ListCommand
  | { name: "LSUB"; reference: string; pattern: string }
  | { name: "STATUS"; mailbox: string; items: string[] }
  | { name: "APPEND"; mailbox: string; flags: string[]; date: number | null; data: Buffer }
  | { name: "SEARCH"; uid: boolean; charset: string | null; key: SearchKey; returns: string[] | null }
  | { name: "FETCH"; uid: boolean; set: SequenceSet; atts: FetchAtt[]; macro: boolean }
  | {
      name: "STORE";
      uid: boolean;
      set: SequenceSet;
      mode: "add" | "remove" | "replace";
      silent: boolean;
      flags: string[];
    }
  | { name: "COPY" | "MOVE"; uid: boolean; set: SequenceSet; mailbox: string }
  | { name: "UID EXPUNGE"; set: SequenceSet }
  | { name: "ID"; params: Array<[string, string | null]> | null }
  | { name: "ENABLE"; capabilities: string[] }
  | { name: "GETQUOTAROOT"; mailbox: string }
  | { name: "GETQUOTA"; root: string }
  | { name: "SETQUOTA"; root: string }
  | { name: "GETMETADATA"; options: MetadataOptions; mailbox: string; entries: string[] }
  | { name: "SETMETADATA"; mailbox: string; entries: Array<[string, Buffer | null]> }
  | { name: "COMPRESS"; mechanism: string };

export type CommandName = Command["name"];

export type ParseResult =
  | { ok: true; tag: string; command: Command }
  /** `tag` is null when even the tag could not be read; the answer is then "* BAD". */
  | { ok: false; tag: string | null; error: string };
