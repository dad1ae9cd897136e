export * from './errors';
export * from './vapix-url';
export * from './backoff';
export * from './rate-meter';
export * from './session';
export * from './hub';
export * from './http-source';
