/** The languages of the pages people see (the issuer's door page, the gateway's pass page); German first, as the town speaks it. */
export const LANGS = ['de', 'en'] as const;
export type Lang = (typeof LANGS)[number];

/**
 * The language for a request: `?lang=` when given, else the first of de/en in Accept-Language by weight (RFC 9110
 * section 12.5.4), else German.
 */
export function pickLang(query: unknown, acceptLanguage: string | undefined): Lang {
  if (query === 'de' || query === 'en') return query;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { lang: tag.trim().toLowerCase().split('-')[0], q: q === undefined ? 1 : Number(q), i };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranked) if (r.lang === 'de' || r.lang === 'en') return r.lang;
  return 'de';
}
