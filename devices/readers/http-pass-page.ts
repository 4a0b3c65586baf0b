import { createHash } from 'node:crypto';
import type { Lang } from '../../src/core/lang.js';

/**
 * The page a phone shows at a door: no app, no external assets, a few kilobytes. A pass link
 * `http://<gw>/door/<lock>#<pass>` fills the box from the fragment (which browsers never send to the server, so the
 * pass stays out of every log), then the person taps "Open" at the door; opening the link at home does nothing.
 */

/** What the person at the door reads for each outcome (reason codes of docs/passes.md plus the door's own). */
const MESSAGES: Record<Lang, Record<string, string>> = {
  en: {
    ok: 'Open. Push the door now.',
    expired: 'This pass has expired.',
    not_yet_valid: 'This pass is not valid yet.',
    wrong_lock: 'This pass is for another door.',
    uses_exhausted: 'This pass has been used up.',
    revoked: 'This pass has been withdrawn.',
    outside_window: 'This pass is not valid at this time of day.',
    time_unknown: 'The door cannot check passes right now. Please call the number on the door.',
    out_of_service: 'Out of service (cleaning). Please try again in a few minutes.',
    occupied: 'Occupied. Please wait until it is free.',
    lock_unavailable: 'The door is out of order. Please call the number on the door.',
    no_answer: 'The door did not answer. Please try again.',
    busy: 'The door is busy. Please try again in a moment.',
    rate_limited: 'Too many tries. Please wait a minute.',
    invalid: 'This is not a valid pass for this door.',
  },
  de: {
    ok: 'Offen. Drücken Sie jetzt die Tür auf.',
    expired: 'Dieser Pass ist abgelaufen.',
    not_yet_valid: 'Dieser Pass gilt noch nicht.',
    wrong_lock: 'Dieser Pass ist für eine andere Tür.',
    uses_exhausted: 'Dieser Pass ist aufgebraucht.',
    revoked: 'Dieser Pass wurde zurückgezogen.',
    outside_window: 'Dieser Pass gilt zu dieser Tageszeit nicht.',
    time_unknown: 'Die Tür kann gerade keine Pässe prüfen. Bitte rufen Sie die Nummer an der Tür an.',
    out_of_service: 'Außer Betrieb (Reinigung). Bitte versuchen Sie es in ein paar Minuten noch einmal.',
    occupied: 'Besetzt. Bitte warten Sie, bis frei ist.',
    lock_unavailable: 'Die Tür ist gestört. Bitte rufen Sie die Nummer an der Tür an.',
    no_answer: 'Die Tür hat nicht geantwortet. Bitte versuchen Sie es noch einmal.',
    busy: 'Die Tür ist beschäftigt. Bitte versuchen Sie es gleich noch einmal.',
    rate_limited: 'Zu viele Versuche. Bitte warten Sie eine Minute.',
    invalid: 'Das ist kein gültiger Pass für diese Tür.',
  },
};

/** The rest of the page's words. */
const WORDS = {
  en: {
    other: 'Deutsch',
    title: 'Open',
    label: 'Your pass (opened from its link, or pasted)',
    open: 'Open',
    opened: 'Open',
    notOpened: 'Not opened',
    back: 'Back',
    offline: 'No connection to the door.',
  },
  de: {
    other: 'English',
    title: 'Öffnen',
    label: 'Ihr Pass (aus dem Link geöffnet oder eingefügt)',
    open: 'Öffnen',
    opened: 'Offen',
    notOpened: 'Nicht geöffnet',
    back: 'Zurück',
    offline: 'Keine Verbindung zur Tür.',
  },
} as const;

/** A message for a reason code; unknown codes and broken passes read as "not a valid pass". */
export function messageFor(reason: string, lang: Lang = 'en'): string {
  const m = MESSAGES[lang];
  return m[reason] ?? m.invalid!;
}

/** A door's display name in each language; without one, the lock's id. */
export type DoorName = { de: string; en: string };

/**
 * A pass link for SMS and web pages. Only `%` and space need escaping in a fragment (RFC 3986 allows the rest of
 * base45's alphabet there); the page decodes it.
 */
export function passLink(base: string, lock: string, pass: string): string {
  return `${base.replace(/\/+$/, '')}/door/${encodeURIComponent(lock)}#${pass.replaceAll('%', '%25').replaceAll(' ', '%20')}`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE =
  'body{font:1.1rem/1.4 system-ui,sans-serif;margin:0;padding:1rem;max-width:30rem}' +
  'textarea{width:100%;font:0.8rem monospace}button{font-size:1.3rem;padding:0.8rem;width:100%;margin-top:0.5rem}' +
  '.ok{color:#060}.no{color:#a00}';

// Fills the box from the fragment (a pasted link works too), forgets the fragment, and posts on tap.
const SCRIPT = `(function(){
var f=document.getElementById('f'),p=document.getElementById('p'),r=document.getElementById('r');
function frag(t){var i=t.lastIndexOf('#');if(i<0)return t;t=t.slice(i+1);try{return decodeURIComponent(t)}catch(e){return t}}
if(location.hash.length>1){p.value=frag(location.hash);history.replaceState(null,'',location.pathname)}
f.addEventListener('submit',function(e){e.preventDefault();r.textContent='…';r.className='';
fetch(f.action,{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({pass:frag(p.value.trim())})})
.then(function(x){return x.json()}).then(function(d){r.textContent=d.message;r.className=d.granted?'ok':'no'})
.catch(function(){r.textContent=r.getAttribute('data-offline');r.className='no'})});
})();`;

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

/** Content-Security-Policy allowing only this page's own inline style and script. */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const other = (lang: Lang): Lang => (lang === 'de' ? 'en' : 'de');
const doorPath = (lock: string) => `/door/${encodeURIComponent(lock)}`;

function page(lang: Lang, title: string, switchTo: string, body: string, script: boolean): string {
  const o = other(lang);
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><nav><a href="${escapeHtml(switchTo)}?lang=${o}" hreflang="${o}" lang="${o}">${WORDS[lang].other}</a></nav><main>${body}</main>${
    script ? `<script>${SCRIPT}</script>` : ''
  }</body></html>`;
}

/** The door's page: its name, a box for the pass and an "Open" button, in German or English. */
export function doorPage(lock: string, name: DoorName | undefined, lang: Lang): string {
  const w = WORDS[lang];
  const shown = name?.[lang] ?? lock;
  return page(
    lang,
    `${w.title}: ${shown}`,
    doorPath(lock),
    `<h1>${escapeHtml(shown)}</h1><form method="post" action="${doorPath(lock)}/open?lang=${lang}" id="f">
<label for="p">${w.label}</label>
<textarea id="p" name="pass" rows="4" autocomplete="off" autocapitalize="off" spellcheck="false" required></textarea>
<button type="submit">${w.open}</button></form><p id="r" role="status" aria-live="polite" data-offline="${w.offline}"></p>`,
    true,
  );
}

/** The answer to a form posted without script: the door, the outcome, and a way back. */
export function resultPage(
  lock: string,
  name: DoorName | undefined,
  lang: Lang,
  granted: boolean,
  message: string,
): string {
  const w = WORDS[lang];
  return page(
    lang,
    granted ? w.opened : w.notOpened,
    doorPath(lock),
    `<h1>${escapeHtml(name?.[lang] ?? lock)}</h1><p class="${granted ? 'ok' : 'no'}">${escapeHtml(message)}</p><p><a href="${doorPath(lock)}?lang=${lang}">${w.back}</a></p>`,
    false,
  );
}
