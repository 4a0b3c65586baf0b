import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { Resvg } from '@resvg/resvg-js';
import { DOMParser } from '@xmldom/xmldom';
import jsQRModule from 'jsqr';
import { PDFDocument, PDFName, PDFRawStream } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { parseIssuerConfig } from '../../../src/issuer/config.js';
import { renderStickerSvg, type StickerSpec, stickerSpec } from '../../../src/issuer/sticker.js';
import { renderStickerPdf } from '../../../src/issuer/sticker-pdf.js';
import { tempDir } from '../../helpers/tmp.js';
import { portier } from '../access/cli.js';

// jsqr is CommonJS with an ES-style `default` in its types; at run time the import is the function itself.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

/** A town's issuer behind a reverse proxy under a path (public_url with a trailing slash, as people write it). */
const CONFIG = `version: 1
listen: { port: 8090, public_url: 'https://wc.example-town.de/stadtwerke/' }
state_dir: ./state
key: { file: ./keys/town-2026.private.jwk.json, iss: 'https://wc.example-town.de' }
sms: { number: '+49 170 1234567' }
doors:
  - id: toilet-marktplatz-sued
    gateway: gw-marktplatz
    name: { de: 'WC "Markt" & <Süd>', en: 'Toilet "Market" & <South>' }
    features: { scanner: true, keypad: true, euro_key: true }
    pin_secret_file: ./pins/toilet-marktplatz-sued.hex
    sms_keyword: wc1
  - id: toilet-bahnhof
    gateway: gw-bahnhof
    name: { de: WC Bahnhof, en: Toilet station }
`;
const URL_SUED = 'https://wc.example-town.de/stadtwerke/d/toilet-marktplatz-sued';

function spec(door = 'toilet-marktplatz-sued'): StickerSpec {
  return stickerSpec(parseIssuerConfig(CONFIG), door);
}

/** Rasterize an SVG with resvg (an independent renderer) and decode the QR code in it with jsQR. */
function decodeSvg(svg: string): string | undefined {
  const png = new Resvg(svg, { fitTo: { mode: 'width', value: 1000 } }).render();
  return jsQR(new Uint8ClampedArray(png.pixels), png.width, png.height)?.data;
}

/** The QR code's module matrix, read back from the sticker's path (`M col row h n v1 h-n z` runs). */
function qrMatrix(svg: string): { modules: number; dark: (r: number, c: number) => boolean } {
  const modules = Number(/<rect width="(\d+)" height="\1" fill="#ffffff"\/><path/.exec(svg)?.[1]);
  const d = /<path fill="#000000" d="([^"]+)"/.exec(svg)?.[1] ?? '';
  const set = new Set<number>();
  for (const [, c, r, n] of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\3z/g)) {
    for (let i = 0; i < Number(n); i++) set.add(Number(r) * modules + Number(c) + i);
  }
  return { modules, dark: (r, c) => set.has(r * modules + c) };
}

/** The texts of the SVG's <text> elements, parsed by an XML parser that stops at any error. */
function svgTexts(svg: string): string[] {
  const doc = new DOMParser({
    onError: (level, msg) => {
      throw new Error(`${level}: ${msg}`);
    },
  }).parseFromString(svg, 'image/svg+xml');
  return Array.from(doc.getElementsByTagName('text')).map((t) => t.textContent ?? '');
}

/** The page's content stream as text (pdf-lib flate-compresses it). */
async function pdfContent(bytes: Uint8Array): Promise<string> {
  const doc = await PDFDocument.load(bytes);
  const contents = doc.getPages()[0]!.node.Contents();
  const streams = contents && 'asArray' in contents ? contents.asArray() : [contents];
  let text = '';
  for (const ref of streams) {
    const s = doc.context.lookup(ref as never);
    if (!(s instanceof PDFRawStream)) continue;
    const raw = s.getContents();
    text += s.dict.get(PDFName.of('Filter'))
      ? inflateSync(raw).toString('latin1')
      : Buffer.from(raw).toString('latin1');
  }
  return text;
}

/** The strings shown by `<hex> Tj` in the PDF's page content (pdf-lib writes WinAnsi text as hex strings). */
async function pdfTexts(bytes: Uint8Array): Promise<string[]> {
  const text = await pdfContent(bytes);
  return [...text.matchAll(/<([0-9A-Fa-f]*)> Tj/g)].map(([, hex]) =>
    [...Buffer.from(hex!, 'hex')].map(cp1252).join(''),
  );
}

/**
 * The QR code drawn in the PDF, read back: after its `s 0 0 -s 0 0 cm` (module units, y down) come the dark runs
 * as closed rectangles `x y m  x2 y l  x2 y+1 l  x y+1 l h`; rasterize them at 4 px per module and decode with jsQR.
 */
async function decodePdfQr(bytes: Uint8Array): Promise<string | undefined> {
  const text = await pdfContent(bytes);
  const start = /\n([\d.]+) 0 0 -\1 0 0 cm\n/.exec(text);
  if (!start) return undefined;
  const body = text.slice(start.index).split('\nQ')[0]!;
  const runs = [...body.matchAll(/\n(\d+) (\d+) m\n(\d+) \2 l\n/g)].map((m) => m.slice(1).map(Number));
  const modules = Math.max(...runs.map(([, , x2]) => x2!)) + 4; // the 4-module quiet zone on the right
  const scale = 4;
  const w = modules * scale;
  const rgba = new Uint8ClampedArray(w * w * 4).fill(255);
  for (const [x1, y, x2] of runs) {
    for (let py = y! * scale; py < (y! + 1) * scale; py++) {
      for (let px = x1! * scale; px < x2! * scale; px++) rgba.fill(0, (py * w + px) * 4, (py * w + px) * 4 + 3);
    }
  }
  return jsQR(rgba, w, w)?.data;
}

/**
 * Windows-1252 (the PDF's WinAnsiEncoding), from the WHATWG Encoding Standard's index-windows-1252: 0x80-0x9F
 * differ from Latin-1 (Node's small ICU decodes them as Latin-1 control characters).
 */
const CP1252_80 = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';
const cp1252 = (b: number): string => (b >= 0x80 && b < 0xa0 ? CP1252_80[b - 0x80]! : String.fromCharCode(b));

describe('issuer sticker', () => {
  it('the SVG, rendered to PNG by resvg, holds a QR code that jsQR reads as exactly the door page URL', () => {
    const svg = renderStickerSvg(spec());
    expect(decodeSvg(svg)).toBe(URL_SUED);
    expect(decodeSvg(renderStickerSvg(spec('toilet-bahnhof')))).toBe(
      'https://wc.example-town.de/stadtwerke/d/toilet-bahnhof',
    );
    expect(svg).toMatch(/<svg [^>]*width="105mm" height="148mm" viewBox="0 0 105 148"/);
  });

  it('the QR code has error correction H and a quiet zone of 4 modules', () => {
    const { modules, dark } = qrMatrix(renderStickerSvg(spec()));
    const size = modules - 8;
    expect((size - 17) % 4).toBe(0); // a QR symbol is 4·version + 17 modules wide
    for (let i = 0; i < modules; i++) {
      for (const q of [0, 1, 2, 3, modules - 4, modules - 3, modules - 2, modules - 1]) {
        expect(dark(q, i) || dark(i, q)).toBe(false);
      }
    }
    // ISO/IEC 18004:2015 7.9: format bits 14..9 in row 8 from column 0, then (8,7), (8,8), (7,8), (5..0, 8),
    // masked with 101010000010010; bits 14-13 are the level (table 12: L 01, M 00, Q 11, H 10)
    const at = (r: number, c: number) => (dark(r + 4, c + 4) ? 1 : 0);
    const cells: Array<[number, number]> = [
      [8, 0],
      [8, 1],
      [8, 2],
      [8, 3],
      [8, 4],
      [8, 5],
      [8, 7],
      [8, 8],
      [7, 8],
    ];
    for (const r of [5, 4, 3, 2, 1, 0]) cells.push([r, 8]);
    const format = Number.parseInt(cells.map(([r, c]) => at(r, c)).join(''), 2) ^ 0b101010000010010;
    expect(['M', 'L', 'H', 'Q'][format >> 13]).toBe('H');
  });

  it('escapes an XML-special door name: the SVG parses (xmldom and xmllint) and shows the name as written', () => {
    const svg = renderStickerSvg(spec());
    const texts = svgTexts(svg);
    expect(texts).toContain('WC "Markt" & <Süd>');
    expect(texts).toContain('Toilet "Market" & <South>');
    expect(svg).not.toContain('<Süd>');
    const file = join(tempDir(), 'sticker.svg');
    writeFileSync(file, svg);
    execFileSync('xmllint', ['--noout', file]); // throws on a parse error
  });

  it('shows the ways in the door has: camera always, SMS keyword and number, keypad, the Euro key', () => {
    const all = svgTexts(renderStickerSvg(spec())).join('\n');
    expect(all).toContain('Kamera: QR-Code scannen');
    expect(all).toContain('Camera: scan the code');
    expect(all).toContain('SMS: WC1 an +49 170 1234567');
    expect(all).toContain('Text WC1 to +49 170 1234567');
    expect(all).toContain('Tastatur: den Code eingeben, dann #.');
    expect(all).toContain('Keypad: type the code, then #.');
    expect(all).toContain('Euro-Schlüssel passt auch.');
    expect(all).toContain(URL_SUED);

    const plain = svgTexts(renderStickerSvg(spec('toilet-bahnhof'))).join('\n');
    expect(plain).toContain('Kamera: QR-Code scannen');
    expect(plain).toContain('WC Bahnhof');
    expect(plain).not.toContain('SMS');
    expect(plain).not.toContain('Tastatur');
    expect(plain).not.toContain('Euro');
  });

  it('an unknown door is an error that lists the doors', () => {
    expect(() => spec('toilet-9')).toThrow(
      'unknown door "toilet-9": the issuer config lists toilet-marktplatz-sued, toilet-bahnhof',
    );
  });

  it('the PDF has exactly one A6 page (297.64 × 419.53 pt) with the texts, and no image (the QR is vector)', async () => {
    const bytes = await renderStickerPdf(spec());
    const doc = await PDFDocument.load(bytes);
    expect(doc.getPageCount()).toBe(1);
    expect(doc.getPages()[0]!.getMediaBox()).toEqual({ x: 0, y: 0, width: 297.64, height: 419.53 });
    const texts = await pdfTexts(bytes);
    expect(texts).toContain('WC "Markt" & <Süd>');
    expect(texts).toContain('Toilet "Market" & <South>');
    expect(texts).toContain(URL_SUED);
    expect(texts).toContain('Kamera: QR-Code scannen, „Öffnen“ tippen.');
    expect(texts).toContain('Euro-Schlüssel passt auch.');
    expect(Buffer.from(bytes).toString('latin1')).not.toMatch(/\/Subtype\s*\/Image/);
    expect(await decodePdfQr(bytes)).toBe(URL_SUED);
  });

  it('`portier issuer sticker` writes the SVG and the PDF, and names the doors for an unknown one', async () => {
    const dir = tempDir('portier-sticker-');
    const cfg = join(dir, 'issuer.yaml');
    writeFileSync(cfg, CONFIG);
    const svgFile = join(dir, 'toilet.svg');
    const pdfFile = join(dir, 'toilet.pdf');
    const a = await portier(['issuer', 'sticker', 'toilet-marktplatz-sued', '--config', cfg, '--out', svgFile]);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).toContain(URL_SUED);
    const b = await portier(['issuer', 'sticker', 'toilet-marktplatz-sued', '--config', cfg, '--out', pdfFile]);
    expect(b.code).toBe(0);
    expect(decodeSvg(readFileSync(svgFile, 'utf8'))).toBe(URL_SUED);
    const pdf = await PDFDocument.load(readFileSync(pdfFile));
    expect(pdf.getPageCount()).toBe(1);
    expect(statSync(pdfFile).mode & 0o777).toBe(0o644);

    const bad = await portier(['issuer', 'sticker', 'toilet-9', '--config', cfg, '--out', join(dir, 'x.pdf')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      'unknown door "toilet-9": the issuer config lists toilet-marktplatz-sued, toilet-bahnhof',
    );
    const ext = await portier(['issuer', 'sticker', 'toilet-bahnhof', '--config', cfg, '--out', join(dir, 'x.png')]);
    expect(ext.code).not.toBe(0);
    expect(ext.stderr).toContain('--out FILE.svg or --out FILE.pdf');
  });
});
