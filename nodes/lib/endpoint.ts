/**
 * Turns the axmjpeg-camera editor settings into a checked CameraEndpoint, so the
 * config node and its "Test connection" admin endpoint agree on every rule.
 */
import type { Node } from 'node-red';
import type { CameraEndpoint } from '../../src/http';
import { CameraError, ErrorCodes } from '../../src/errors';

export interface EndpointSettings {
  host?: string;
  port?: string | number;
  protocol?: string;
  auth?: string;
  allowSelfSigned?: boolean;
  ca?: string;
}

export interface Credentials {
  user?: string;
  password?: string;
}

/** Node-RED's own tls-config node. */
export interface TlsConfigNode extends Node {
  addTLSOptions(opts: Record<string, unknown>): void;
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
  const host = String(def.host ?? '').trim();
  if (!host) throw new CameraError(ErrorCodes.INVALID_SETTING, 'Camera host is empty');
  if (/[/@\s]/.test(host) || host.includes('://'))
    throw new CameraError(
      ErrorCodes.INVALID_SETTING,
      'Camera host must be a host name or IP address only, without http://, path or user:password@',
    );
  const protocol = def.protocol === 'https' ? 'https' : 'http';
  const port = num(def.port, protocol === 'https' ? 443 : 80);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new CameraError(ErrorCodes.INVALID_SETTING, `Camera port must be 1-65535, got "${String(def.port)}"`);
  const auth = (def.auth || 'auto') as NonNullable<CameraEndpoint['auth']>;
  if (!['auto', 'basic', 'digest', 'none'].includes(auth))
    throw new CameraError(ErrorCodes.INVALID_SETTING, `Unknown auth method "${String(auth)}"`);
  const ep: CameraEndpoint = { protocol, host, port, auth };
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
    ep.tls = tls;
  }
  return ep;
}

