/**
 * Per-client-address viewer accounting for the relay.
 *
 * The key is the TCP peer address, unless that peer is a proxy the
 * `trustedProxies` setting names: then it is the address that proxy put in
 * X-Forwarded-For. Any client can send X-Forwarded-For, so it is read only
 * from a named proxy; otherwise one client could pose as many, and behind a
 * reverse proxy every viewer shares the proxy's address (one nginx would hit
 * the per-address limit at 10 viewers, and warnings would name nginx).
 */
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** `::ffff:10.0.0.1` and `10.0.0.1` are the same client (dual-stack listeners report the former). */
export function normalizeAddress(a: string): string {
  const lower = a.trim().toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

/**
 * `127.0.0.1, ::1` or `loopback` (both) → the set of proxy addresses whose
 * X-Forwarded-For is believed. Throws with the offending entry for anything
 * that is not an IP address.
 */
export function parseTrustedProxies(text: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const raw of String(text ?? '').split(/[\s,]+/)) {
    const e = raw.trim();
    if (e === '') continue;
    if (e.toLowerCase() === 'loopback') {
      out.add('127.0.0.1');
      out.add('::1');
    } else if (isIP(e)) out.add(normalizeAddress(e));
    else throw new Error(`not an IP address: ${JSON.stringify(e)}`);
  }
  return out;
}

export interface ClientInfo {
  /** The key of the per-address limit. */
  address: string;
  /** For messages: the viewer, and the proxy it came through when there is one. */
  label: string;
}

export function clientInfo(req: IncomingMessage, trusted?: ReadonlySet<string>): ClientInfo {
  const peerRaw = req.socket?.remoteAddress;
  const peer = peerRaw ? normalizeAddress(peerRaw) : 'unknown';
  const peerLabel = `${peer}:${req.socket?.remotePort ?? '?'}`;
  if (!trusted || trusted.size === 0 || !trusted.has(peer)) return { address: peer, label: peerLabel };
  const xff = req.headers?.['x-forwarded-for'];
  const hops = (Array.isArray(xff) ? xff.join(',') : String(xff ?? ''))
    .split(',')
    .map((h) => normalizeAddress(h))
    .filter((h) => h !== '');
  // From the right: each trusted proxy appended the address it got the request from.
  let client: string | null = null;
  for (let i = hops.length - 1; i >= 0; i--) {
    const h = hops[i]!;
    if (!isIP(h)) break;
    client = h;
    if (!trusted.has(h)) break;
  }
  if (!client) return { address: peer, label: peerLabel };
  return { address: client, label: `${client} (via proxy ${peerLabel})` };
}

export function clientAddress(req: IncomingMessage, trusted?: ReadonlySet<string>): string {
  return clientInfo(req, trusted).address;
}

/** Open viewers per address; entries go away at zero so the map cannot grow with departed clients. */
export class AddressCounter {
  private readonly counts = new Map<string, number>();

  count(addr: string): number {
    return this.counts.get(addr) ?? 0;
  }

  add(addr: string): void {
    this.counts.set(addr, this.count(addr) + 1);
  }

  remove(addr: string): void {
    const n = this.count(addr) - 1;
    if (n > 0) this.counts.set(addr, n);
    else this.counts.delete(addr);
  }

  get size(): number {
    return this.counts.size;
  }
}
