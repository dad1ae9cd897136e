/**
 * What a node needs to speak to camera APIs beyond the MJPEG stream: the
 * config node's HTTP client and its undici dispatcher (for WebSockets, which
 * must carry the same TLS settings as every other request to the camera).
 */
import type { Dispatcher } from 'undici';
import type { CameraHttpClient } from '../../src/http';

/**
 * The client's own Agent. CameraHttpClient keeps it private (it owns the
 * sockets); reading it here, in one place, lets a WebSocket share its TLS
 * options without a second copy of the TLS rules. Undefined when the client
 * has none (then undici's global dispatcher is used).
 */
export function cameraDispatcher(client: CameraHttpClient): Dispatcher | undefined {
  const agent = (client as unknown as { agent?: unknown }).agent;
  return agent && typeof (agent as Dispatcher).dispatch === 'function' ? (agent as Dispatcher) : undefined;
}
