/**
 * Certificate pinning: trust exactly one certificate, by its SHA-256
 * fingerprint, instead of a CA chain. Made for cameras with a self-signed
 * certificate (AXIS OS 13 ships HTTPS-only with one): stricter than
 * "accept self-signed", which trusts anyone who answers.
 *
 * The check runs on the TLS socket as soon as the handshake is done and
 * before undici writes a byte of the request, so an impostor never sees a
 * password, a Digest answer or a WebSocket upgrade.
 */
import * as tls from 'node:tls';
import { CameraError, ErrorCodes } from '../errors';

export interface CertificateInfo {
  /** `AB:CD:...`, 32 upper-case hex pairs: the form browsers and `openssl x509 -fingerprint -sha256` show. */
  sha256: string;
  /** ISO date, or null when the certificate's date does not parse. */
  validTo: string | null;
  /** Issuer and subject are the same: no CA vouches for it. */
  selfSigned: boolean;
}

/** Normalises a typed or pasted fingerprint; null when it is not 64 hex digits (colons, spaces optional). */
export function normalizeFingerprint(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const hex = v.replace(/^sha-?256\s*(fingerprint)?\s*[:=]?/i, '').replace(/[\s:]/g, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return null;
  return hex.toUpperCase().match(/../g)!.join(':');
}

function sameName(a: tls.Certificate | undefined, b: tls.Certificate | undefined): boolean {
  return JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});
}

export function certificateInfo(cert: tls.PeerCertificate): CertificateInfo {
  const to = Date.parse(cert.valid_to);
  return {
    sha256: cert.fingerprint256.toUpperCase(),
    validTo: Number.isFinite(to) ? new Date(to).toISOString() : null,
    selfSigned: sameName(cert.issuer, cert.subject),
  };
}

export function pinMismatch(where: string, expected: string, got: string | null): CameraError {
  return new CameraError(
    ErrorCodes.TLS_PIN_MISMATCH,
    `${where} presented a certificate other than the trusted one: expected SHA-256 ${expected}, got ${got ?? 'none'}`,
  );
}

/**
 * Throws ERR_TLS_PIN_MISMATCH unless the socket's peer certificate is the
 * pinned one. The leaf only: a pin is one certificate, not whoever signed it.
 */
export function checkPin(socket: tls.TLSSocket, pin: string, where: string): void {
  const cert = socket.getPeerCertificate();
  const got = cert && cert.fingerprint256 ? cert.fingerprint256.toUpperCase() : null;
  if (got !== pin) throw pinMismatch(where, pin, got);
}

export interface ProbeOptions {
  host: string;
  port: number;
  servername?: string;
  timeoutMs: number;
  /** A client certificate, for cameras that want one before they finish the handshake. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

/**
 * The certificate a TLS server presents, without trusting or sending
 * anything: one handshake, then the socket is closed. Rejects with a
 * CameraError when there is no TLS server there.
 */
export function probeCertificate(o: ProbeOptions): Promise<CertificateInfo> {
  return new Promise((resolve, reject) => {
    const opts: tls.ConnectionOptions = { host: o.host, port: o.port, rejectUnauthorized: false };
    // SNI must be a name, never an IP literal (RFC 6066).
    const sni = o.servername ?? o.host;
    if (!/^[\d.]+$/.test(sni) && !sni.includes(':')) opts.servername = sni;
    if (o.cert) opts.cert = o.cert;
    if (o.key) opts.key = o.key;
    const socket = tls.connect(opts);
    const timer = setTimeout(() => finish(new CameraError(ErrorCodes.CONNECT_TIMEOUT, `no TLS handshake with ${o.host}:${o.port} in time`)), o.timeoutMs);
    let done = false;
    function finish(err: CameraError | null, info?: CertificateInfo): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(info as CertificateInfo);
    }
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      if (!cert || !cert.fingerprint256) finish(new CameraError(ErrorCodes.TLS, `${o.host}:${o.port} presented no certificate`));
      else finish(null, certificateInfo(cert));
    });
    socket.once('error', (e: NodeJS.ErrnoException) =>
      finish(new CameraError(e.code === 'ECONNREFUSED' ? ErrorCodes.CONN_REFUSED : ErrorCodes.TLS, `no TLS server at ${o.host}:${o.port} (${e.code ?? e.message})`)),
    );
  });
}
