import type { Database, Statement } from 'better-sqlite3';
import { ErrorCode, PortierError } from '../core/errors.js';

/** A card (a Wiegand number, as the reader reports it) and what it opens. Times in s. */
export interface CardGrant {
  card: string;
  /** Lock ids and `group:NAME` entries, as a pass's `aud`. */
  aud: string[];
  /** Holder id, for revocation by subject and the pseudonym in decisions. */
  sub?: string;
  nbf?: number;
  exp?: number;
}

/** The card list: a card opens only what it is listed for. Cards carry no signature, so the list is the authority. */
export class CardStore {
  private readonly getCard: Statement;

  constructor(private readonly db: Database) {
    this.getCard = db.prepare('SELECT card, aud, sub, nbf, exp FROM access_cards WHERE card = ?');
  }

  put(grant: CardGrant, at = new Date().toISOString()): void {
    if (!/^[0-9A-Za-z:_-]{1,64}$/.test(grant.card)) {
      throw new PortierError(ErrorCode.AccessMalformed, 'a card number is 1-64 letters, digits, : _ or -');
    }
    if (grant.aud.length === 0) throw new PortierError(ErrorCode.AccessMalformed, 'a card must open something');
    this.db
      .prepare(
        `INSERT INTO access_cards (card, aud, sub, nbf, exp, added_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(card) DO UPDATE SET aud = excluded.aud, sub = excluded.sub, nbf = excluded.nbf,
           exp = excluded.exp, added_at = excluded.added_at`,
      )
      .run(grant.card, JSON.stringify(grant.aud), grant.sub ?? null, grant.nbf ?? null, grant.exp ?? null, at);
  }

  get(card: string): CardGrant | undefined {
    const row = this.getCard.get(card) as
      | { card: string; aud: string; sub: string | null; nbf: number | null; exp: number | null }
      | undefined;
    if (!row) return undefined;
    const grant: CardGrant = { card: row.card, aud: JSON.parse(row.aud) as string[] };
    if (row.sub !== null) grant.sub = row.sub;
    if (row.nbf !== null) grant.nbf = row.nbf;
    if (row.exp !== null) grant.exp = row.exp;
    return grant;
  }

  remove(card: string): boolean {
    return this.db.prepare('DELETE FROM access_cards WHERE card = ?').run(card).changes > 0;
  }

  list(): CardGrant[] {
    const cards = this.db.prepare('SELECT card FROM access_cards ORDER BY card').pluck().all() as string[];
    return cards.map((c) => this.get(c)!);
  }
}
