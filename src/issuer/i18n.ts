/** The door page's two languages; German first, as the town speaks it. */
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

const de = {
  other: 'English',
  state: 'Zustand',
  free: 'frei',
  occupied: 'besetzt',
  out_of_service: 'außer Betrieb',
  unknown: 'unbekannt',
  open: 'Öffnen',
  hint: 'Tippen Sie auf „Öffnen“. Die Tür entriegelt sich für einige Sekunden.',
  sms: (word: string, number: string) => `Ohne Internet: Schreiben Sie eine SMS mit ${word} an ${number}.`,
  opened: 'Offen: Drücken Sie jetzt die Tür auf.',
  offline: 'Die Tür hat nicht geantwortet. So kommen Sie trotzdem hinein:',
  pin: 'Code für die Tastatur (einmal gültig, bis',
  pinEnd: '), danach # drücken:',
  qr: 'Oder halten Sie diesen Code vor den Scanner an der Tür:',
  qrLabel: 'QR-Code zum Öffnen der Tür',
  link: 'Oder öffnen Sie die Seite der Tür im WLAN der Tür:',
  linkText: 'Seite der Tür',
  again: 'Zurück',
  euroKey: 'Mit dem Euro-Schlüssel öffnet die Tür auch ohne Code.',
  limited: 'Zu viele Versuche. Bitte versuchen Sie es später noch einmal.',
  unknownDoor: 'Diese Tür gibt es hier nicht.',
  refused: {
    occupied: 'Besetzt: Die Toilette ist gerade belegt. Bitte warten Sie einen Moment.',
    out_of_service: 'Außer Betrieb: Die Toilette wird gerade gereinigt oder ist gesperrt.',
    lock_unavailable: 'Die Tür ist gerade gestört. Bitte wenden Sie sich an die Stadt.',
    other: 'Die Tür hat abgelehnt. Bitte versuchen Sie es noch einmal.',
  } as Record<string, string>,
};

const en: typeof de = {
  other: 'Deutsch',
  state: 'State',
  free: 'free',
  occupied: 'occupied',
  out_of_service: 'out of service',
  unknown: 'not known',
  open: 'Open',
  hint: 'Tap “Open”. The door unlocks for a few seconds.',
  sms: (word: string, number: string) => `No internet? Text ${word} to ${number}.`,
  opened: 'Open: push the door now.',
  offline: 'The door did not answer. You can still get in:',
  pin: 'Code for the keypad (works once, until',
  pinEnd: '), then press #:',
  qr: 'Or hold this code up to the scanner at the door:',
  qrLabel: 'QR code that opens the door',
  link: "Or open the door's own page on the door's Wi-Fi:",
  linkText: "The door's page",
  again: 'Back',
  euroKey: 'A Euro-key opens the door without a code too.',
  limited: 'Too many tries. Please try again later.',
  unknownDoor: 'There is no such door here.',
  refused: {
    occupied: 'Occupied: someone is inside. Please wait a moment.',
    out_of_service: 'Out of service: the toilet is being cleaned or is closed.',
    lock_unavailable: 'The door has a fault right now. Please contact the town.',
    other: 'The door refused. Please try again.',
  },
};

export const TEXT: Record<Lang, typeof de> = { de, en };

/** The plain-words refusal for a gateway's reason code. */
export function refusalText(lang: Lang, reason: string): string {
  const r = TEXT[lang].refused;
  return r[reason] ?? r.other!;
}
