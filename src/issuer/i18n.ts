import type { Lang } from '../core/lang.js';

/** The door page's two languages and the choice of one per request live in src/core/lang.ts (shared with the gateway's pass page). */
export { LANGS, type Lang, pickLang } from '../core/lang.js';

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
