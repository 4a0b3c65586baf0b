import closeWithGrace from 'close-with-grace';
import { createLogger } from '../../core/logger.js';
import { issuerJsonSchema, loadIssuerConfig } from '../../issuer/config.js';
import { startIssuer } from '../../issuer/service.js';
import { type Command, str, UsageError } from '../command.js';

const configOption = {
  config: {
    type: 'string' as const,
    short: 'c',
    arg: 'FILE',
    description: "the issuer's config file",
    default: '$PORTIER_ISSUER_CONFIG',
  },
};

/** `portier issuer`: the town's pass issuer (door pages, JSON API, SMS webhook), until SIGTERM/SIGINT. */
export const issuerCommand: Command = {
  path: ['issuer'],
  summary: 'Run the pass issuer: door pages behind the stickers, a JSON API and an SMS webhook (docs/issuer.md)',
  usage: '--config FILE   (or PORTIER_ISSUER_CONFIG)',
  options: configOption,
  async run(args, io) {
    const path = str(args, 'config') ?? io.env.PORTIER_ISSUER_CONFIG;
    if (!path) throw new UsageError('give --config FILE or set PORTIER_ISSUER_CONFIG');
    const cfg = loadIssuerConfig(path, io.env);
    const log = createLogger({ level: cfg.log.level });
    const running = await startIssuer(cfg, log);
    await new Promise<void>((resolve) => {
      closeWithGrace({ delay: 4000 }, async ({ signal }) => {
        log.info({ signal }, 'issuer stopping');
        await running.close();
        resolve();
      });
    });
    return 0;
  },
};

const issuerSchema: Command = {
  path: ['issuer', 'schema'],
  summary: "Print the JSON Schema of the issuer's config file (config/issuer.schema.json)",
  usage: '',
  run(_args, io) {
    io.out(JSON.stringify(issuerJsonSchema(), null, 2));
    return 0;
  },
};

const issuerCheck: Command = {
  path: ['issuer', 'check'],
  summary: 'Validate an issuer config file and list every problem',
  usage: '--config FILE',
  options: configOption,
  run(args, io) {
    const path = str(args, 'config') ?? io.env.PORTIER_ISSUER_CONFIG;
    if (!path) throw new UsageError('give --config FILE or set PORTIER_ISSUER_CONFIG');
    const cfg = loadIssuerConfig(path, io.env);
    io.out(`${path}: ok (${cfg.doors.length} door(s))`);
    return 0;
  },
};

export const issuerCommands: readonly Command[] = [issuerCommand, issuerSchema, issuerCheck];
