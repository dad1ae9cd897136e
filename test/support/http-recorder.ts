/**
 * An HTTP(S) server on 127.0.0.1:0 that records what reaches it: every TCP
 * connection and every request's method, URL and Authorization header. By
 * default it asks for Basic auth, so a client holding a password sends it
 * readable and the test can see exactly which password it was.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';

export interface RecordedRequest {
  method: string;
  url: string;
  authorization?: string;
}

export interface HttpRecorder {
  port: number;
  /** TCP connections accepted (before any TLS handshake). */
  connections: number;
  requests: RecordedRequest[];
  /** Every Authorization header, Basic ones decoded to "user:password". */
  credentialsSeen(): string[];
  close(): Promise<void>;
}

export type Answer = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export const askForBasic: Answer = (_req, res) => {
  res.writeHead(401, { 'www-authenticate': 'Basic realm="recorder"', 'content-type': 'text/plain' });
  res.end('login');
};

export async function startHttpRecorder(answer: Answer = askForBasic, tls?: https.ServerOptions): Promise<HttpRecorder> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const r: RecordedRequest = { method: req.method ?? '', url: req.url ?? '' };
    if (req.headers.authorization) r.authorization = req.headers.authorization;
    requests.push(r);
    req.resume();
    answer(req, res);
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  const rec: HttpRecorder = {
    port: 0,
    connections: 0,
    requests,
    credentialsSeen: () =>
      requests.flatMap((r) => {
        if (!r.authorization) return [];
        const m = /^Basic\s+(\S+)/i.exec(r.authorization);
        return [m ? Buffer.from(m[1]!, 'base64').toString('utf8') : r.authorization];
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
  server.on('connection', (s: net.Socket) => {
    rec.connections++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  // A refused client certificate is the expected outcome of some tests, not a crash.
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  rec.port = (server.address() as AddressInfo).port;
  return rec;
}
