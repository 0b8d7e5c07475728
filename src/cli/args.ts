/**
 * The command line's words → options and positionals, with mistakes as one
 * polite line instead of node:util's exceptions. The lenient pass always yields
 * the positionals, so the caller can name an unknown command before an unknown
 * option (`chatrelay import --from x` is about "import", not "--from").
 */
import { type ParseArgsConfig, parseArgs } from "node:util";

export type OptionSpecs = NonNullable<ParseArgsConfig["options"]>;

export interface CommandLine {
  /** Option values by name (strings or true), only those given. */
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** The first mistake, e.g. `unknown option "--from"`; values are empty then. */
  error?: string;
}

export function parseCommandLine(argv: string[], options: OptionSpecs): CommandLine {
  const lenient = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  const positionals = lenient.positionals;
  for (const t of lenient.tokens) {
    if (t.kind !== "option") continue;
    const spec = Object.hasOwn(options, t.name) ? options[t.name] : undefined;
    if (spec === undefined) return { values: {}, positionals, error: `unknown option "${t.rawName}"` };
    if (spec.type === "string" && (t.value === undefined || (!t.inlineValue && t.value.startsWith("-")))) {
      return { values: {}, positionals, error: `option "${t.rawName}" needs a value` };
    }
    if (spec.type === "boolean" && t.value !== undefined) {
      return { values: {}, positionals, error: `option "${t.rawName}" takes no value` };
    }
  }
  try {
    const strict = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: strict.values as CommandLine["values"], positionals: strict.positionals };
  } catch (e) {
    // not reached after the checks above; kept so that no input ends in a stack trace
    return { values: {}, positionals, error: e instanceof Error ? e.message : String(e) };
  }
}
