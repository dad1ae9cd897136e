/**
 * Turns the axmjpeg-camera editor settings into a checked CameraEndpoint, so the
 * config node and its "Test connection" admin endpoint agree on every rule.
 */
import { isIPv6 } from 'node:net';
import type { Node } from 'node-red';
import type { CameraEndpoint } from '../../src/http';
import { CameraError, ErrorCodes } from '../../src/errors';
import { normalizeFingerprint } from '../../src/http/tls-pin';

export interface EndpointSettings {
  host?: string;
  port?: string | number;
  protocol?: string;
  auth?: string;
  allowSelfSigned?: boolean;
  ca?: string;
  /** Unset (configs saved before the option existed) means allowed. */
  allowBasicHttp?: boolean;
  /** SHA-256 fingerprint of the one certificate trusted for this camera (https only). */
  pinSha256?: string;
}

export interface Credentials {
  user?: string;
  password?: string;
}

/** Node-RED's own tls-config node. */
export interface TlsConfigNode extends Node {
  addTLSOptions(opts: Record<string, unknown>): void;
}

/** `n` if it is a tls-config node; anything else (another node type, a missing node) is null. */
export function asTlsConfigNode(n: unknown): TlsConfigNode | null {
  const t = n as Partial<TlsConfigNode> | null;
  return t && t.type === 'tls-config' && typeof t.addTLSOptions === 'function' ? (t as TlsConfigNode) : null;
}

function num(v: unknown, fallback: number): number {
  if (v === undefined || v === null || v === '') return fallback;
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
}

/** Builds and checks the endpoint; throws ERR_INVALID_SETTING with the field name. */
export function endpointFrom(
  def: EndpointSettings,
  creds: Credentials,
  tlsNode?: TlsConfigNode | null,
): CameraEndpoint {
  const raw = String(def.host ?? '').trim();
  if (!raw) throw new CameraError(ErrorCodes.INVALID_SETTING, 'Camera host is empty');
  if (/[/@\s]/.test(raw) || raw.includes('://'))
    throw new CameraError(
      ErrorCodes.INVALID_SETTING,
      'Camera host must be a host name or IP address only, without http://, path or user:password@',
    );
  const protocol = def.protocol === 'https' ? 'https' : 'http';
  const { host, port: hostPort } = splitHost(raw);
  let port = num(def.port, protocol === 'https' ? 443 : 80);
  if (hostPort !== undefined) {
    // "192.168.0.90:8080" with the port field blank is understood; two different ports are not guessed between.
    if (def.port !== undefined && def.port !== null && String(def.port).trim() !== '' && port !== hostPort)
      throw new CameraError(
        ErrorCodes.INVALID_SETTING,
        `Camera host "${raw}" includes port ${hostPort}, but the Port field says ${String(def.port)}: put only the address in Host and the port in Port`,
      );
    port = hostPort;
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new CameraError(ErrorCodes.INVALID_SETTING, `Camera port must be 1-65535, got "${String(hostPort ?? def.port)}"`);
  const auth = (def.auth || 'auto') as NonNullable<CameraEndpoint['auth']>;
  if (!['auto', 'basic', 'digest', 'none'].includes(auth))
    throw new CameraError(ErrorCodes.INVALID_SETTING, `Unknown auth method "${String(auth)}"`);
  const ep: CameraEndpoint = { protocol, host, port, auth };
  if (def.allowBasicHttp === false) {
    ep.allowBasicOverHttp = false;
    if (protocol === 'http' && auth === 'basic')
      throw new CameraError(
        ErrorCodes.INVALID_SETTING,
        'Auth is Basic over http, but "Allow Basic over http" is off: use https, set Auth to Digest or Auto, or allow Basic over http',
      );
  }
  if (creds.user) ep.username = creds.user;
  if (creds.password) ep.password = creds.password;
  if (protocol === 'https') {
    const tls: NonNullable<CameraEndpoint['tls']> = {};
    if (tlsNode) {
      const o: Record<string, unknown> = {};
      tlsNode.addTLSOptions(o);
      if (o.ca) tls.ca = o.ca as string | Buffer;
      if (o.cert) tls.cert = o.cert as string | Buffer;
      if (o.key) tls.key = o.key as string | Buffer;
      if (o.servername) tls.servername = String(o.servername);
      if (o.rejectUnauthorized === false) tls.allowSelfSigned = true;
    }
    const ca = String(def.ca ?? '').trim();
    if (ca) {
      // A pasted file name or a private key would otherwise be ignored silently and verification fail later.
      if (!/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(ca))
        throw new CameraError(ErrorCodes.INVALID_SETTING, 'CA certificate must be PEM text from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----');
      tls.ca = ca;
    }
    if (def.allowSelfSigned) tls.allowSelfSigned = true;
    const rawPin = String(def.pinSha256 ?? '').trim();
    if (rawPin) {
      const pin = normalizeFingerprint(rawPin);
      if (!pin)
        throw new CameraError(ErrorCodes.INVALID_SETTING, 'Trusted certificate must be a SHA-256 fingerprint: 64 hex digits, colons optional (Test connection fills it in)');
      tls.pinSha256 = pin;
    }
    ep.tls = tls;
  }
  return ep;
}

/**
 * Host and optional port from the Host field. IPv6 literals come bare
 * (fe80::1) or in brackets ([fe80::1], [fe80::1]:8080); a name or IPv4
 * address may carry ":port". The host returned has no brackets.
 */
export function splitHost(raw: string): { host: string; port?: number } {
  const portOf = (p: string): number => {
    if (!/^\d{1,5}$/.test(p))
      throw new CameraError(ErrorCodes.INVALID_SETTING, `Camera host "${raw}" has "${p}" after the colon, not a port number: put the port in the Port field`);
    return Number(p);
  };
  const v6 = (h: string): string => {
    if (h.includes('%'))
      throw new CameraError(ErrorCodes.INVALID_SETTING, `Camera host "${raw}": IPv6 zone ids (%...) cannot be used in a URL; use the camera's global or unique-local IPv6 address, its IPv4 address or a host name`);
    if (!isIPv6(h)) throw new CameraError(ErrorCodes.INVALID_SETTING, `Camera host "${raw}" is not a valid IPv6 address`);
    return h;
  };
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(raw);
  if (bracketed) {
    const host = v6(bracketed[1] ?? '');
    return bracketed[2] === undefined ? { host } : { host, port: portOf(bracketed[2]) };
  }
  if (/[[\]]/.test(raw)) throw new CameraError(ErrorCodes.INVALID_SETTING, `Camera host "${raw}": write an IPv6 address with a port as [address]:port, or the address alone`);
  const colons = raw.split(':').length - 1;
  if (colons === 0) return { host: raw };
  if (colons === 1) {
    const [host = '', p = ''] = raw.split(':');
    if (!host) throw new CameraError(ErrorCodes.INVALID_SETTING, `Camera host "${raw}" has no address before the colon`);
    return { host, port: portOf(p) };
  }
  return { host: v6(raw) };
}

/**
 * Where a stored password would go and who could read it on the way: the
 * Test connection sends the deployed password only if this is unchanged.
 * Certificate settings count for https because a weaker check would let a
 * machine in the middle read the password as surely as another host.
 */
export function destinationKey(ep: CameraEndpoint, def: { tls?: string; ca?: string; allowSelfSigned?: boolean }): string {
  const parts: unknown[] = [ep.protocol, ep.host.toLowerCase(), ep.port];
  if (ep.protocol === 'https') parts.push(def.tls || '', String(def.ca ?? '').trim(), def.allowSelfSigned === true, ep.tls?.pinSha256 ?? '');
  return JSON.stringify(parts);
}
