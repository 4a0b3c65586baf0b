import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import type { SerialLink } from '../../src/core/links.js';

/** bytes: a PT1 pass in a QR code is a few hundred characters; 2 KB leaves room and stops a flood. */
export const QR_MAX_LINE = 2048;

export const serialQrConfig = z
  .object({
    /** Prefer /dev/serial/by-id/... so a replugged scanner keeps its name. */
    path: z.string().min(1),
    baud_rate: z.number().int().positive().default(9600),
    /** The lock this reader stands at: a granted pass opens it. */
    lock: z.string().min(1),
    /** ms with no byte before the link is checked by reopening; 0 = off (scanners are silent when idle) */
    idle_timeout_ms: z.number().int().min(0).default(0),
  })
  .strict();

// Printable ASCII only: every accepted pass form (PT1 base45, base64url, hex, JWT) is printable.
const PRINTABLE = /^[\x20-\x7e]+$/;

/**
 * A QR/barcode scanner in serial (USB CDC) mode that types each code as one line. Each line becomes a `credential`
 * for the access service; lines over 2 KB and lines with control or binary bytes are rejected and counted.
 */
export const serialQrReader = defineDriver({
  id: 'serial-qr-reader',
  kind: 'reader',
  transport: 'serial',
  description: 'QR/barcode scanner on a serial port (one code per line), feeding passes to access control',
  config: serialQrConfig,
  events: ['device.health'],
  create(ctx) {
    let link: SerialLink | undefined;
    return {
      start() {
        link = ctx.serial({
          path: ctx.config.path,
          baudRate: ctx.config.baud_rate,
          framing: { kind: 'line', delimiter: '\n', maxLength: QR_MAX_LINE },
          idleTimeoutMs: ctx.config.idle_timeout_ms,
        });
        link.onOverflow((length) => ctx.reject('line_too_long', { length, max: QR_MAX_LINE }));
        link.onFrame((frame) => {
          const text = frame.toString('latin1').trim();
          if (text.length === 0) return;
          if (!PRINTABLE.test(text)) {
            ctx.reject('garbage', { length: frame.length });
            return;
          }
          ctx.bus.emit('credential', {
            reader: ctx.id,
            lock: ctx.config.lock,
            kind: 'pass',
            value: text,
            at: Date.now(),
          });
        });
        link.start();
      },
      async stop() {
        await link?.stop();
      },
    };
  },
});
