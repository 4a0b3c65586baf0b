import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { createBackup, restoreBackup } from '../../app/backup.js';
import { runtimeDirectories } from '../../store/crash-journal.js';
import { type CliIo, type Command, output, type ParsedArgs, str, UsageError } from '../command.js';
import { guarded, stateDirOption } from './keys.js';

const configDirOption = {
  'config-dir': {
    type: 'string' as const,
    arg: 'DIR',
    description: 'the config directory to back up or restore into',
    default: 'the directory of $PORTIER_CONFIG, else /etc/portier if it exists',
  },
};

function stateDirOf(args: ParsedArgs, io: CliIo): string {
  const dir = str(args, 'state-dir') ?? io.env.PORTIER_STATE_DIR;
  if (!dir) throw new UsageError('give --state-dir DIR or set PORTIER_STATE_DIR');
  return dir;
}

function configDirOf(args: ParsedArgs, io: CliIo): string | undefined {
  const given = str(args, 'config-dir');
  if (given) return given;
  if (io.env.PORTIER_CONFIG) return dirname(io.env.PORTIER_CONFIG);
  return existsSync('/etc/portier') ? '/etc/portier' : undefined;
}

function oneFile(args: ParsedArgs): string {
  const file = args.positionals[0];
  if (!file || args.positionals.length > 1) throw new UsageError('give one backup FILE');
  return file;
}

const backup: Command = {
  path: ['backup'],
  summary: 'Back up the database (online, the daemon keeps running), admin token and config into one 0600 file',
  usage: 'FILE [--state-dir DIR] [--config-dir DIR] [--journal-dir DIR] [--json]',
  options: { ...stateDirOption, ...configDirOption },
  async run(args, io) {
    const dest = oneFile(args);
    const configDir = configDirOf(args, io);
    const res = await createBackup({ stateDir: stateDirOf(args, io), dest, ...(configDir ? { configDir } : {}) });
    output(io, args, res, () =>
      [
        `wrote ${res.file} (${res.bytes} bytes, mode 0600)`,
        ...res.files.map((f) => `  ${f.role} ${f.name} ${f.bytes} bytes`),
      ].join('\n'),
    );
    return 0;
  },
};

/** systemd/portier.service's RuntimeDirectory=portier: where the daemon's crash journal lives under systemd. */
const UNIT_RUNTIME_DIR = '/run/portier';

const restore: Command = {
  path: ['restore'],
  summary:
    'Restore a backup into the state directory (daemon stopped); the old state is kept aside, a new log epoch starts',
  usage: 'FILE [--state-dir DIR] [--config-dir DIR] [--json]',
  options: {
    ...stateDirOption,
    'config-dir': {
      type: 'string',
      arg: 'DIR',
      description:
        "also restore the backup's config files into DIR (files replaced are kept as NAME.before-restore-TIME)",
    },
    'journal-dir': {
      type: 'string',
      arg: 'DIR',
      description: `the gateway's crash_journal_dir when it is set (${UNIT_RUNTIME_DIR} and $RUNTIME_DIRECTORY are always looked in)`,
    },
  },
  run(args, io) {
    const file = oneFile(args);
    const configDir = str(args, 'config-dir');
    const journal = str(args, 'journal-dir');
    const journalDirs = [...(journal ? [journal] : []), ...runtimeDirectories(io.env), UNIT_RUNTIME_DIR];
    const res = restoreBackup({
      file,
      stateDir: stateDirOf(args, io),
      journalDirs,
      ...(configDir ? { configDir } : {}),
    });
    output(io, args, res, () =>
      [
        `restored the backup of ${res.created} into ${res.stateDir}`,
        res.keptAside ? `  the state it replaced is kept in ${res.keptAside}` : '  (there was no state to keep aside)',
        ...res.configKeptAside.map((p) => `  config file kept as ${p}`),
        ...res.journalsKeptAside.map((p) => `  its crash journal (events not yet committed) kept as ${p}`),
        `  the next start begins a new log epoch (alarm log_epoch_started, reason ${res.epochReason})`,
      ].join('\n'),
    );
    return 0;
  },
};

export const backupCommands: readonly Command[] = [backup, restore].map(guarded);
