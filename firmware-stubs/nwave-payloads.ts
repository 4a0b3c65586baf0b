/**
 * Nwave NPS405 uplink payloads as the sensor sends them (Nwave's LoRaWAN application protocol, uplink messages):
 * port 1 "parking status" is one byte, bit 0 the occupancy and bits 1-7 the compressed duration of the previous
 * state in minutes.
 */
export function nps405Status(occupied: boolean, previousStateMinutes = 0): Buffer {
  const code = Math.min(89, Math.max(0, Math.round(previousStateMinutes)));
  return Buffer.from([(code << 1) | (occupied ? 1 : 0)]);
}
