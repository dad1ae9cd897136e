/**
 * One-time tickets for the wall's WebSocket upgrade.
 *
 * Node-RED applies httpNodeAuth (and httpNodeMiddleware) to HTTP routes on
 * its node server but not to WebSocket upgrades, which bypass express. So a
 * page first GETs a ticket from an ordinary httpNode route - through exactly
 * the authentication every node route has, whatever it is (Basic, a custom
 * middleware, a proxy's header check) - and presents it once on the upgrade.
 */
import { randomBytes } from 'node:crypto';

export const TICKET_TTL_MS = 60_000;
/** Outstanding tickets at most; the oldest are forgotten first. */
export const MAX_TICKETS = 1000;

export class TicketStore {
  private readonly tickets = new Map<string, number>();

  constructor(
    private readonly ttlMs = TICKET_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  issue(): string {
    this.expire();
    while (this.tickets.size >= MAX_TICKETS) this.tickets.delete(this.tickets.keys().next().value as string);
    const t = randomBytes(24).toString('base64url');
    this.tickets.set(t, this.now() + this.ttlMs);
    return t;
  }

  /** True once per issued, unexpired ticket. */
  take(ticket: unknown): boolean {
    if (typeof ticket !== 'string' || ticket.length > 64) return false;
    const until = this.tickets.get(ticket);
    if (until === undefined) return false;
    this.tickets.delete(ticket);
    return until >= this.now();
  }

  get size(): number {
    return this.tickets.size;
  }

  private expire(): void {
    const now = this.now();
    // Insertion order is expiry order (one TTL for all).
    for (const [t, until] of this.tickets) {
      if (until >= now) break;
      this.tickets.delete(t);
    }
  }
}
