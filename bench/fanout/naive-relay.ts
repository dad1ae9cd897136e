/**
 * The naive relay the fan-out bench compares against: the pattern of small
 * npm MJPEG proxies. One upstream connection (our client and parser, so the
 * camera side is identical), and every frame written to every viewer's
 * response as it arrives, ignoring write()'s return value. A viewer that
 * does not read makes Node buffer every frame for it, in user space.
 *
 * Run as a child process (fork); tells its parent the port it listens on.
 *   { ev: 'listening', port } after start; { ev: 'upstream', frames } on request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CameraHttpClient } from '../../src/http';
import { MjpegParser } from '../../src/parser';

const BOUNDARY = 'naiverelayboundary';

export type ToNaive = { cmd: 'stats' };
export type FromNaive = { ev: 'listening'; port: number } | { ev: 'stats'; frames: number; viewers: number } | { ev: 'error'; message: string };

export interface NaiveRelayArgs {
  cameraPort: number;
  path: string;
  username: string;
  password: string;
}

async function main(args: NaiveRelayArgs): Promise<void> {
  const viewers = new Set<http.ServerResponse>();
  let frames = 0;

  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`, 'Cache-Control': 'no-cache' });
    viewers.add(res);
    res.on('close', () => viewers.delete(res));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));

  const client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: args.cameraPort, username: args.username, password: args.password, auth: 'auto' });
  const res = await client.request(args.path, { expect: 'multipart' });
  const parser = new MjpegParser({
    onFrame: ({ data }) => {
      frames++;
      const head = Buffer.from(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${data.length}\r\n\r\n`, 'latin1');
      // The point of this relay: no backpressure, no drops.
      for (const v of viewers) {
        v.write(head);
        v.write(data);
        v.write('\r\n');
      }
    },
  });
  process.on('message', (m: ToNaive) => {
    if (m.cmd === 'stats') process.send!({ ev: 'stats', frames, viewers: viewers.size } satisfies FromNaive);
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ ev: 'listening', port: (server.address() as AddressInfo).port } satisfies FromNaive);
  for await (const chunk of res.body) parser.push(chunk);
}

if (require.main === module) {
  const args = JSON.parse(process.argv[2] ?? '{}') as NaiveRelayArgs;
  main(args).catch((e: Error) => {
    process.send?.({ ev: 'error', message: e.message } satisfies FromNaive);
    process.exitCode = 1;
  });
}
