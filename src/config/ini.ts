/**
 * An ini parser that follows Python's configparser (the reference relay's
 * operators write their chatmail.ini for it) with the settings of
 * `RawConfigParser(strict=True)`:
 *
 * - `[name]` starts a section; everything up to the LAST `]` is the name, text
 *   after it is ignored (configparser's SECTCRE is anchored at the start only).
 * - `key = value` / `key: value`: the first `=` or `:` splits; the key is
 *   lower-cased (optionxform), key and value are stripped.
 * - A line whose stripped text starts with `#` or `;` is a comment, also when
 *   indented. Inline comments are NOT removed: `a = 1 # x` has the value `1 # x`.
 * - A line indented deeper than the line that started the current option
 *   continues its value (joined with "\n"). Empty lines are kept inside a value
 *   (empty_lines_in_values=True) and do not end it; trailing ones are dropped.
 * - `[DEFAULT]` is an ordinary header here (configparser's special default
 *   section); it may appear more than once. Every other section name only once,
 *   every key once per section (strict=True).
 *
 * Errors: configparser raises a missing section header, a duplicate section or
 * a duplicate option at once; other bad lines are collected and reported after
 * the whole file was read, so a later duplicate wins over an earlier bad line.
 * We report the same error (kind and line) that configparser would raise.
 */

export interface IniEntry {
  value: string;
  /** 1-based line of the `key = value` line. */
  line: number;
}

export interface IniDocument {
  /** Sections in file order; keys in file order. */
  sections: Map<string, Map<string, IniEntry>>;
  /** 1-based line of the first header of each section. */
  sectionLines: Map<string, number>;
}

export type IniErrorKind =
  | "missing-section-header"
  | "duplicate-section"
  | "duplicate-option"
  | "invalid-line";

/** A syntax error. Returned, never thrown. */
export class IniSyntaxError extends Error {
  override readonly name = "IniSyntaxError";
  constructor(
    readonly kind: IniErrorKind,
    /** 1-based line number */
    readonly line: number,
    /** What is wrong, without the line number. */
    readonly reason: string,
    /** The option, for duplicate-option. */
    readonly key?: string,
  ) {
    super(`line ${line}: ${key === undefined ? "" : `${key}: `}${reason}`);
  }
}

/** The default section of configparser. */
export const DEFAULT_SECTION = "DEFAULT";

// Python's str.isspace() / re `\s` for str patterns.
const PY_SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const LEADING_SPACE = new RegExp(`^[${PY_SPACE}]+`);
// One character; trailing space is trimmed by a loop, as `[...]+$` backtracks quadratically.
const SPACE_CHAR = new RegExp(`^[${PY_SPACE}]$`);
const NON_SPACE = new RegExp(`[^${PY_SPACE}]`);
// SECTCRE: r"\[(?P<header>.+)\]" with re.match; `.` is anything but "\n".
const SECTION_HEADER = /^\[([^\n]+)\]/;

export function pyStrip(s: string): string {
  return pyRstrip(s.replace(LEADING_SPACE, ""));
}

function pyRstrip(s: string): string {
  let end = s.length;
  while (end > 0 && SPACE_CHAR.test(s[end - 1]!)) end--;
  return s.slice(0, end);
}

/** Lines as Python's universal-newlines reading yields them (\n, \r\n and \r end a line). */
function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function show(line: string): string {
  const s = pyStrip(line);
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

export function parseIni(text: string): IniDocument | IniSyntaxError {
  const sections = new Map<string, Map<string, IniEntry>>();
  const sectionLines = new Map<string, number>();
  // Values are collected as lists of lines and joined at the end.
  const pending = new Map<string, Map<string, { parts: string[]; line: number }>>();
  const seenKeys = new Set<string>(); // `${section}\n${key}`
  let cursect: Map<string, { parts: string[]; line: number }> | undefined;
  let sectname = "";
  let optname: string | undefined;
  let indentLevel = 0;
  let firstBadLine: IniSyntaxError | undefined;

  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const lineno = i + 1;
    const raw = lines[i]!;
    const value = pyStrip(raw);
    const isComment = value.startsWith("#") || value.startsWith(";");
    if (isComment || value === "") {
      // An empty line (not a comment) becomes part of the current value.
      if (!isComment && cursect !== undefined && optname) cursect.get(optname)!.parts.push("");
      continue;
    }
    const firstNonSpace = raw.search(NON_SPACE);
    const curIndent = Math.max(firstNonSpace, 0);
    if (cursect !== undefined && optname && curIndent > indentLevel) {
      cursect.get(optname)!.parts.push(value);
      continue;
    }
    indentLevel = curIndent;
    const header = SECTION_HEADER.exec(value);
    if (header) {
      sectname = header[1]!;
      if (sectname === DEFAULT_SECTION) {
        if (!pending.has(sectname)) {
          pending.set(sectname, new Map());
          sectionLines.set(sectname, lineno);
        }
      } else if (pending.has(sectname)) {
        return new IniSyntaxError(
          "duplicate-section",
          lineno,
          `duplicate section [${sectname}] (first at line ${sectionLines.get(sectname)})`,
        );
      } else {
        pending.set(sectname, new Map());
        sectionLines.set(sectname, lineno);
      }
      cursect = pending.get(sectname)!;
      optname = undefined;
      continue;
    }
    if (cursect === undefined) {
      return new IniSyntaxError(
        "missing-section-header",
        lineno,
        `${show(raw)} comes before any [section] header`,
      );
    }
    const delim = value.search(/[=:]/);
    if (delim < 0) {
      firstBadLine ??= new IniSyntaxError(
        "invalid-line",
        lineno,
        `expected "key = value", "key: value" or "[section]", got ${show(raw)}`,
      );
      continue;
    }
    const name = pyRstrip(value.slice(0, delim));
    if (name === "") {
      firstBadLine ??= new IniSyntaxError(
        "invalid-line",
        lineno,
        `missing option name before "${value[delim]}" in ${show(raw)}`,
      );
    }
    optname = name.toLowerCase();
    const seen = `${sectname}\n${optname}`;
    if (seenKeys.has(seen)) {
      return new IniSyntaxError(
        "duplicate-option",
        lineno,
        `duplicate option in [${sectname}] (first at line ${cursect.get(optname)!.line})`,
        optname,
      );
    }
    seenKeys.add(seen);
    cursect.set(optname, { parts: [pyStrip(value.slice(delim + 1))], line: lineno });
  }
  if (firstBadLine) return firstBadLine;
  for (const [name, options] of pending) {
    const joined = new Map<string, IniEntry>();
    for (const [key, { parts, line }] of options)
      joined.set(key, { value: pyRstrip(parts.join("\n")), line });
    sections.set(name, joined);
  }
  return { sections, sectionLines };
}
