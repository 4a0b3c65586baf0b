// The admin API from the browser: the bearer token from sessionStorage on every request, JSON errors turned into
// ApiError with the problems by field, and the event stream read with fetch (EventSource cannot send a header).

const TOKEN_KEY = 'portier.token';

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, code, message, problems) {
    super(message);
    this.status = status;
    this.code = code;
    this.problems = problems ?? [];
  }
}

/** Call the API; resolves with the parsed JSON body, rejects with ApiError. */
export async function api(method, path, body) {
  const headers = { authorization: `Bearer ${getToken() ?? ''}` };
  const init = { method, headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, 'network', `the gateway did not answer (${err.message})`);
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = json?.error;
    throw new ApiError(res.status, e?.code ?? 'http_error', e?.message ?? `HTTP ${res.status}`, e?.problems);
  }
  return json;
}

/**
 * Follow /api/events/stream: calls onEvent for every committed event and onState('live'|'reconnecting'|'denied').
 * Reconnects after a drop with Last-Event-ID, so nothing is missed. Returns a function that stops it.
 */
export function followEvents(onEvent, onState) {
  let stopped = false;
  let lastId;
  let controller;

  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const headers = { authorization: `Bearer ${getToken() ?? ''}`, accept: 'text/event-stream' };
        if (lastId !== undefined) headers['last-event-id'] = String(lastId);
        const res = await fetch('/api/events/stream', { headers, signal: controller.signal });
        if (res.status === 401) {
          onState('denied');
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        onState('live');
        await readStream(res.body, (msg) => {
          if (msg.id !== undefined) lastId = msg.id;
          if (msg.event === 'event' && msg.data) onEvent(JSON.parse(msg.data));
        });
      } catch {
        // dropped or refused: wait and resume from lastId
      }
      if (stopped) return;
      onState('reconnecting');
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}

/** Parse a text/event-stream body into messages {id, event, data} (WHATWG HTML, server-sent events). */
async function readStream(body, onMessage) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let msg = { data: '' };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (msg.data !== '' || msg.event) onMessage(msg);
        msg = { data: '' };
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') msg.data = msg.data ? `${msg.data}\n${val}` : val;
        else if (field === 'event') msg.event = val;
        else if (field === 'id') msg.id = Number(val);
      }
      nl = buffer.indexOf('\n');
    }
  }
}
