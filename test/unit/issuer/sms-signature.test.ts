import { describe, expect, it } from 'vitest';
import { twilioSignature, twilioSignatureValid } from '../../../src/issuer/sms-signature.js';

/** Twilio's documented example ("Validating Requests are coming from Twilio", twilio.com/docs/usage/security). */
const URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const PARAMS = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+12349013030',
  Digits: '1234',
  From: '+12349013030',
  To: '+18005551212',
};

describe('X-Twilio-Signature', () => {
  it("computes Twilio's documented example", () => {
    expect(twilioSignature('12345', URL, PARAMS)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  });
  it('accepts the right signature only', () => {
    expect(twilioSignatureValid('12345', URL, PARAMS, '0/KCTR6DLpKmkAf8muzZqo1nDgQ=')).toBe(true);
    expect(
      twilioSignatureValid('12345', URL, { ...PARAMS, From: '+12349013031' }, '0/KCTR6DLpKmkAf8muzZqo1nDgQ='),
    ).toBe(false);
    expect(twilioSignatureValid('12345', URL, PARAMS, undefined)).toBe(false);
    expect(twilioSignatureValid('12345', URL, PARAMS, 'short')).toBe(false);
  });
});
