/**
 * What a node needs to speak to camera APIs beyond the MJPEG stream: the
 * config node's HTTP client and its undici dispatcher (for WebSockets, which
 * must carry the same TLS settings as every other request to the camera).
 */
import type { Dispatcher } from 'undici';
import type { CameraHttpClient } from '../../src/http';

/** The client's own Agent, so a WebSocket shares its TLS options and is closed with it. */
export function cameraDispatcher(client: CameraHttpClient): Dispatcher {
  return client.dispatcher;
}
