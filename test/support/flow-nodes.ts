/** Flow node configurations that several Node-RED tests deploy. */

type Extra = Record<string, unknown>;

/**
 * An axmjpeg-camera config node for a camera on 127.0.0.1, plain HTTP. A 2 s
 * stall timeout and no linger, so tests see a dead or unused stream closed at once.
 */
export function cameraConfig(id: string, port: number, extra: Extra = {}) {
  // loginRetry 0.2 s: tests watch the retries after a refused password (default 60 s).
  return { id, type: 'axmjpeg-camera', name: `Camera ${id}`, host: '127.0.0.1', port, protocol: 'http', auth: 'auto', stallTimeout: 2, linger: 0, loginRetry: 0.2, ...extra };
}

/** An axmjpeg-in node streaming 160x120 at 20 fps from the config node `camera`, started on deploy. */
export function mjpgIn(id: string, camera: string, extra: Extra = {}, wires: string[][] = [['out']]) {
  return { id, type: 'axmjpeg-in', source: 'camera', camera, resolution: '160x120', fps: '20', compression: '', cameraNumber: '', startOnDeploy: true, wires, ...extra };
}

/** A Catch node for every node in the flow, wired to the helper node 'caught'. */
export function catchAll() {
  return [
    { id: 'catch-all', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];
}

/** A Catch and a Complete node for the node `scope` only, wired to the helper nodes 'caught' and 'completed'. */
export function catchAndComplete(scope: string) {
  return [
    { id: `catch-${scope}`, type: 'catch', scope: [scope], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
    { id: `complete-${scope}`, type: 'complete', scope: [scope], uncaught: false, wires: [['completed']] },
    { id: 'completed', type: 'helper' },
  ];
}
