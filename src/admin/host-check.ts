import { hostname, networkInterfaces } from 'node:os';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** The host part of a Host header (RFC 9110 section 7.2), lowercase, without port or IPv6 brackets. */
export function hostOf(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.indexOf(':');
  // More than one colon without brackets is no valid Host; it is returned whole and matches nothing.
  return colon >= 0 && h.indexOf(':', colon + 1) < 0 ? h.slice(0, colon) : h;
}

/**
 * The names the admin API answers to: its listen address; localhost and the loopback addresses when it listens on
 * loopback or on every address; on every address also the machine's own addresses and host name (`pi`,
 * `pi.local`); and the configured `admin.host_names`. A browser on the Pi that visits an attacker's page whose
 * name resolves to 127.0.0.1 (DNS rebinding) sends that name as Host, which is none of these.
 */
export function allowedHosts(listenHost: string, extra: readonly string[] = []): Set<string> {
  const listen = hostOf(listenHost);
  const names = new Set<string>(extra.map((n) => hostOf(n)));
  const wildcard = WILDCARDS.has(listenHost) || WILDCARDS.has(listen);
  if (!wildcard) names.add(listen);
  if (wildcard || LOOPBACK_NAMES.includes(listen) || /^127\./.test(listen)) {
    for (const n of LOOPBACK_NAMES) names.add(n);
  }
  if (wildcard) {
    const own = hostname().toLowerCase();
    names.add(own);
    names.add(`${own}.local`);
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) names.add(a.address.toLowerCase().replace(/%.*$/, ''));
    }
  }
  return names;
}
