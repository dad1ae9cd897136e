'use strict';
/** Child processes started by the demo and the screenshot script. */

/**
 * SIGINT (Node-RED and the simulator close their servers and sockets on it),
 * then SIGKILL if the child has not exited within `graceMs`.
 */
function stopChild(child, graceMs) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGINT');
  });
}

module.exports = { stopChild };
