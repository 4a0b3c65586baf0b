import jsQRModule from 'jsqr';

// jsqr is CommonJS with an ES-style `default` in its types; at run time the import is the function itself.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

/**
 * Read a QR code drawn as the `qrcode` package's SVG (one stroked path of horizontal runs, `M x y.5 h n m dx dy`)
 * back to its text: rasterize the modules at 4 px each and decode with jsQR, an independent decoder.
 */
export function decodeQrSvg(svg: string): string | undefined {
  const size = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)?.[1]);
  const d = /<path stroke="[^"]+" d="([^"]+)"/.exec(svg)?.[1];
  if (!size || !d) return undefined;
  const dark = new Uint8Array(size * size);
  let x = 0;
  let y = 0;
  for (const [, op, a, b] of d.matchAll(/([MmhHvV])(-?[\d.]+)(?:[ ,](-?[\d.]+))?/g)) {
    const n = Number(a);
    if (op === 'M') {
      x = n;
      y = Math.floor(Number(b));
    } else if (op === 'm') {
      x += n;
      y += Math.floor(Number(b));
    } else if (op === 'h') {
      for (let i = 0; i < n; i++) dark[y * size + x + i] = 1;
      x += n;
    }
  }
  const scale = 4;
  const w = size * scale;
  const rgba = new Uint8ClampedArray(w * w * 4);
  for (let py = 0; py < w; py++) {
    for (let px = 0; px < w; px++) {
      const v = dark[Math.floor(py / scale) * size + Math.floor(px / scale)] ? 0 : 255;
      const o = (py * w + px) * 4;
      rgba[o] = v;
      rgba[o + 1] = v;
      rgba[o + 2] = v;
      rgba[o + 3] = 255;
    }
  }
  return jsQR(rgba, w, w)?.data;
}
