import { describe, expect, it } from 'vitest';
import { pickLang } from '../../../src/issuer/i18n.js';
import { normalizeKeyword } from '../../../src/issuer/sms.js';

describe('door page language', () => {
  it('takes ?lang= first, then Accept-Language by weight (RFC 9110 12.5.4 examples), else German', () => {
    expect(pickLang('en', 'de-DE')).toBe('en');
    expect(pickLang(undefined, 'da, en-gb;q=0.8, en;q=0.7')).toBe('en');
    expect(pickLang(undefined, 'en;q=0.5, de-AT;q=0.9')).toBe('de');
    expect(pickLang(undefined, 'fr, en;q=0')).toBe('de');
    expect(pickLang('xx', undefined)).toBe('de');
  });
  it('matches SMS keywords without case or spaces', () => {
    expect(normalizeKeyword(' wc 1\n')).toBe('WC1');
  });
});
