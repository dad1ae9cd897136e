/**
 * A self-signed certificate made at start-up, as an HTTPS-only camera has
 * one (AXIS OS 13 generates its own). node:crypto makes keys but no X.509
 * certificates, and the openssl CLI is not on every machine (Windows, slim
 * CI images), so the certificate is written here in DER by hand: EC P-256,
 * ecdsa-with-SHA256, subjectAltName for the simulator's names.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { isIPv4 } from 'node:net';

export interface GeneratedCertificate {
  cert: string;
  key: string;
  /** `AB:CD:...` as Node and browsers show it. */
  sha256: string;
}

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

const seq = (...c: Buffer[]): Buffer => tlv(0x30, ...c);

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const parts: number[] = [];
    let v = n;
    do {
      parts.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < parts.length - 1; i++) parts[i]! |= 0x80;
    out.push(...parts);
  }
  return tlv(0x06, Buffer.from(out));
}

function utcTime(d: Date): Buffer {
  const p = (n: number): string => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(s, 'latin1'));
}

function name(cn: string): Buffer {
  return seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
}

function altNames(names: string[]): Buffer {
  const general = names.map((n) =>
    isIPv4(n) ? tlv(0x87, Buffer.from(n.split('.').map(Number))) : tlv(0x82, Buffer.from(n, 'latin1')),
  );
  return seq(...general);
}

const ECDSA_SHA256 = '1.2.840.10045.4.3.2';

/**
 * A fresh key and a certificate for `names` (IPv4 addresses and DNS names),
 * valid from an hour ago (clock skew) for `days`.
 */
export function selfSignedCertificate(names: string[] = ['127.0.0.1', 'localhost'], days = 30, cn = 'AXIS simulated camera'): GeneratedCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a positive INTEGER
  if (serial[0] === 0) serial[0] = 1;
  const now = Date.now();
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    seq(oid(ECDSA_SHA256)),
    name(cn),
    seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + days * 86_400_000))),
    name(cn),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(
      0xa3,
      seq(
        // basicConstraints, critical, CA:TRUE: what `openssl req -x509` writes, so it can also be given as a CA.
        seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, seq(tlv(0x01, Buffer.from([0xff]))))),
        seq(oid('2.5.29.17'), tlv(0x04, altNames(names))),
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, seq(oid(ECDSA_SHA256)), tlv(0x03, Buffer.from([0]), signature));
  const cert = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  const key = createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })).export({ type: 'pkcs8', format: 'pem' }) as string;
  return { cert, key, sha256: new X509Certificate(cert).fingerprint256 };
}
