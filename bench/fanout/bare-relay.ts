/**
 * The floor the fan-out bench compares axmjpeg-out's CPU against: a bare
 * node socket relay. One upstream connection (our client and parser, so the
 * camera side is identical), one pre-built Buffer per frame (part header,
 * JPEG, CRLF), and `socket.write()` of it to each viewer's socket whose
 * previous frame has gone out (others skip the frame: no queue, like ours).
 * No Node-RED, no per-viewer options, no stuck detection: nothing a real
 * relay could go below.
 *
 * Run as a child process (fork); tells its parent the port it listens on.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CameraHttpClient } from '../../src/http';
import { MjpegParser } from '../../src/parser';
import type { FromNaive, NaiveRelayArgs } from './naive-relay';

const BOUNDARY = 'barerelayboundary';

async function main(args: NaiveRelayArgs): Promise<void> {
  const viewers = new Set<Socket>();
  const server = http.createServer((req, res) => {
    // Close-delimited, not chunked (as ours and cameras send it).
    res.removeHeader('Transfer-Encoding');
    res.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`, 'Cache-Control': 'no-cache', Connection: 'close' });
    res.flushHeaders();
    const sock = res.socket!;
    sock.setNoDelay(true);
    viewers.add(sock);
    sock.on('close', () => viewers.delete(sock));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));

  const client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: args.cameraPort, username: args.username, password: args.password, auth: 'auto' });
  const res = await client.request(args.path, { expect: 'multipart' });
  const parser = new MjpegParser({
    onFrame: ({ data }) => {
      const part = Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${data.length}\r\n\r\n`, 'latin1'), data, Buffer.from('\r\n')]);
      for (const s of viewers) if (s.writableLength === 0) s.write(part);
    },
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
