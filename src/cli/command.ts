import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Where a command writes; tests pass buffers. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
}

/**
 * One `portier` command. `path` is the words that select it (`['token', 'verify']`). `run` returns the exit code;
 * it throws only for usage errors and failures, which main turns into one line on stderr and exit 1 (2 for usage).
 */
export interface Command {
  path: string[];
  summary: string;
  usage: string;
  options?: ParseArgsConfig['options'];
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
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...cmd.options },
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
