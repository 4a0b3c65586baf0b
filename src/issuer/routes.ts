import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { IssuerConfig } from './config.js';
import { IssueRefused, type IssuerEngine } from './engine.js';
import { type Lang, pickLang, TEXT } from './i18n.js';
import { doorPage, messagePage, PAGE_CSP, resultPage } from './page.js';
import { answerSms } from './sms.js';
import { twilioSignatureValid } from './sms-signature.js';

type Form = Record<string, string | undefined>;

function htmlHeaders(reply: FastifyReply): FastifyReply {
  return reply.headers({
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': PAGE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
}

function langOf(req: FastifyRequest): Lang {
  const q = (req.query as Form | undefined)?.lang ?? (req.body as Form | undefined)?.lang;
  return pickLang(q, req.headers['accept-language']);
}

/** The routes: the door page and its form, the JSON twin, the SMS webhook, metrics. */
export function issuerRoutes(app: FastifyInstance, engine: IssuerEngine, cfg: IssuerConfig, registry: Registry): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );

  app.get<{ Params: { door: string } }>('/d/:door', async (req, reply) => {
    const lang = langOf(req);
    const door = engine.door(req.params.door);
    htmlHeaders(reply).header('content-language', lang).header('vary', 'accept-language');
    if (!door) return reply.code(404).send(messagePage(lang, '/', '404', TEXT[lang].unknownDoor));
    return reply.send(doorPage(door, lang, engine.state(door), cfg.sms));
  });

  app.post<{ Params: { door: string } }>('/d/:door/open', async (req, reply) => {
    const lang = langOf(req);
    htmlHeaders(reply).header('content-language', lang);
    const door = engine.door(req.params.door);
    try {
      const r = await engine.tap(req.params.door, req.ip, 'web');
      return reply.send(await resultPage(door!, lang, r));
    } catch (err) {
      if (!(err instanceof IssueRefused)) throw err;
      if (err.retryAfterS !== undefined) reply.header('retry-after', String(err.retryAfterS));
      const title = door?.name[lang] ?? '404';
      const text = err.code === 'rate_limited' ? TEXT[lang].limited : TEXT[lang].unknownDoor;
      return reply.code(err.status).send(messagePage(lang, `/d/${req.params.door}`, title, text));
    }
  });

  app.post<{ Params: { door: string } }>('/api/v1/doors/:door/passes', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      const r = await engine.tap(req.params.door, req.ip, 'api');
      const out: Record<string, unknown> = {
        pass: r.pass,
        link: r.link ?? null,
        delivered: r.delivered,
        opened: r.opened,
      };
      if (r.pin) out.pin = r.pin.code;
      if (r.pin) out.pin_until = new Date(r.pin.until * 1000).toISOString();
      if (r.reason) out.reason = r.reason;
      out.expires = new Date(r.exp * 1000).toISOString();
      return reply.send(out);
    } catch (err) {
      if (!(err instanceof IssueRefused)) throw err;
      if (err.retryAfterS !== undefined) reply.header('retry-after', String(err.retryAfterS));
      const message =
        err.code === 'rate_limited' ? 'too many passes for this client or door this hour' : 'no such door';
      return reply.code(err.status).send({ error: err.code, message });
    }
  });

  const smsToken = cfg.sms?.twilio_auth_token_file
    ? readFileSync(cfg.sms.twilio_auth_token_file, 'utf8').trim()
    : undefined;
  app.post('/sms/inbound', async (req, reply) => {
    const form = (req.body ?? {}) as Form;
    if (!cfg.sms) return reply.code(404).send({ error: 'sms_off', message: 'SMS is not configured' });
    const signature = req.headers['x-twilio-signature'];
    const url = `${cfg.listen.public_url.replace(/\/+$/, '')}${req.url}`;
    if (
      smsToken !== undefined &&
      !twilioSignatureValid(smsToken, url, form, typeof signature === 'string' ? signature : undefined)
    ) {
      engine.countRefusal('bad_signature');
      return reply.code(403).send({ error: 'bad_signature', message: 'X-Twilio-Signature missing or wrong' });
    }
    if (typeof form.From !== 'string' || typeof form.Body !== 'string') {
      engine.countRefusal('bad_request');
      return reply.code(400).send({ error: 'bad_request', message: 'expected form fields From and Body' });
    }
    const r = answerSms(engine, cfg, form.From, form.Body);
    return reply.code(r.status).type(r.type).send(r.body);
  });

  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  app.get('/healthz', async () => ({ ok: true }));
}
