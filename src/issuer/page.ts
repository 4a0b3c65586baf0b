import { createHash } from 'node:crypto';
import QRCode from 'qrcode';
import type { DoorState } from './cloud.js';
import type { DoorConfig } from './config.js';
import type { IssueResult } from './engine.js';
import { type Lang, refusalText, TEXT } from './i18n.js';

/**
 * The door page and its result, server-rendered: no script, no cookie, nothing from elsewhere. Contrast of every
 * text and the button is at least 7:1 (#111 and #fff on #fff and #0b4f8a), the button is a full-width 4rem target,
 * focus is a 4px outline, and the result is in a status region.
 */
const STYLE =
  'body{font:1.2rem/1.5 system-ui,sans-serif;color:#111;background:#fff;margin:0 auto;padding:1rem;max-width:32rem}' +
  'nav{text-align:right}nav a{display:inline-block;padding:.6rem;min-width:44px;min-height:44px;color:#0b4f8a}' +
  'h1{font-size:1.7rem;margin:.5rem 0}' +
  'button{display:block;width:100%;min-height:4rem;margin:1.5rem 0;font:700 1.6rem system-ui,sans-serif;' +
  'color:#fff;background:#0b4f8a;border:0;border-radius:.5rem;cursor:pointer}' +
  ':focus-visible{outline:4px solid #111;outline-offset:3px}' +
  '.pin{font:700 2.2rem ui-monospace,monospace;letter-spacing:.15em}' +
  '.qr svg{width:100%;max-width:20rem;height:auto;display:block}' +
  'a{color:#0b4f8a}.big{font-size:1.4rem;font-weight:700}';

/** Content-Security-Policy: the one inline style by its hash, forms back to us only, nothing else at all. */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function shell(lang: Lang, title: string, path: string, body: string): string {
  const other: Lang = lang === 'de' ? 'en' : 'de';
  return (
    `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">` +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>` +
    `<nav><a href="${escapeHtml(path)}?lang=${other}" hreflang="${other}" lang="${other}">${TEXT[lang].other}</a></nav>` +
    `<main>${body}</main></body></html>`
  );
}

/** `GET /d/<door>`: the door's name and state and one large Open button (a plain form). */
export function doorPage(door: DoorConfig, lang: Lang, state: DoorState, sms?: { number: string } | undefined): string {
  const t = TEXT[lang];
  const path = `/d/${door.id}`;
  const name = door.name[lang];
  let body =
    `<h1>${escapeHtml(name)}</h1><p>${t.state}: <strong>${t[state]}</strong></p>` +
    `<form method="post" action="${path}/open"><input type="hidden" name="lang" value="${lang}">` +
    `<button type="submit">${t.open}</button></form><p>${t.hint}</p>`;
  if (sms && door.sms_keyword) body += `<p>${escapeHtml(t.sms(door.sms_keyword.toUpperCase(), sms.number))}</p>`;
  if (door.features.euro_key) body += `<p>${t.euroKey}</p>`;
  return shell(lang, name, path, body);
}

/** The answer to Open: opened, refused in plain words, or the offline ways in (PIN, QR, link). */
export async function resultPage(door: DoorConfig, lang: Lang, r: IssueResult): Promise<string> {
  const t = TEXT[lang];
  const path = `/d/${door.id}`;
  const name = door.name[lang];
  let status: string;
  let more = '';
  if (r.opened) status = t.opened;
  else if (r.delivered === 'online') status = refusalText(lang, r.reason ?? '');
  else {
    status = t.offline;
    if (r.pin) {
      const until = new Date(r.pin.until * 1000).toLocaleTimeString(lang === 'de' ? 'de-DE' : 'en-GB', {
        hour: '2-digit',
        minute: '2-digit',
        timeZone: r.pin.timeZone,
      });
      more += `<h2>PIN</h2><p>${t.pin} ${until}${t.pinEnd}</p><p class="pin">${r.pin.code}</p>`;
    }
    if (door.features.scanner) {
      const svg = await QRCode.toString(r.pass, { type: 'svg', errorCorrectionLevel: 'L', margin: 4 });
      more +=
        `<h2>QR</h2><p>${t.qr}</p>` +
        `<div class="qr" role="img" aria-label="${t.qrLabel}">${svg.replace('<svg ', '<svg aria-hidden="true" ')}</div>`;
    }
    if (r.link) more += `<p>${t.link} <a href="${escapeHtml(r.link)}" rel="noreferrer">${t.linkText}</a></p>`;
  }
  const body =
    `<h1>${escapeHtml(name)}</h1><div role="status"><p class="big">${escapeHtml(status)}</p></div>${more}` +
    `<p><a href="${path}?lang=${lang}">${t.again}</a></p>`;
  return shell(lang, name, path, body);
}

/** A short page for a refusal before any pass (unknown door, too many tries). */
export function messagePage(lang: Lang, path: string, title: string, message: string): string {
  return shell(
    lang,
    title,
    path,
    `<h1>${escapeHtml(title)}</h1><div role="status"><p>${escapeHtml(message)}</p></div>`,
  );
}
