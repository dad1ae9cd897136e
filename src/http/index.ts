export * from './client';
export * from './digest';
export * from './www-authenticate';
export { redactUrl, REDACTED } from './redact';
export { mapRequestError, statusError } from './map-error';
export type { AuthMode } from './auth';
export { BASIC_OVER_HTTP_HINT } from './auth';
export { normalizeFingerprint, probeCertificate, certificateInfo, type CertificateInfo } from './tls-pin';
