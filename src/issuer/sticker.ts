import { StandardFontEmbedder, StandardFonts } from 'pdf-lib';
import QRCode from 'qrcode';
import { doorPageUrl, type IssuerConfig } from './config.js';

/**
 * The door sticker: a print-ready A6 sign (105 × 148 mm) with the QR code of the door page, the door's name and the
 * ways in, in German and English. One layout in millimetres (y down) feeds both renderers, SVG here and PDF in
 * sticker-pdf.ts, so the two always show the same thing.
 */

/** What goes on one door's sticker. */
export interface StickerSpec {
  /** the door page, `<public_url>/d/<door>`: what the QR code holds */
  url: string;
  name: { de: string; en: string };
  /** the SMS keyword and number, when the issuer has SMS and the door a keyword */
  sms?: { keyword: string; number: string } | undefined;
  keypad: boolean;
  euroKey: boolean;
}

/** A6 portrait, in mm. */
export const STICKER_MM = { width: 105, height: 148 } as const;
/** Modules of white around the code (ISO/IEC 18004 asks for 4). */
export const QUIET_ZONE = 4;

export type Shape =
  | { kind: 'rect'; x: number; y: number; w: number; h: number; fill?: string; stroke?: string; strokeWidth?: number }
  | { kind: 'circle'; cx: number; cy: number; r: number; fill?: string; stroke?: string; strokeWidth?: number }
  | {
      kind: 'text';
      x: number;
      y: number;
      size: number;
      bold: boolean;
      anchor: 'start' | 'middle';
      text: string;
      fill?: string;
    }
  /** the QR code: `path` in module units (quiet zone included), drawn at (x, y) with `module` mm per module */
  | { kind: 'qr'; x: number; y: number; module: number; modules: number; path: string };

/** The sticker of `doorId` in this issuer config; an unknown door is an error listing the doors there are. */
export function stickerSpec(cfg: IssuerConfig, doorId: string): StickerSpec {
  const door = cfg.doors.find((d) => d.id === doorId);
  if (!door) {
    throw new Error(`unknown door "${doorId}": the issuer config lists ${cfg.doors.map((d) => d.id).join(', ')}`);
  }
  return {
    url: doorPageUrl(cfg, door.id),
    name: door.name,
    sms: cfg.sms && door.sms_keyword ? { keyword: door.sms_keyword.toUpperCase(), number: cfg.sms.number } : undefined,
    keypad: door.features.keypad,
    euroKey: door.features.euro_key,
  };
}

type FontName = Parameters<typeof StandardFontEmbedder.for>[0];
/** Helvetica's metrics (pdf-lib's AFM tables), to fit lines in both renderers. */
const HELVETICA = {
  regular: StandardFontEmbedder.for(StandardFonts.Helvetica as unknown as FontName),
  bold: StandardFontEmbedder.for(StandardFonts.HelveticaBold as unknown as FontName),
};

/** The text as the PDF's standard fonts (WinAnsi) can show it: other characters become "?". */
export function winAnsi(text: string): string {
  const enc = HELVETICA.regular.encoding;
  return [...text].map((c) => (enc.canEncodeUnicodeCodePoint(c.codePointAt(0)!) ? c : '?')).join('');
}

/** The width in mm of `text` in Helvetica at `size` mm. */
function widthMm(text: string, size: number, bold: boolean): number {
  return (bold ? HELVETICA.bold : HELVETICA.regular).widthOfTextAtSize(winAnsi(text), size);
}

/** A line of text, made smaller (down to `min`) until it fits `maxWidth`. */
function line(text: string, y: number, max: number, bold: boolean, opts: { x?: number; min?: number } = {}): Shape {
  // 90 %: room for a printer's sans-serif wider than Helvetica
  const maxWidth = 0.9 * (STICKER_MM.width - 2 * MARGIN - (opts.x === undefined ? 0 : opts.x - MARGIN));
  const size = Math.max(opts.min ?? 2, Math.min(max, (max * maxWidth) / widthMm(text, max, bold)));
  return opts.x === undefined
    ? { kind: 'text', x: STICKER_MM.width / 2, y, size, bold, anchor: 'middle', text }
    : { kind: 'text', x: opts.x, y, size, bold, anchor: 'start', text };
}

const MARGIN = 7;
const QR_MM = 58;

/** The QR code's dark modules as one path of horizontal runs, in module units with the quiet zone around. */
function qrShape(url: string, x: number, y: number, sizeMm: number): Shape {
  const qr = QRCode.create(url, { errorCorrectionLevel: 'H' });
  const n = qr.modules.size;
  const parts: string[] = [];
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (!qr.modules.get(r, c)) continue;
      let end = c;
      while (end + 1 < n && qr.modules.get(r, end + 1)) end++;
      parts.push(`M${c + QUIET_ZONE} ${r + QUIET_ZONE}h${end - c + 1}v1h-${end - c + 1}z`);
      c = end;
    }
  }
  const modules = n + 2 * QUIET_ZONE;
  return { kind: 'qr', x, y, module: sizeMm / modules, modules, path: parts.join('') };
}

/** The Euro-key sign: a key (round bow, shaft, two bits) in a square frame, drawn with plain shapes. */
function euroKeyMark(x: number, y: number, s: number): Shape[] {
  const u = s / 10;
  return [
    { kind: 'rect', x, y, w: s, h: s, fill: '#1d4e89' },
    { kind: 'circle', cx: x + 3 * u, cy: y + 5 * u, r: 1.7 * u, stroke: '#ffffff', strokeWidth: 0.9 * u },
    { kind: 'rect', x: x + 4.6 * u, y: y + 4.55 * u, w: 4 * u, h: 0.9 * u, fill: '#ffffff' },
    { kind: 'rect', x: x + 7 * u, y: y + 5.4 * u, w: 0.8 * u, h: 1.6 * u, fill: '#ffffff' },
    { kind: 'rect', x: x + 8 * u, y: y + 5.4 * u, w: 0.6 * u, h: 1.1 * u, fill: '#ffffff' },
  ];
}

/** The ways in, German then English, each a numbered pair of lines. */
function waysIn(spec: StickerSpec): Array<{ de: string; en: string }> {
  const ways = [{ de: 'Kamera: QR-Code scannen, „Öffnen“ tippen.', en: 'Camera: scan the code, tap “Open”.' }];
  if (spec.sms) {
    const { keyword, number } = spec.sms;
    ways.push({
      de: `SMS: ${keyword} an ${number}, der Code kommt zurück.`,
      en: `Text ${keyword} to ${number} to get a code.`,
    });
  }
  if (spec.keypad) ways.push({ de: 'Tastatur: den Code eingeben, dann #.', en: 'Keypad: type the code, then #.' });
  return ways;
}

/** Everything on the sticker, in mm from the top left. */
export function stickerLayout(spec: StickerSpec): Shape[] {
  const { width, height } = STICKER_MM;
  const shapes: Shape[] = [
    { kind: 'rect', x: 0, y: 0, w: width, h: height, fill: '#ffffff' },
    { kind: 'rect', x: 3, y: 3, w: width - 6, h: height - 6, stroke: '#000000', strokeWidth: 0.5 },
    line(spec.name.de, 15, 8, true, { min: 3 }),
    line(spec.name.en, 21.5, 5.5, false, { min: 2.5 }),
    qrShape(spec.url, (width - QR_MM) / 2, 24, QR_MM),
    line(spec.url, 24 + QR_MM + 3.5, 2.8, false, { min: 1.6 }),
    line('Ohne App · No app needed', 24 + QR_MM + 10, 3.6, true),
  ];
  let y = 24 + QR_MM + 17;
  waysIn(spec).forEach((w, i) => {
    shapes.push({ kind: 'circle', cx: MARGIN + 2.2, cy: y - 1.1, r: 2.2, fill: '#000000' });
    shapes.push({
      kind: 'text',
      x: MARGIN + 2.2,
      y: y,
      size: 3,
      bold: true,
      anchor: 'middle',
      text: String(i + 1),
      fill: '#ffffff',
    });
    shapes.push(line(w.de, y, 3.2, true, { x: MARGIN + 6 }));
    shapes.push(line(w.en, y + 4.2, 3, false, { x: MARGIN + 6 }));
    y += 9.5;
  });
  if (spec.euroKey) {
    const top = height - MARGIN - 13;
    shapes.push(...euroKeyMark(MARGIN, top, 12));
    shapes.push(line('Euro-Schlüssel passt auch.', top + 5, 3.2, true, { x: MARGIN + 15 }));
    shapes.push(line('A Euro key (Euroschlüssel) opens it too.', top + 9.5, 3, false, { x: MARGIN + 15 }));
  }
  return shapes;
}

/** Text safe inside an XML element or a double-quoted attribute. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

const FONT = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif";
const n = (v: number) => Number(v.toFixed(3));

function svgShape(s: Shape): string {
  switch (s.kind) {
    case 'rect':
      return `<rect x="${n(s.x)}" y="${n(s.y)}" width="${n(s.w)}" height="${n(s.h)}" fill="${s.fill ?? 'none'}"${s.stroke ? ` stroke="${s.stroke}" stroke-width="${n(s.strokeWidth ?? 0.3)}"` : ''}/>`;
    case 'circle':
      return `<circle cx="${n(s.cx)}" cy="${n(s.cy)}" r="${n(s.r)}" fill="${s.fill ?? 'none'}"${s.stroke ? ` stroke="${s.stroke}" stroke-width="${n(s.strokeWidth ?? 0.3)}"` : ''}/>`;
    case 'text':
      return `<text x="${n(s.x)}" y="${n(s.y)}" font-size="${n(s.size)}"${s.bold ? ' font-weight="bold"' : ''}${s.anchor === 'middle' ? ' text-anchor="middle"' : ''}${s.fill ? ` fill="${s.fill}"` : ''}>${escapeXml(s.text)}</text>`;
    case 'qr':
      return (
        `<g transform="translate(${n(s.x)} ${n(s.y)}) scale(${n(s.module)})" shape-rendering="crispEdges">` +
        `<rect width="${s.modules}" height="${s.modules}" fill="#ffffff"/><path fill="#000000" d="${s.path}"/></g>`
      );
  }
}

/** The sticker as an SVG document, 105 × 148 mm with a viewBox in mm. */
export function renderStickerSvg(spec: StickerSpec): string {
  const { width, height } = STICKER_MM;
  const title = `${spec.name.de} / ${spec.name.en}`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}mm" height="${height}mm" viewBox="0 0 ${width} ${height}" ` +
    `font-family="${FONT}" lang="de"><title>${escapeXml(title)}</title>\n` +
    stickerLayout(spec).map(svgShape).join('\n') +
    '\n</svg>\n'
  );
}
