/**
 * The framework-free stream core. Node-RED nodes in nodes/ are thin glue over
 * these modules; nothing here imports Node-RED.
 */
export * from './errors';
export * from './vapix-url';
export * from './backoff';
export * from './rate-meter';
export * from './session';
export * from './hub';
export * from './http-source';
export * from './snapshot';
export * from './device-info';
export * from './throttle';
export * from './snapshot-name';
export * from './shared-requests';
export { CameraHttpClient, redactUrl } from './http';
export type { CameraEndpoint, CameraResponse } from './http';
export { MjpegParser, parseBoundary, jpegSize } from './parser';
export type { MjpegFrame, MjpegParserOptions, ParserStats } from './parser';
export { MjpegBroadcaster } from './relay';
export { MjpegFileWriter } from './recording/writer';
export { MjpegFilePlayer } from './recording/player';
