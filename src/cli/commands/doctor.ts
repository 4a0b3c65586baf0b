import { builtinDrivers } from '../../../devices/index.js';
import {
  type CheckResult,
  checkClock,
  checkCloudBroker,
  checkDisk,
  checkHealthz,
  checkJournalDir,
  checkLocalBroker,
  checkNode,
  checkSecretFiles,
  checkStateDir,
  checkUnit,
} from '../../app/doctor.js';
import { loadConfigFile } from '../../config/load.js';
import { reasonOf } from '../../core/errors.js';
import { type Command, configFileOption, str } from '../command.js';

const DEFAULT_CONFIG = '/etc/portier/portier.yaml';

/** `portier doctor`: check a live install, one line per check, exit 1 when any fails. */
export const doctorCommand: Command = {
  path: ['doctor'],
  summary:
    'Check a live install (Node, clock sync, disk, permissions, brokers, /healthz, unit hardening); exit 1 on a fail',
  usage: '[--config FILE] [--json]',
  options: configFileOption('the gateway config file', `$PORTIER_CONFIG, else ${DEFAULT_CONFIG}`),
  async run(args, io) {
    const path = str(args, 'config') || io.env.PORTIER_CONFIG || DEFAULT_CONFIG;
    const results: CheckResult[] = [checkNode()];
    try {
      const { config } = loadConfigFile(path, builtinDrivers(), io.env);
      results.push({ check: 'config', status: 'ok', detail: `${path} is valid` });
      const stateDir = io.env.PORTIER_STATE_DIR || config.gateway.state_dir;
      results.push(
        checkClock(config.gateway.trust_system_clock),
        checkDisk(stateDir, config.gateway.disk_min_free_bytes),
        checkStateDir(stateDir),
        checkJournalDir(config.gateway.crash_journal_dir, stateDir),
        checkSecretFiles(config),
        ...(await Promise.all([checkLocalBroker(config), checkCloudBroker(config), checkHealthz(config)])),
        checkUnit(),
      );
    } catch (err) {
      results.push({
        check: 'config',
        status: 'fail',
        detail: `${path}: ${reasonOf(err).split('\n')[0]}`,
        fix: `portier config check --config ${path}`,
      });
    }
    const failed = results.filter((c) => c.status === 'fail').length;
    if (args.values.json) {
      for (const c of results) io.out(JSON.stringify(c));
    } else {
      const width = Math.max(...results.map((c) => c.check.length));
      for (const c of results) {
        io.out(`${c.status.padEnd(7)} ${c.check.padEnd(width)}  ${c.detail}`);
        if (c.fix && c.status !== 'ok') io.out(`${''.padEnd(8 + width)}  fix: ${c.fix}`);
      }
      io.out(failed ? `${failed} check(s) failed` : 'no check failed');
    }
    return failed ? 1 : 0;
  },
};
