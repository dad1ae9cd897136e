/**
 * Runs the camera simulator from the command line for demos and manual tests:
 *   npm run simulator -- --port 8080 --auth digest --user root --pass pass --max-viewers 4
 * Prints the URL and runs until Ctrl-C.
 */
import { readFileSync } from 'node:fs';
import { CameraSimulator, type SimulatorOptions } from './index';

const USAGE = `usage: simulator [--host H] [--port P] [--auth none|basic|digest|both|per-scheme] [--user U] [--pass P]
                 [--max-viewers N] [--framing close|chunked] [--cameras N] [--view-areas N] [--resolution WxH] [--fps N]
                 [--https-key FILE --https-cert FILE] [--snapshot-only]
                 [--https-only [--http-port P]]   (self-signed certificate made at start-up unless given)
                 [--ptz] [--ptz-style full|os13|zoom-only]   (a PTZ head: presets Home, Door, Parking, Entrée)
                 [--io INPUTS,OUTPUTS] [--io-legacy]   (I/O ports, lamps in the picture; legacy: port.cgi only)`;

function parseArgs(argv: string[]): SimulatorOptions {
  const o: SimulatorOptions = {};
  let key: string | undefined;
  let cert: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = argv[i + 1];
    if (name === '--help' || name === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (name === '--snapshot-only') {
      o.snapshotOnly = true;
      continue;
    }
    if (name === '--https-only') {
      o.httpsOnly = true;
      continue;
    }
    if (name === '--ptz') {
      o.ptz = o.ptz || true;
      continue;
    }
    if (name === '--io-legacy') {
      o.io = { ...(o.io ?? {}), legacy: true };
      continue;
    }
    if (value === undefined) throw new Error(`missing value for ${name}`);
    i++;
    switch (name) {
      case '--host':
        o.host = value;
        break;
      case '--ptz-style':
        if (value !== 'full' && value !== 'os13' && value !== 'zoom-only') throw new Error(`bad --ptz-style ${value}`);
        o.ptz = { paramStyle: value };
        break;
      case '--io': {
        const m = /^(\d{1,2}),(\d{1,2})$/.exec(value);
        if (!m) throw new Error(`bad --io ${value} (INPUTS,OUTPUTS, e.g. 1,1)`);
        o.io = { ...(o.io ?? {}), inputs: Number(m[1]), outputs: Number(m[2]) };
        break;
      }
      case '--port':
        o.port = Number(value);
        break;
      case '--auth':
        if (!['none', 'basic', 'digest', 'both', 'per-scheme'].includes(value)) throw new Error(`bad --auth ${value}`);
        o.auth = value as SimulatorOptions['auth'];
        break;
      case '--user':
        o.username = value;
        break;
      case '--pass':
        o.password = value;
        break;
      case '--max-viewers':
        o.maxViewers = Number(value);
        break;
      case '--framing':
        if (value !== 'close' && value !== 'chunked') throw new Error(`bad --framing ${value}`);
        o.framing = value;
        break;
      case '--cameras':
        o.cameras = Number(value);
        break;
      case '--view-areas':
        o.viewAreas = Number(value);
        break;
      case '--resolution':
        o.defaultResolution = value;
        break;
      case '--fps':
        o.defaultFps = Number(value);
        break;
      case '--http-port':
        o.httpPort = Number(value);
        break;
      case '--https-key':
        key = value;
        break;
      case '--https-cert':
        cert = value;
        break;
      default:
        throw new Error(`unknown option ${name}`);
    }
  }
  if (key !== undefined || cert !== undefined) {
    if (key === undefined || cert === undefined) throw new Error('--https-key and --https-cert go together');
    o.https = { key: readFileSync(key), cert: readFileSync(cert) };
  }
  return o;
}

async function main(): Promise<void> {
  let opts: SimulatorOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    console.error(USAGE);
    process.exit(2);
  }
  const sim = new CameraSimulator(opts);
  await sim.start();
  console.log(`Axis camera simulator listening on ${sim.url}`);
  console.log(`  stream:   ${sim.url}/axis-cgi/mjpg/video.cgi?resolution=640x480&fps=10`);
  console.log(`  snapshot: ${sim.url}/axis-cgi/jpg/image.cgi`);
  if (sim.certificate) {
    console.log(`  HTTPS only; certificate SHA-256 ${sim.certificate.sha256}`);
    console.log(`  plain http ${sim.httpUrl} redirects to https`);
  }
  console.log(`  auth: ${opts.auth ?? 'none'}${opts.auth && opts.auth !== 'none' ? ` (user ${opts.username ?? 'root'})` : ''}`);
  const stop = (): void => {
    console.log('stopping');
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
