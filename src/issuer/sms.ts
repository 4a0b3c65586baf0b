import type { IssuerConfig } from './config.js';
import { IssueRefused, type IssuerEngine } from './engine.js';
import { escapeHtml } from './page.js';

/** The answer to one inbound text, and how to send it. */
export interface SmsReply {
  status: number;
  type: string;
  body: string;
}

/** A keyword as people type it: `wc 1`, ` Wc1 ` and `WC1` are the same. */
export function normalizeKeyword(body: string): string {
  return body.replace(/\s+/g, '').toUpperCase();
}

/**
 * `POST /sms/inbound`, the form fields providers such as Twilio send (`From`, `Body`): a door's keyword answers
 * with its name and a one-time PIN, anything else with the list of keywords. The answer is plain text, or the
 * provider's XML (`<Response><Message>`), as configured.
 */
export function answerSms(engine: IssuerEngine, cfg: IssuerConfig, from: string, body: string): SmsReply {
  const sms = cfg.sms!;
  const word = normalizeKeyword(body);
  const door = engine.allDoors.find((d) => d.sms_keyword?.toUpperCase() === word);
  let text: string;
  if (!door) {
    const words = engine.allDoors
      .filter((d) => d.sms_keyword && d.features.keypad)
      .map((d) => `${d.sms_keyword!.toUpperCase()} = ${d.name.de} / ${d.name.en}`);
    text = `Bitte senden Sie eines dieser Wörter / Please text one of: ${words.join('; ')}`;
  } else {
    try {
      const r = engine.smsPin(door, from, sms.per_number_per_hour);
      const until = new Date(r.pin.until * 1000).toLocaleTimeString('de-DE', {
        hour: '2-digit',
        minute: '2-digit',
        timeZone: r.pin.timeZone,
      });
      text =
        `${door.name.de}: Code ${r.pin.code} und # an der Tastatur, einmal gültig bis ${until}. / ` +
        `${door.name.en}: type ${r.pin.code} then # on the keypad, works once until ${until}.`;
    } catch (err) {
      if (!(err instanceof IssueRefused)) throw err;
      text =
        err.code === 'rate_limited'
          ? 'Zu viele Anfragen, bitte später. / Too many requests, please try later.'
          : `${door.name.de}: gerade kein Code verfügbar. / ${door.name.en}: no code available right now.`;
    }
  }
  if (sms.reply === 'xml') {
    return {
      status: 200,
      type: 'application/xml; charset=utf-8',
      body: `<?xml version="1.0" encoding="UTF-8"?><Response><Message>${escapeHtml(text)}</Message></Response>`,
    };
  }
  return { status: 200, type: 'text/plain; charset=utf-8', body: text };
}
