import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtinDrivers } from '../../../devices/index.js';
import { loadConfigFile } from '../../config/load.js';
import { ErrorCode, PortierError } from '../../core/errors.js';
import { DB_FILE } from '../../store/database.js';
import { type LaneStatus, readOutboxStatusAt } from '../../store/outbox-status.js';
import { type Command, configFileOption, output, str } from '../command.js';

/** Where the database is: --state-dir, then PORTIER_STATE_DIR, then the config's gateway.state_dir. */
function stateDirOf(args: Parameters<Command['run']>[0], env: NodeJS.ProcessEnv): string {
  const dir = str(args, 'state-dir') ?? env.PORTIER_STATE_DIR;
  if (dir) return dir;
  const config = str(args, 'config') ?? env.PORTIER_CONFIG;
  if (config) return loadConfigFile(config, builtinDrivers(), env).config.gateway.state_dir;
  return '/var/lib/portier';
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function fmtAge(s: number | null): string {
  if (s === null) return '-';
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}

const status: Command = {
  path: ['outbox', 'status'],
  summary: 'What the cloud has not acknowledged yet: per lane the count, the oldest age and the bytes',
  usage: '[--state-dir DIR | --config FILE] [--json]',
  options: {
    'state-dir': {
      type: 'string',
      arg: 'DIR',
      description: "the gateway's state directory",
      default: "$PORTIER_STATE_DIR, else the config's gateway.state_dir, else /var/lib/portier",
    },
    ...configFileOption('read the state directory from this config'),
  },
  run(args, io) {
    const dir = stateDirOf(args, io.env);
    const path = join(dir, DB_FILE);
    if (!existsSync(path)) throw new PortierError(ErrorCode.ConfigNotFound, `no database at ${path}`);
    const s = readOutboxStatusAt(path, Date.now());
    output(io, args, s, () => {
      const row = (name: string, l: LaneStatus) =>
        `  ${name.padEnd(10)} ${String(l.count).padStart(10)}  ${fmtAge(l.oldest_age_s).padStart(9)}  ${fmtBytes(l.bytes).padStart(10)}`;
      const shed = Object.entries(s.shed).flatMap(([lane, by]) =>
        Object.entries(by).map(([policy, n]) => `${lane} ${policy} ${n}`),
      );
      return [
        `outbox of ${path}`,
        `  ${'lane'.padEnd(10)} ${'events'.padStart(10)}  ${'oldest'.padStart(9)}  ${'bytes'.padStart(10)}`,
        ...Object.entries(s.lanes).map(([name, l]) => row(name, l)),
        row('total', s.total),
        `  database pages in use: ${fmtBytes(s.used_bytes)}`,
        `  shed under the disk budget: ${shed.length ? shed.join(', ') : 'none'}`,
      ].join('\n');
    });
    return 0;
  },
};

export const outboxCommands: readonly Command[] = [status];
