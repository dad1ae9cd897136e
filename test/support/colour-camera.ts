/**
 * A camera stand-in for live-view timing tests: an HTTP server on 127.0.0.1
 * that streams flat-colour JPEGs as multipart/x-mixed-replace (Axis layout:
 * delimiter, Content-Type, Content-Length, body) only when the test says so,
 * and records when each frame's last byte was handed to the socket.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { encode } from 'jpeg-js';

const BOUNDARY = 'colourcam';

export type Rgb = readonly [number, number, number];

export function solidJpeg(rgb: Rgb, width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    data[p * 4] = rgb[0];
    data[p * 4 + 1] = rgb[1];
    data[p * 4 + 2] = rgb[2];
    data[p * 4 + 3] = 0xff;
  }
  return encode({ data, width, height }, 90).data;
}

export interface ColourCamera {
  port: number;
  /** Open stream requests. */
  readonly clients: number;
  /** Writes one frame to every client; returns the time (Date.now()) it was written. */
  send(rgb: Rgb): number;
  /** Goes away like an unplugged camera: connections dropped, the port refuses. */
  stop(): Promise<void>;
  /** Listens on the same port again. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

export async function startColourCamera(width: number, height: number): Promise<ColourCamera> {
  const clients = new Set<http.ServerResponse>();
  const cache = new Map<string, Buffer>();
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`, 'Cache-Control': 'no-cache', Connection: 'close' });
    res.socket?.setNoDelay(true);
    clients.add(res);
    res.on('close', () => clients.delete(res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  let listening = true;
  const stop = async (): Promise<void> => {
    for (const c of clients) c.destroy();
    server.closeAllConnections();
    if (listening) await new Promise((r) => server.close(r));
    listening = false;
  };
  return {
    port,
    get clients() {
      return clients.size;
    },
    send(rgb) {
      const key = rgb.join(',');
      let jpeg = cache.get(key);
      if (!jpeg) cache.set(key, (jpeg = solidJpeg(rgb, width, height)));
      const head = Buffer.from(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`, 'latin1');
      const part = Buffer.concat([head, jpeg, Buffer.from('\r\n')]);
      for (const c of clients) c.write(part);
      return Date.now();
    },
    stop,
    async resume() {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      listening = true;
    },
    close: stop,
  };
}
