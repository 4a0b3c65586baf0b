import { type Color, PDFDocument, type PDFFont, rgb, StandardFonts } from 'pdf-lib';
import { type Shape, STICKER_MM, type StickerSpec, stickerLayout, winAnsi } from './sticker.js';

/** Points per millimetre (1 pt = 1/72 in). */
const PT = 72 / 25.4;
/** The A6 page in points, as ISO 216 gives it rounded to 0.01 pt. */
export const A6_PT = [297.64, 419.53] as const;

function color(hex: string | undefined): Color | undefined {
  if (!hex) return undefined;
  const v = Number.parseInt(hex.slice(1), 16);
  return rgb(((v >> 16) & 255) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255);
}

/**
 * The sticker as a one-page A6 PDF: vector shapes and the QR code as one vector path, text in the standard
 * Helvetica (no font files to embed; characters outside WinAnsi print as "?").
 */
export async function renderStickerPdf(spec: StickerSpec): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(`${winAnsi(spec.name.de)} / ${winAnsi(spec.name.en)}`);
  doc.setSubject(spec.url);
  doc.setCreator('portier issuer sticker');
  doc.setProducer('portier (pdf-lib)');
  const page = doc.addPage([A6_PT[0], A6_PT[1]]);
  const fonts: Record<'regular' | 'bold', PDFFont> = {
    regular: await doc.embedFont(StandardFonts.Helvetica),
    bold: await doc.embedFont(StandardFonts.HelveticaBold),
  };
  const top = STICKER_MM.height * PT;
  const draw = (s: Shape): void => {
    switch (s.kind) {
      case 'rect':
        page.drawRectangle({
          x: s.x * PT,
          y: top - (s.y + s.h) * PT,
          width: s.w * PT,
          height: s.h * PT,
          color: color(s.fill),
          borderColor: color(s.stroke),
          borderWidth: s.stroke ? (s.strokeWidth ?? 0.3) * PT : 0,
        });
        return;
      case 'circle':
        page.drawCircle({
          x: s.cx * PT,
          y: top - s.cy * PT,
          size: s.r * PT,
          color: color(s.fill),
          borderColor: color(s.stroke),
          borderWidth: s.stroke ? (s.strokeWidth ?? 0.3) * PT : 0,
        });
        return;
      case 'text': {
        const font = s.bold ? fonts.bold : fonts.regular;
        const text = winAnsi(s.text);
        const size = s.size * PT;
        const x = s.anchor === 'middle' ? s.x * PT - font.widthOfTextAtSize(text, size) / 2 : s.x * PT;
        page.drawText(text, { x, y: top - s.y * PT, size, font, color: color(s.fill) ?? rgb(0, 0, 0) });
        return;
      }
      case 'qr': {
        const scale = s.module * PT;
        const side = s.modules * scale;
        page.drawRectangle({ x: s.x * PT, y: top - s.y * PT - side, width: side, height: side, color: rgb(1, 1, 1) });
        // drawSvgPath puts the path's origin at (x, y) with its y axis pointing down, as in the SVG
        page.drawSvgPath(s.path, { x: s.x * PT, y: top - s.y * PT, scale, color: rgb(0, 0, 0) });
        return;
      }
    }
  };
  for (const s of stickerLayout(spec)) draw(s);
  return doc.save({ useObjectStreams: false });
}
