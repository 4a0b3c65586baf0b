/**
 * CRC-16/CCITT as Davis uses it (the XMODEM variant: polynomial 0x1021, initial value 0, no reflection, no final
 * XOR). Davis sends the CRC most significant byte first, so running the CRC over a whole packet including its
 * two CRC bytes gives 0 when the packet is intact (Vantage Serial Communication Reference, section "CRC").
 */

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** CRC-16/XMODEM of `bytes` (optionally continuing from `crc`), 0-65535. */
export function crc16Xmodem(bytes: Uint8Array, crc = 0): number {
  let c = crc & 0xffff;
  for (const byte of bytes) c = ((c << 8) & 0xffff) ^ TABLE[((c >> 8) ^ byte) & 0xff]!;
  return c;
}

/** `body` followed by its CRC, most significant byte first: what a Davis console puts on the wire. */
export function appendDavisCrc(body: Uint8Array): Buffer {
  const crc = crc16Xmodem(body);
  const out = Buffer.alloc(body.length + 2);
  out.set(body, 0);
  out.writeUInt16BE(crc, body.length);
  return out;
}
