'use strict';
/**
 * Other camera packages a user may already have. Node-RED refuses to load a
 * second package that registers a node type already taken, so the e2e
 * Node-RED gets, before ours, small stand-ins registering the types the Flow
 * Library's camera packages use: pandosme's node-red-contrib-axis-com
 * (`axis-camera`, `axis-device`, `axis-preset`, ...) and a package registering
 * `snapshot`. Both register those names for real (a working pass-through node
 * each), so a clash with ours would show as a load error in GET /nodes and our
 * nodes missing — which is what happened before the axmjpeg- prefix.
 */
const fs = require('node:fs');
const path = require('node:path');

const NEIGHBOURS = [
  { name: 'node-red-contrib-axis-com', types: ['axis-camera', 'axis-device', 'axis-preset', 'axis-acap', 'axis-security'] },
  { name: 'node-red-contrib-snapshot-standin', types: ['snapshot'] },
];

function nodeJs(types) {
  return `module.exports = function (RED) {
  function PassThrough(config) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg, send, done) => { send(msg); done(); });
  }
${types.map((t) => `  RED.nodes.registerType(${JSON.stringify(t)}, PassThrough);`).join('\n')}
};
`;
}

function nodeHtml(types) {
  return types
    .map(
      (t) => `<script type="text/javascript">
  RED.nodes.registerType(${JSON.stringify(t)}, { category: 'stand-in', defaults: { name: { value: '' } }, inputs: 1, outputs: 1, label: function () { return this.name || ${JSON.stringify(t)}; } });
</script>
<script type="text/html" data-template-name=${JSON.stringify(t)}><div class="form-row"><input type="text" id="node-input-name"></div></script>
<script type="text/html" data-help-name=${JSON.stringify(t)}><p>Stand-in for another camera package's ${t} node.</p></script>`,
    )
    .join('\n');
}

/** Writes the stand-ins into <userDir>/node_modules, where Node-RED scans for packages. */
function installNeighbours(userDir) {
  for (const n of NEIGHBOURS) {
    const dir = path.join(userDir, 'node_modules', n.name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: n.name, version: '0.0.0-e2e', keywords: ['node-red'], 'node-red': { nodes: { [n.name]: 'nodes.js' } } }, null, 2),
    );
    fs.writeFileSync(path.join(dir, 'nodes.js'), nodeJs(n.types));
    fs.writeFileSync(path.join(dir, 'nodes.html'), nodeHtml(n.types));
  }
  return NEIGHBOURS;
}

/** One node of each neighbour type, wired in a chain on its own tab, so a deploy proves they run beside ours. */
function neighbourFlow(tab) {
  const types = NEIGHBOURS.flatMap((n) => n.types);
  const ids = types.map((_, i) => `neighbour-${i}`);
  return [
    { id: tab, type: 'tab', label: 'other camera packages' },
    { id: 'neighbour-in', type: 'http in', z: tab, name: '', url: '/e2e/neighbours', method: 'get', upload: false, swaggerDoc: '', x: 120, y: 60, wires: [[ids[0]]] },
    ...types.map((t, i) => ({ id: ids[i], type: t, z: tab, name: '', x: 300, y: 60 + i * 40, wires: [[i + 1 < ids.length ? ids[i + 1] : 'neighbour-out']] })),
    { id: 'neighbour-out', type: 'http response', z: tab, name: '', statusCode: '', headers: {}, x: 500, y: 60 },
  ];
}

module.exports = { NEIGHBOURS, installNeighbours, neighbourFlow, NEIGHBOUR_ROUTE: '/e2e/neighbours' };
