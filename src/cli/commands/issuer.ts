import { chmodSync, writeFileSync } from 'node:fs';
import closeWithGrace from 'close-with-grace';
import { createLogger } from '../../core/logger.js';
import { issuerJsonSchema, loadIssuerConfig } from '../../issuer/config.js';
import { type Command, configFileOption, str, UsageError } from '../command.js';

const configOption = configFileOption("the issuer's config file", '$PORTIER_ISSUER_CONFIG');

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
    // Loaded here: the gateway daemon (`portier run`) loads every command module and must not carry the issuer.
    const { startIssuer } = await import('../../issuer/service.js');
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

const issuerSticker: Command = {
  path: ['issuer', 'sticker'],
  summary: "Print a door's A6 sticker: the door page's QR code, its name and the ways in (SVG or PDF)",
  usage: 'DOOR --config FILE --out FILE.svg|FILE.pdf',
  options: {
    ...configOption,
    out: { type: 'string', arg: 'FILE', description: 'the sticker to write; .svg or .pdf chooses the format' },
  },
  async run(args, io) {
    const door = args.positionals[0];
    if (!door || args.positionals.length > 1) throw new UsageError('give one door id');
    const out = str(args, 'out');
    const format = /\.(svg|pdf)$/i.exec(out ?? '')?.[1]?.toLowerCase();
    if (!out || !format) throw new UsageError('give --out FILE.svg or --out FILE.pdf');
    const path = str(args, 'config') ?? io.env.PORTIER_ISSUER_CONFIG;
    if (!path) throw new UsageError('give --config FILE or set PORTIER_ISSUER_CONFIG');
    // The sticker's modules (pdf-lib, qrcode) are loaded only by this command, not by every CLI start.
    const { renderStickerSvg, stickerSpec } = await import('../../issuer/sticker.js');
    const spec = stickerSpec(loadIssuerConfig(path, io.env), door);
    const data =
      format === 'svg'
        ? renderStickerSvg(spec)
        : await (await import('../../issuer/sticker-pdf.js')).renderStickerPdf(spec);
    writeFileSync(out, data);
    chmodSync(out, 0o644); // a sticker is for the printer, not a secret (the CLI's umask is 077)
    io.out(`${out}: A6 sticker of ${door}, QR code of ${spec.url}`);
    return 0;
  },
};

export const issuerCommands: readonly Command[] = [issuerCommand, issuerSchema, issuerCheck, issuerSticker];
