#!/usr/bin/env node
import { reasonOf } from '../core/errors.js';
import type { CliIo } from './command.js';
import { main } from './main.js';

// Everything the daemon and the CLI write (database, tokens, keys, PIN secrets, backups) is the user's alone,
// whatever umask the shell, the demo or a service manager gave us; files that must be shared are made so on purpose.
process.umask(0o077);

const io: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`portier: ${reasonOf(err)}\n`);
    process.exitCode = 1;
  },
);
