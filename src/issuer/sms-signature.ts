import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Twilio's request signature (`X-Twilio-Signature`): base64 of HMAC-SHA1 under the account's auth token over the full
 * URL the provider called followed by each POST parameter's name and value, sorted by name. Without it anyone who
 * knows the webhook's URL could ask for PINs under made-up numbers, past the per-number limit.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string | undefined>): string {
  const data =
    url +
    Object.keys(params)
      .sort()
      .map((k) => `${k}${params[k] ?? ''}`)
      .join('');
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** Whether `given` is the signature of this request, compared in constant time. */
export function twilioSignatureValid(
  authToken: string,
  url: string,
  params: Record<string, string | undefined>,
  given: string | undefined,
): boolean {
  if (!given) return false;
  const expected = Buffer.from(twilioSignature(authToken, url, params));
  const got = Buffer.from(given);
  return got.length === expected.length && timingSafeEqual(got, expected);
}
