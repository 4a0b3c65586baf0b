import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Where a command writes; tests pass buffers. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
}

/** One option of a command, as parseArgs reads it and as `--help` lists it. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** One line for `--help`. */
  description: string;
  /** The value's placeholder in `--help` (FILE, ID, N); string options only. */
  arg?: string;
  /** What applies when the option is not given, as `--help` shows it (the command applies it itself). */
  default?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** `--config FILE` (`-c`): the config file a command reads, with what it reads it for and where it looks without. */
export function configFileOption(description = 'the gateway config file', fallback = '$PORTIER_CONFIG'): OptionSpecs {
  return { config: { type: 'string', short: 'c', arg: 'FILE', description, default: fallback } };
}

/** The options every command takes. */
export const COMMON_OPTIONS: OptionSpecs = {
  json: { type: 'boolean', description: 'print the result as JSON (one object per line)' },
  help: { type: 'boolean', short: 'h', description: 'show this help and exit' },
};

/**
 * One `portier` command. `path` is the words that select it (`['token', 'verify']`). `run` returns the exit code;
 * it throws only for usage errors and failures, which main turns into one line on stderr and exit 1 (2 for usage).
 */
export interface Command {
  path: string[];
  summary: string;
  usage: string;
  options?: OptionSpecs;
  run(args: ParsedArgs, io: CliIo): Promise<number> | number;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parse(cmd: Command, argv: string[]): ParsedArgs {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, o] of Object.entries({ ...COMMON_OPTIONS, ...cmd.options })) {
    options[name] = {
      type: o.type,
      ...(o.short === undefined ? {} : { short: o.short }),
      ...(o.multiple === undefined ? {} : { multiple: o.multiple }),
    };
  }
  const { values, positionals } = parseArgs({
    args: argv,
    options,
    allowPositionals: true,
    strict: true,
  });
  return { values: values as ParsedArgs['values'], positionals };
}

/** A string option, or undefined. */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Print either JSON (with --json) or the human text. */
export function output(io: CliIo, args: ParsedArgs, value: unknown, human: () => string): void {
  if (args.values.json) io.out(JSON.stringify(value));
  else io.out(human());
}
