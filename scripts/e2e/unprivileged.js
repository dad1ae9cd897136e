'use strict';
/**
 * Runs a third-party program as Debian's `nobody` when the e2e runs as root
 * (as CI does). VLC refuses root outright ("VLC is not supposed to be run as
 * root"; Debian's vlc-wrapper only drops to $SUDO_UID), and a network daemon
 * such as motion has no business running as root either. setpriv comes with
 * util-linux, which every Debian system has. Not root: commands run as is.
 */
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');

const USER = 'nobody';

let ids;
/** { uid, gid } of `nobody` when we are root, else null. */
function target() {
  if (ids !== undefined) return ids;
  if (!(process.getuid && process.getuid() === 0)) return (ids = null);
  const id = (flag) => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
  return (ids = { uid: id('-u'), gid: id('-g') });
}

/** [cmd, args] that run `cmd args` unprivileged. */
function unprivileged(cmd, args) {
  const t = target();
  if (!t) return [cmd, args];
  return ['setpriv', [`--reuid=${t.uid}`, `--regid=${t.gid}`, '--clear-groups', '--nnp', cmd, ...args]];
}

/** Creates `dir` (mode 755) owned by the user unprivileged() runs as, so the program can write there. */
function ownedDir(dir) {
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o755);
  const t = target();
  if (t) fs.chownSync(dir, t.uid, t.gid);
  return dir;
}

/** Who unprivileged() runs programs as, for reports. */
const runsAs = () => (target() ? `${USER} (setpriv)` : 'current user');

module.exports = { unprivileged, ownedDir, runsAs };
