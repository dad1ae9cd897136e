'use strict';
/**
 * Debian's mosquitto, started by the e2e check with its own config on
 * 127.0.0.1 and a free port (never the system service), and a raw MQTT
 * subscriber that stops reading, to measure what a stalled client costs the
 * broker.
 */
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');
const { HOST, start, waitFor, freePort } = require('./lib');

async function startMosquitto({ workDir, extra = [] }) {
  fs.mkdirSync(workDir, { recursive: true });
  fs.chmodSync(workDir, 0o755);
  const port = await freePort();
  const conf = path.join(workDir, 'mosquitto.conf');
  fs.writeFileSync(conf, [
    '# Written by scripts/e2e/mosquitto.js',
    `listener ${port} ${HOST}`,
    'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    ...extra,
    '',
  ].join('\n'));
  // As root mosquitto drops to the 'mosquitto' user; it reads its config before that.
  fs.chmodSync(conf, 0o644);
  const child = start('mosquitto', ['-c', conf], { name: `mosquitto :${port}` });
  await waitFor(`mosquitto :${port}`, () => new Promise((resolve, reject) => {
    if (child.proc.exitCode !== null) return reject(new Error(`mosquitto exited: ${child.output()}`));
    const s = net.connect(port, HOST, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  }), 15_000);
  return { child, port, conf };
}

/** Resident memory of a process, bytes (Linux). */
function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

function mqttString(s) {
  const b = Buffer.from(s, 'utf8');
  const l = Buffer.alloc(2);
  l.writeUInt16BE(b.length);
  return Buffer.concat([l, b]);
}

function packet(type, body) {
  const len = [];
  let n = body.length;
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 0x80;
    len.push(d);
  } while (n > 0);
  return Buffer.concat([Buffer.from([type, ...len]), body]);
}

/**
 * An MQTT 3.1.1 client that subscribes to `topic` (QoS 0) and then never
 * reads its socket again: what a hung dashboard or a phone on a bad link is
 * to the broker.
 */
function stalledSubscriber(port, topic) {
  const sock = net.connect(port, HOST);
  sock.on('error', () => {});
  sock.once('connect', () => {
    const connect = packet(0x10, Buffer.concat([mqttString('MQTT'), Buffer.from([4, 0x02, 0, 60]), mqttString(`stalled-${process.pid}`)]));
    const subscribe = packet(0x82, Buffer.concat([Buffer.from([0, 1]), mqttString(topic), Buffer.from([0])]));
    sock.write(Buffer.concat([connect, subscribe]));
    // Let CONNACK/SUBACK in, then stop reading for good.
    setTimeout(() => sock.pause(), 300);
  });
  return sock;
}

module.exports = { startMosquitto, rssBytes, stalledSubscriber };
