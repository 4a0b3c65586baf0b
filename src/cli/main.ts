#!/usr/bin/env node
import { ConfigError } from '../config/load.js';
import { reasonOf } from '../core/errors.js';
import { type CliIo, type Command, parse, UsageError } from './command.js';
import { COMMANDS } from './commands/index.js';

/** Find the command whose path is the longest prefix of argv. */
export function findCommand(
  argv: string[],
  commands: readonly Command[] = COMMANDS,
): { cmd?: Command; rest: string[] } {
  let best: Command | undefined;
  for (const cmd of commands) {
    const matches = cmd.path.every((word, i) => argv[i] === word);
    if (matches && (!best || cmd.path.length > best.path.length)) best = cmd;
  }
  return best ? { cmd: best, rest: argv.slice(best.path.length) } : { rest: argv };
}

function overview(prefix: string[] = []): string {
  const list = COMMANDS.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const width = Math.max(...list.map((c) => c.path.join(' ').length));
  return [
    'usage: portier <command> [options]   (every command takes --help and --json)',
    '',
    ...list.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(overview());
    return argv.length === 0 ? 2 : 0;
  }
  const { cmd, rest } = findCommand(argv);
  if (!cmd) {
    const group = COMMANDS.some((c) => c.path[0] === argv[0]);
    io.err(
      group
        ? `portier: "${argv.join(' ')}" needs a subcommand\n${overview([argv[0]!])}`
        : `portier: unknown command "${argv[0]}" (try portier --help)`,
    );
    return 2;
  }
  try {
    const args = parse(cmd, rest);
    if (args.values.help) {
      io.out(`usage: portier ${cmd.path.join(' ')} ${cmd.usage}\n\n${cmd.summary}`);
      return 0;
    }
    return await cmd.run(args, io);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const usage = err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
    io.err(`portier ${cmd.path.join(' ')}: ${reasonOf(err).split('\n')[0]}`);
    // A config that fails validation lists every problem, one per line, after the one-line reason.
    if (err instanceof ConfigError) for (const p of err.problems) io.err(`  ${p}`);
    return usage ? 2 : 1;
  }
}
