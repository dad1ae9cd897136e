/**
 * Typed errors with stable codes, in the spirit of undici's lib/core/errors.js.
 *
 * Every failure the package reports to a user carries a `code` that flows and
 * tests can match on, and a `hint` telling the user what to do about it. The
 * message never contains credentials: callers pass redacted URLs only.
 */

export const ErrorCodes = {
  /** 401: wrong user/password, or the camera wants another auth method. */
  AUTH_FAILED: 'ERR_AUTH_FAILED',
  /** 403: the user exists but lacks the rights (e.g. a viewer account for an operator API). */
  FORBIDDEN: 'ERR_FORBIDDEN',
  /** 404: wrong path. */
  NOT_FOUND: 'ERR_NOT_FOUND',
  /** 503: camera overloaded or at its viewer limit. */
  BUSY: 'ERR_CAMERA_BUSY',
  /** Any other unexpected HTTP status. */
  HTTP_STATUS: 'ERR_HTTP_STATUS',
  /** 200 but the body is not what was asked for (HTML page, text/plain VAPIX error). */
  NOT_MJPEG: 'ERR_NOT_MJPEG',
  NOT_JPEG: 'ERR_NOT_JPEG',
  /** Something answers, but not with valid HTTP (another service's port, a broken proxy). */
  BAD_HTTP: 'ERR_BAD_HTTP',
  CONN_REFUSED: 'ERR_CONN_REFUSED',
  CONN_RESET: 'ERR_CONN_RESET',
  HOST_UNREACHABLE: 'ERR_HOST_UNREACHABLE',
  DNS: 'ERR_DNS',
  TLS: 'ERR_TLS',
  TLS_SELF_SIGNED: 'ERR_TLS_SELF_SIGNED',
  /** A pinned certificate is configured and the camera presented another one. */
  TLS_PIN_MISMATCH: 'ERR_TLS_PIN_MISMATCH',
  /** Plain http to a camera that accepts only HTTPS (it redirects to https). */
  HTTPS_REQUIRED: 'ERR_HTTPS_REQUIRED',
  CONNECT_TIMEOUT: 'ERR_CONNECT_TIMEOUT',
  /** Connected, but no response headers / first byte in time. */
  RESPONSE_TIMEOUT: 'ERR_RESPONSE_TIMEOUT',
  /** Streaming, then no byte for the stall time. */
  STALLED: 'ERR_STALLED',
  /** The camera closed the stream (end of body). */
  STREAM_ENDED: 'ERR_STREAM_ENDED',
  ABORTED: 'ERR_ABORTED',
  FRAME_TOO_LARGE: 'ERR_FRAME_TOO_LARGE',
  /** A WebSocket message (camera event) over the size limit: the link was closed with 1009. */
  MESSAGE_TOO_LARGE: 'ERR_MESSAGE_TOO_LARGE',
  HEADER_TOO_LARGE: 'ERR_HEADER_TOO_LARGE',
  BAD_BOUNDARY: 'ERR_BAD_BOUNDARY',
  INVALID_SETTING: 'ERR_INVALID_SETTING',
  FILE: 'ERR_FILE',
  /** A FIFO, device, socket, folder or symbolic link where a recording file was expected. */
  NOT_REGULAR_FILE: 'ERR_NOT_REGULAR_FILE',
  /** A recording name that leads out of the recorder's folder (`..`, an absolute path, a link pointing out). */
  OUTSIDE_FOLDER: 'ERR_OUTSIDE_FOLDER',
  /** The camera lacks the function asked for (no PTZ, no pan on a zoom-only camera, no such I/O port or preset). */
  NOT_SUPPORTED: 'ERR_NOT_SUPPORTED',
  /** The camera answered a command (PTZ, I/O) with an error of its own, in a 200 body. */
  CAMERA_REFUSED: 'ERR_CAMERA_REFUSED',
  /** A PTZ move was sent but the camera did not come to rest in time. */
  MOVE_TIMEOUT: 'ERR_MOVE_TIMEOUT',
  UNKNOWN: 'ERR_UNKNOWN',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** What to do about each code. Worded for a Node-RED user, not a developer. */
export const Hints: Record<ErrorCode, string> = {
  ERR_AUTH_FAILED:
    'Check user name and password. If they are right, set Auth to Auto so the camera\'s policy picks the method (AXIS OS default: Digest over HTTP, Basic over HTTPS).',
  ERR_FORBIDDEN: 'The account lacks the rights for this request; use a viewer or operator account on the camera.',
  ERR_NOT_FOUND: 'Wrong path. For Axis cameras it is /axis-cgi/mjpg/video.cgi; for other MJPEG servers set the custom path.',
  ERR_CAMERA_BUSY:
    'The camera is overloaded or at its maximum number of viewers. Share one stream (same camera settings) or lower fps/resolution.',
  ERR_HTTP_STATUS: 'The camera answered with an unexpected HTTP status; check the path and the stream settings.',
  ERR_NOT_MJPEG:
    'The camera answered, but not with an MJPEG stream. Check camera number, resolution and the other stream settings.',
  ERR_NOT_JPEG: 'The camera answered, but not with a JPEG image. Check camera number and resolution.',
  ERR_BAD_HTTP:
    'Something answers on that host and port, but not with valid HTTP: another service (e.g. a vendor SDK port such as 8000 or 37777) or a broken proxy. Check the port.',
  ERR_CONN_REFUSED:
    'Nothing listens on that port. Check the port, or whether the camera only accepts HTTPS (port 443), or a firewall.',
  ERR_CONN_RESET: 'The camera dropped the connection; it will be retried.',
  ERR_HOST_UNREACHABLE: 'The host cannot be reached. Check the IP address, cabling and routing.',
  ERR_DNS: 'The host name cannot be resolved. Check the spelling or use the IP address.',
  ERR_TLS: 'The HTTPS handshake failed. Check the CA certificate, or whether the camera needs older TLS settings.',
  ERR_TLS_SELF_SIGNED:
    'The camera uses a self-signed certificate. Add its CA certificate, or explicitly allow self-signed certificates.',
  ERR_TLS_PIN_MISMATCH:
    "The camera's certificate is not the one trusted for it. If the camera got a new certificate (a reset, a renewal, a firmware update), run Test connection, check the new fingerprint and trust it; if not, someone may be intercepting the connection: nothing was sent.",
  ERR_HTTPS_REQUIRED:
    'The camera accepts only HTTPS (the AXIS OS 13 default): set Protocol to https (port 443) and trust its certificate; Test connection shows it and offers both.',
  ERR_CONNECT_TIMEOUT: 'No answer from the host. Check the address, the port and a firewall.',
  ERR_RESPONSE_TIMEOUT: 'The camera accepted the connection but did not answer in time; it may be overloaded or rebooting.',
  ERR_STALLED: 'The stream stopped sending data; reconnecting. If it repeats, check the network or lower fps/resolution.',
  ERR_STREAM_ENDED: 'The camera ended the stream (duration or frame limit, reboot, or network); reconnecting.',
  ERR_ABORTED: 'The request was cancelled.',
  ERR_FRAME_TOO_LARGE: 'A frame was larger than the frame size limit and was dropped; raise the limit or lower the resolution.',
  ERR_MESSAGE_TOO_LARGE:
    'The camera sent an event message far larger than any event; the connection was closed and will be retried. Check what answers on the camera address, or subscribe to fewer topics.',
  ERR_HEADER_TOO_LARGE: 'A part header was larger than allowed; the source is not a well-formed MJPEG stream.',
  ERR_BAD_BOUNDARY: 'The stream has no usable multipart boundary.',
  ERR_INVALID_SETTING: 'Fix the setting named in the message.',
  ERR_FILE: 'Check that the folder exists, is writable, and that the disk is not full.',
  ERR_NOT_REGULAR_FILE:
    'Recordings are only written to and played from regular files (not pipes, devices, sockets or links). Choose another file name.',
  ERR_OUTSIDE_FOLDER:
    "Recordings stay inside the node's folder. Give a name relative to it, without '..' and without a symbolic link that points out of it.",
  ERR_NOT_SUPPORTED:
    'The camera does not offer this (check the model has PTZ or I/O ports, and the preset or port number); the message says what is missing.',
  ERR_CAMERA_REFUSED: 'The camera refused the command; the message quotes its answer (e.g. an unknown preset, or a port that is an input).',
  ERR_MOVE_TIMEOUT:
    'The camera did not report a still position in time: it may still be moving, be held by another user or a guard tour, or be slow; raise the timeout.',
  ERR_UNKNOWN: 'Unexpected error; see the message.',
};

export interface CameraErrorOptions {
  statusCode?: number;
  /** Short text from the response body, for 200-but-wrong-content and VAPIX errors. */
  body?: string;
  cause?: unknown;
  hint?: string;
}

export class CameraError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly statusCode?: number;
  readonly body?: string;

  constructor(code: ErrorCode, message: string, opts: CameraErrorOptions = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'CameraError';
    this.code = code;
    this.hint = opts.hint ?? Hints[code];
    if (opts.statusCode !== undefined) this.statusCode = opts.statusCode;
    if (opts.body !== undefined) this.body = opts.body;
  }

  /** Message plus hint, as shown to users in status and Catch nodes. */
  describe(): string {
    return `${this.message}. ${this.hint}`;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, hint: this.hint, statusCode: this.statusCode, body: this.body };
  }
}

export function isCameraError(e: unknown): e is CameraError {
  return e instanceof CameraError;
}
