#!/usr/bin/env node
import { ConfigError } from '../config/load.js';
import { reasonOf } from '../core/errors.js';
import { portierVersion } from '../core/package-root.js';
import { type CliIo, type Command, parse, UsageError } from './command.js';
import { COMMANDS } from './commands/index.js';
import { commandHelp, overview } from './help.js';

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

/** `portier help [COMMAND...]`: the overview, a group's commands, or one command's options. */
function help(words: string[], io: CliIo): number {
  if (words.length === 0) {
    io.out(overview(COMMANDS));
    return 0;
  }
  const { cmd, rest } = findCommand(words);
  if (cmd && rest.length === 0) {
    io.out(commandHelp(cmd));
    return 0;
  }
  if (!cmd && words.length === 1 && COMMANDS.some((c) => c.path[0] === words[0])) {
    io.out(overview(COMMANDS, words));
    return 0;
  }
  io.err(`portier help: unknown command "${words.join(' ')}" (try portier --help)`);
  return 2;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0) {
    io.out(overview(COMMANDS));
    return 2;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    io.out(`portier ${portierVersion()}`);
    return 0;
  }
  if (argv[0] === '--help' || argv[0] === '-h') {
    io.out(overview(COMMANDS));
    return 0;
  }
  if (argv[0] === 'help') return help(argv.slice(1), io);
  const { cmd, rest } = findCommand(argv);
  if (!cmd) {
    const group = COMMANDS.some((c) => c.path[0] === argv[0]);
    // `portier token --help`: the group's commands, as asked.
    if (group && (argv[1] === '--help' || argv[1] === '-h')) {
      io.out(overview(COMMANDS, [argv[0]!]));
      return 0;
    }
    io.err(
      group
        ? `portier: "${argv.join(' ')}" needs a subcommand\n${overview(COMMANDS, [argv[0]!])}`
        : `portier: unknown command "${argv[0]}" (try portier --help)`,
    );
    return 2;
  }
  try {
    // --help wins over everything else on the line, even a missing value or an unknown option.
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(commandHelp(cmd));
      return 0;
    }
    const args = parse(cmd, rest);
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
