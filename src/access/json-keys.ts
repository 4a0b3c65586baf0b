/**
 * The first member name that appears twice in one JSON object of `json`, at any depth, or undefined. JSON.parse
 * keeps the last of duplicates (RFC 8259 section 4 leaves it to the parser), so `{"aud":"a","aud":"b"}` would mean
 * whatever the last one says, while another parser may take the first: RFC 7515 section 5.2 and RFC 7519 section 7.2
 * tell a recipient to reject such a header or claims set, as the COSE path does. Names are compared after their
 * escapes are read (`"aud"` and `"\u0061ud"` are the same name). Meant for text JSON.parse has accepted; on other
 * text it stops at the end without throwing.
 */
export function duplicateKey(json: string): string | undefined {
  /** Per open container: the names seen in an object, null for an array. */
  const stack: Array<Set<string> | null> = [];
  let expectName = false;
  const end = json.length;
  for (let i = 0; i < end; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < end && json.charCodeAt(j) !== 0x22) j += json.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const names = stack.at(-1);
      if (expectName && names) {
        const raw = json.slice(i, j + 1);
        const name = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (names.has(name)) return name;
        names.add(name);
        expectName = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectName = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectName = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = stack.length > 0 && stack.at(-1) !== null;
    }
  }
  return undefined;
}
