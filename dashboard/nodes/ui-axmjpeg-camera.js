'use strict';
/**
 * ui-axmjpeg-camera: a Dashboard 2.0 widget showing a stream of
 * @axmjpeg/node-red-axis-mjpeg (an axmjpeg-out node or a camera).
 *
 * The pictures never go over the dashboard's socket.io: the Vue component
 * opens the camera wall's WebSocket (one per page, shared by every tile), which
 * the main package serves. This node only registers the widget with its group,
 * attaches it to the wall, and turns msgs into switch/pause/snapshot. The wall
 * is found on globalThis, so this package never resolves the other's files.
 */
const WALL_KEY = Symbol.for('@axmjpeg/camera-wall/v1');
const SNAPSHOT_EVENT = 'axmjpeg-camera:snapshot';
const PAUSE_WORDS = new Set(['pause', 'stop', 'off']);
const RESUME_WORDS = new Set(['resume', 'play', 'start', 'on']);
const MAX_WIDGET_LISTENERS = 500;

module.exports = function (RED) {
  const t = (key, subs) => RED._(`ui-axmjpeg-camera.${key}`, subs);

  function wall() {
    const w = globalThis[WALL_KEY];
    return w && w.version === 1 ? w : null;
  }

  function sourceOf(config) {
    if (!config.source) return null;
    const spec = { id: String(config.source) };
    if (config.cameraNumber) spec.cameraNumber = String(config.cameraNumber);
    if (config.resolution) spec.resolution = String(config.resolution);
    return spec;
  }

  function UiAxmjpegCameraNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const group = RED.nodes.getNode(config.group);
    if (!group) {
      node.status({ fill: 'red', shape: 'ring', text: t('status.no-group') });
      node.error(t('errors.no-group'));
      return;
    }
    const api = wall();
    const handle = api ? api.attach(node.id, { source: sourceOf(config), label: config.label || '' }) : null;

    function showStatus() {
      if (!handle) return node.status({ fill: 'red', shape: 'ring', text: t('status.no-wall') });
      const problem = handle.problem;
      if (problem) return node.status({ fill: 'red', shape: 'ring', text: problem.slice(0, 60) });
      if (handle.paused) return node.status({ fill: 'grey', shape: 'ring', text: t('status.paused') });
      node.status({ fill: 'green', shape: 'dot', text: handle.label || t('status.ready') });
    }
    if (!handle) node.error(t('errors.no-wall'));
    showStatus();

    async function snapshotMsg(base) {
      if (!handle) throw new Error(t('errors.no-wall'));
      const f = await handle.snapshot();
      if (!f) throw new Error(t('errors.no-picture', { label: handle.label || node.id }));
      return {
        ...base,
        payload: f.jpeg,
        topic: base.topic || handle.label,
        frame: { time: f.time, label: f.label },
      };
    }

    /** Applies a msg's controls; throws a clear error for a bad one. */
    function control(msg) {
      if (!handle) throw new Error(t('errors.no-wall'));
      if (msg.source !== undefined) {
        const problem = handle.setSource(msg.source);
        if (problem) throw new Error(t('errors.bad-source', { problem }));
      }
      let pause = typeof msg.pause === 'boolean' ? msg.pause : undefined;
      if (typeof msg.payload === 'string') {
        const word = msg.payload.trim().toLowerCase();
        if (PAUSE_WORDS.has(word)) pause = true;
        else if (RESUME_WORDS.has(word)) pause = false;
      }
      if (pause !== undefined) handle.setPaused(pause);
      showStatus();
    }

    const evts = {
      // Runs before the dashboard forwards an input msg to the browsers: the widget takes
      // its state from the wall socket, so only the dashboard's own properties go on
      // (never a JPEG payload over socket.io).
      beforeSend(msg) {
        control(msg);
        const out = { _msgid: msg._msgid, axmjpeg: { paused: handle.paused, label: handle.label } };
        for (const k of ['visible', 'enabled', 'class']) if (msg[k] !== undefined) out[k] = msg[k];
        if (msg.snapshot === true || msg.topic === 'snapshot' || msg.payload === 'snapshot') out._snapshotOf = msg;
        return out;
      },
      async onInput(msg, send) {
        const orig = msg && msg._snapshotOf;
        if (!orig) return;
        delete msg._snapshotOf;
        const { payload: _p, snapshot: _s, ...rest } = orig;
        send(await snapshotMsg(rest));
      },
      onSocket: {
        // The dashboard adds one listener per widget of this type to every page's socket.io
        // connection: a wall of 16 is not a leak, so the connection is told to expect that many.
        connection(conn) {
          if (conn && typeof conn.setMaxListeners === 'function') conn.setMaxListeners(Math.max(conn.getMaxListeners(), MAX_WIDGET_LISTENERS));
        },
        // The tile's snapshot button. Every widget of this type hears the event: only ours answers.
        [SNAPSHOT_EVENT]: function (conn, id) {
          if (id !== node.id) return;
          snapshotMsg({ topic: config.topic || '' })
            .then((m) => {
              m._client = { socketId: conn && conn.id };
              node.send(m);
            })
            .catch((e) => node.error(e.message));
        },
      },
    };

    // The component needs the wall's URLs (they follow httpNodeRoot); props are the config it is given.
    group.register(node, { ...config, wall: api ? api.paths() : null }, evts);

    node.on('close', (_removed, done) => {
      handle?.detach();
      done();
    });
  }

  RED.nodes.registerType('ui-axmjpeg-camera', UiAxmjpegCameraNode);
};
