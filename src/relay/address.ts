/**
 * Per-client-address viewer accounting for the relay.
 *
 * The key is the TCP peer address only. X-Forwarded-For is deliberately not
 * read: any client can send it, so trusting it without a setting that names
 * the proxy would let one client pose as many. Behind a reverse proxy every
 * viewer therefore shares the proxy's address.
 */
import type { IncomingMessage } from 'node:http';

/** `::ffff:10.0.0.1` and `10.0.0.1` are the same client (dual-stack listeners report the former). */
export function clientAddress(req: IncomingMessage): string {
  const a = req.socket?.remoteAddress;
  if (!a) return 'unknown';
  const lower = a.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
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
