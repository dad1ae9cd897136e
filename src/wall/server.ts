/**
 * The wall's WebSocket endpoint on an existing HTTP server (Node-RED's
 * RED.server): answers `upgrade` for its own path only, after checking a
 * one-time ticket (see tickets.ts), and leaves every other upgrade (the
 * dashboard's socket.io, websocket-in nodes) alone.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { WallConnection } from './connection';
import type { TicketStore } from './tickets';
import type { WallWidgets } from './widgets';

/** Pages that answer no ping within this time are dropped (a laptop lid closed, a dead proxy). */
export const PING_INTERVAL_MS = 30_000;
/** Concurrent pages at most. */
export const MAX_CONNECTIONS = 500;
/** Text frames from the page are tiny. */
const MAX_PAYLOAD = 4096;

export interface WallServerOptions {
  /** Full URL path of the socket, e.g. `/axmjpeg-wall/ws` or `/endpoint/axmjpeg-wall/ws`. */
  path: string;
  widgets: WallWidgets;
  tickets: TicketStore;
  window?: number;
  maxConnections?: number;
  pingIntervalMs?: number;
}

function refuse(socket: Duplex, status: number, text: string): void {
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 503 ? 'Service Unavailable' : 'Bad Request'}\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export class WallServer {
  private readonly wss = new WebSocket.Server({ noServer: true, perMessageDeflate: false, maxPayload: MAX_PAYLOAD, clientTracking: false });
  private readonly conns = new Map<WebSocket, WallConnection>();
  private readonly alive = new WeakSet<WebSocket>();
  private pinger: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly opts: WallServerOptions) {}

  get connections(): number {
    return this.conns.size;
  }

  get connectionStats(): WallConnection['stats'][] {
    return [...this.conns.values()].map((c) => c.stats);
  }

  /** For RED.server's 'upgrade': returns false (and touches nothing) when the path is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    if (pathname !== this.opts.path) return false;
    const ticket = new URLSearchParams(q < 0 ? '' : url.slice(q + 1)).get('ticket');
    if (this.closed) {
      refuse(socket, 503, 'camera wall stopped');
    } else if (!this.opts.tickets.take(ticket)) {
      refuse(socket, 401, 'camera wall: missing or expired ticket (GET the ticket URL first)');
    } else if (this.conns.size >= (this.opts.maxConnections ?? MAX_CONNECTIONS)) {
      refuse(socket, 503, 'camera wall: too many pages connected');
    } else {
      this.wss.handleUpgrade(req, socket as Socket, head, (ws) => this.accept(ws));
    }
    return true;
  }

  /** Ends every page connection and refuses new ones. */
  close(): void {
    this.closed = true;
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
    for (const [ws, c] of this.conns) {
      c.close();
      ws.terminate();
    }
    this.conns.clear();
  }

  private accept(ws: WebSocket): void {
    if (this.closed) {
      ws.terminate();
      return;
    }
    const c = new WallConnection(ws, { widgets: this.opts.widgets, window: this.opts.window });
    this.conns.set(ws, c);
    this.alive.add(ws);
    ws.on('pong', () => this.alive.add(ws));
    ws.on('close', () => {
      this.conns.delete(ws);
      if (this.conns.size === 0 && this.pinger) {
        clearInterval(this.pinger);
        this.pinger = null;
      }
    });
    if (!this.pinger) {
      this.pinger = setInterval(() => this.ping(), this.opts.pingIntervalMs ?? PING_INTERVAL_MS);
      this.pinger.unref();
    }
  }

  private ping(): void {
    for (const [ws, c] of this.conns) {
      if (!this.alive.has(ws)) {
        c.close();
        ws.terminate();
        this.conns.delete(ws);
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }
}
