import { createHash } from 'node:crypto';

/**
 * The page a phone shows at a door: no app, no external assets, a few kilobytes. A pass link
 * `http://<gw>/door/<lock>#<pass>` fills the box from the fragment (which browsers never send to the server, so the
 * pass stays out of every log), then the person taps "Open" at the door; opening the link at home does nothing.
 */

/** What the person at the door reads for each outcome (reason codes of docs/passes.md plus the door's own). */
const MESSAGES: Record<string, string> = {
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
};

/** A message for a reason code; unknown codes and broken passes read as "not a valid pass". */
export function messageFor(reason: string): string {
  return MESSAGES[reason] ?? 'This is not a valid pass for this door.';
}

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
.catch(function(){r.textContent='No connection to the door.';r.className='no'})});
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

function page(title: string, body: string, script: boolean): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main>${
    script ? `<script>${SCRIPT}</script>` : ''
  }</body></html>`;
}

/** The door's page: a box for the pass and an "Open" button. */
export function doorPage(lock: string): string {
  const l = escapeHtml(lock);
  return page(
    `Open ${lock}`,
    `<h1>Door: ${l}</h1><form method="post" action="/door/${encodeURIComponent(lock)}/open" id="f">
<label for="p">Your pass (opened from its link, or pasted)</label>
<textarea id="p" name="pass" rows="4" autocomplete="off" autocapitalize="off" spellcheck="false" required></textarea>
<button type="submit">Open</button></form><p id="r" role="status" aria-live="polite"></p>`,
    true,
  );
}

/** The answer to a form posted without script: the outcome, and a way back. */
export function resultPage(lock: string, granted: boolean, message: string): string {
  return page(
    granted ? 'Open' : 'Not opened',
    `<p class="${granted ? 'ok' : 'no'}">${escapeHtml(message)}</p><p><a href="/door/${encodeURIComponent(lock)}">Back</a></p>`,
    false,
  );
}
