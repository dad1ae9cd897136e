/**
 * The simulator's event side: what an Axis camera offers for events over
 * VAPIX, faithful enough for the axmjpeg-event node and its tests.
 *
 * - `GET /axis-cgi/wssession.cgi` hands out a single-use token: bare decimal digits, as Axis documents it.
 * - `POST /axis-cgi/apidiscovery.cgi` `getApiList` lists `event-streaming-over-websocket`.
 * - `POST /vapix/services` answers the SOAP `GetEventInstances` with a topic tree.
 * - `GET /vapix/ws-data-stream?sources=events&wssession=<token>` upgrades to a
 *   WebSocket (RFC 6455, written here so the tests depend on no WebSocket
 *   server library): `events:configure` subscribes, the stateful events that
 *   match are sent at once with their current state, then every change.
 *
 * Stateful topics beyond inputs and motion carry the state items real firmware
 * uses (`day`, `is_moving`, `alert`), declared `isPropertyState` in the topic
 * list: setDayNight(), setPtzMoving(), setStorage().
 *
 * Test switches: `enabled` (false: a camera without the WebSocket API, 404),
 * `refuseUpgrades` (every handshake answered with that status), `respondToPings`
 * (false: a half-dead link), `configureError`, `eventInstancesResponse`, `sendNotification()`, `dropConnections()`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const WS_PATH = '/vapix/ws-data-stream';
export const WSSESSION_PATH = '/axis-cgi/wssession.cgi';
export const APIDISCOVERY_PATH = '/axis-cgi/apidiscovery.cgi';
export const SERVICES_PATH = '/vapix/services';
/** Virtual inputs 1..N, like the 32 of a real camera (fewer keeps initial-state dumps short). */
export const VIRTUAL_INPUTS = 4;
/** A token is good for one connect within this time (15 s, as Axis documents). */
const TOKEN_LIFETIME_MS = 15_000;
const MAX_CLIENT_FRAME_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 64 * 1024;

export const TOPIC_VIRTUAL_INPUT = 'tns1:Device/tnsaxis:IO/VirtualInput';
export const TOPIC_MOTION = 'tns1:VideoSource/MotionAlarm';
export const TOPIC_VMD = 'tnsaxis:CameraApplicationPlatform/VMD/Camera1ProfileANY';
// Stateful topics whose state item is not `active`, as real firmware has them (test/fixtures/axis).
export const TOPIC_DAY_NIGHT = 'tns1:VideoSource/tnsaxis:DayNightVision';
export const TOPIC_PTZ_MOVE = 'tns1:PTZController/tnsaxis:Move/Channel_1';
export const TOPIC_STORAGE_ALERT = 'tnsaxis:Storage/Alert';
// As real firmware sends them (test/fixtures/axis/kane610-axis/event-stream-xml: PTZ_PRESET_*, PORT_0_INIT, RELAY_INIT).
export const TOPIC_PTZ_PRESET = 'tns1:PTZController/tnsaxis:PTZPresets/Channel_1';
export const TOPIC_IO_PORT = 'tns1:Device/tnsaxis:IO/Port';
export const TOPIC_RELAY = 'tns1:Device/Trigger/Relay';

export interface EventSimStats {
  tokens: number;
  /** WebSocket upgrades accepted since start. */
  wsConnections: number;
  /** WebSockets open now. */
  wsOpen: number;
  /** Upgrades refused (bad/missing token, disabled). */
  wsRefused: number;
  configures: number;
  pings: number;
  notifications: number;
  /** GetEventInstances requests answered. */
  topicLists: number;
}

interface Notification {
  topic: string;
  source: Record<string, string>;
  data: Record<string, string>;
}

// ------------------------------------------------------------ RFC 6455 bits

function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  let head: Buffer;
  if (len < 126) {
    head = Buffer.from([0x80 | opcode, len]);
  } else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x80 | opcode;
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/** One server-side WebSocket connection: unmasked frames out, masked frames in. */
class WsConn {
  filters: string[] | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private closed = false;

  constructor(
    readonly socket: Duplex,
    private readonly onText: (c: WsConn, text: string) => void,
    private readonly onPing: (c: WsConn, payload: Buffer) => void,
    private readonly onGone: (c: WsConn) => void,
  ) {
    socket.on('data', (d: Buffer) => this.receive(d));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.closed = true;
      this.onGone(this);
    });
  }

  sendText(text: string): void {
    if (!this.closed) this.socket.write(encodeFrame(0x1, Buffer.from(text, 'utf8')));
  }

  pong(payload: Buffer): void {
    if (!this.closed) this.socket.write(encodeFrame(0xa, payload));
  }

  close(code = 1000): void {
    if (this.closed) return;
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code, 0);
    this.socket.write(encodeFrame(0x8, p));
    this.socket.end();
  }

  private receive(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      if (this.buf.length < 2) return;
      const fin = (this.buf[0] & 0x80) !== 0;
      const opcode = this.buf[0] & 0x0f;
      const masked = (this.buf[1] & 0x80) !== 0;
      let len = this.buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      // Clients must mask (RFC 6455 5.1); an oversized frame is a broken peer.
      if (!masked || len > MAX_CLIENT_FRAME_BYTES) {
        this.socket.destroy();
        return;
      }
      if (this.buf.length < off + 4 + len) return;
      const mask = this.buf.subarray(off, off + 4);
      const payload = Buffer.from(this.buf.subarray(off + 4, off + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      this.buf = this.buf.subarray(off + 4 + len);
      this.frame(fin, opcode, payload);
      if (this.closed) return;
    }
  }

  private frame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case 0x0:
      case 0x1:
        this.fragments.push(payload);
        if (fin) this.onText(this, Buffer.concat(this.fragments.splice(0)).toString('utf8'));
        return;
      case 0x8: {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1000;
        this.close(code);
        return;
      }
      case 0x9:
        this.onPing(this, payload);
        return;
      default:
        return; // pong, binary: nothing to do
    }
  }
}

// ------------------------------------------------------------ topic matching

/** `a|b` alternatives; a trailing `//.` matches the whole subtree (ONVIF ConcreteSet style). */
function matches(filters: string[], topic: string): boolean {
  for (const f of filters) {
    for (const alt of f.split('|')) {
      const t = alt.trim();
      if (!t) continue;
      if (t === topic) return true;
      if (t.endsWith('//.') && (topic === t.slice(0, -3) || topic.startsWith(`${t.slice(0, -3)}/`))) return true;
    }
  }
  return false;
}

/** A stateful MessageInstance as Axis writes it: source items, then data items, the state one marked. */
function messageInstance(source: string, data: string): string {
  return `<aev:MessageInstance aev:isProperty="true"><aev:SourceInstance>${source}</aev:SourceInstance><aev:DataInstance>${data}</aev:DataInstance></aev:MessageInstance>`;
}

// Shapes, names and state items as in the real GetEventInstances answers in test/fixtures/axis.
const TOPIC_SET_XML =
  '<wstop:TopicSet>' +
  '<tns1:Device aev:NiceName="Device"><tnsaxis:IO aev:NiceName="I/O">' +
  '<tnsaxis:VirtualInput wstop:topic="true" aev:NiceName="Virtual input">' +
  messageInstance(
    '<aev:SimpleItemInstance aev:NiceName="Port" Type="xsd:int" Name="port"><aev:Value>1</aev:Value></aev:SimpleItemInstance>',
    '<aev:SimpleItemInstance aev:NiceName="Active" Type="xsd:boolean" Name="active" isPropertyState="true"/>',
  ) +
  '</tnsaxis:VirtualInput>' +
  '<tnsaxis:Port wstop:topic="true" aev:NiceName="Digital port">' +
  messageInstance(
    '<aev:SimpleItemInstance aev:NiceName="Port" Type="xsd:int" Name="port"/>',
    '<aev:SimpleItemInstance aev:NiceName="Active" Type="xsd:boolean" Name="state" isPropertyState="true"/>',
  ) +
  '</tnsaxis:Port>' +
  '</tnsaxis:IO></tns1:Device>' +
  '<tns1:VideoSource aev:NiceName="Video source"><MotionAlarm wstop:topic="true" aev:NiceName="Motion alarm">' +
  messageInstance(
    '<aev:SimpleItemInstance Type="tt:ReferenceToken" Name="VideoSourceConfigurationToken"/>',
    '<aev:SimpleItemInstance Type="xsd:boolean" Name="State" isPropertyState="true"/>',
  ) +
  '</MotionAlarm>' +
  '<tnsaxis:DayNightVision wstop:topic="true" aev:NiceName="Day night vision">' +
  messageInstance(
    '<aev:SimpleItemInstance aev:NiceName="Video source configuration token" Type="xsd:int" Name="VideoSourceConfigurationToken"><aev:Value>1</aev:Value></aev:SimpleItemInstance>',
    '<aev:SimpleItemInstance aev:NiceName="day" Type="xsd:boolean" Name="day" isPropertyState="true"/>',
  ) +
  '</tnsaxis:DayNightVision></tns1:VideoSource>' +
  '<tnsaxis:CameraApplicationPlatform aev:NiceName="Application"><tnsaxis:VMD aev:NiceName="Video motion detection">' +
  '<tnsaxis:Camera1ProfileANY wstop:topic="true" aev:NiceName="VMD 4: Any profile">' +
  messageInstance('', '<aev:SimpleItemInstance Type="xsd:boolean" Name="active" isPropertyState="true"/>') +
  '</tnsaxis:Camera1ProfileANY>' +
  '</tnsaxis:VMD></tnsaxis:CameraApplicationPlatform>' +
  '<tns1:PTZController aev:NiceName="PTZController"><tnsaxis:Move aev:NiceName="PTZ moving">' +
  '<Channel_1 wstop:topic="true" aev:NiceName="PTZ movement on channel 1">' +
  messageInstance(
    '<aev:SimpleItemInstance aev:NiceName="PTZ configuration token" Type="xsd:int" Name="PTZConfigurationToken"><aev:Value>1</aev:Value></aev:SimpleItemInstance>',
    '<aev:SimpleItemInstance aev:NiceName="Moving" Type="xsd:boolean" Name="is_moving" isPropertyState="true"/>',
  ) +
  '</Channel_1></tnsaxis:Move>' +
  '<tnsaxis:PTZPresets aev:NiceName="PTZ preset reached"><Channel_1 wstop:topic="true" aev:NiceName="PTZ preset reached on channel 1">' +
  messageInstance(
    '<aev:SimpleItemInstance aev:NiceName="Preset token" Type="xsd:int" Name="PresetToken"/>',
    '<aev:SimpleItemInstance aev:NiceName="On preset" Type="xsd:boolean" Name="on_preset" isPropertyState="true"/>',
  ) +
  '</Channel_1></tnsaxis:PTZPresets></tns1:PTZController>' +
  '<tnsaxis:Storage aev:NiceName="Storage"><Alert wstop:topic="true" aev:NiceName="Storage alert">' +
  messageInstance(
    '<aev:SimpleItemInstance aev:NiceName="Disk" Type="xsd:string" Name="disk_id"><aev:Value>SD_DISK</aev:Value></aev:SimpleItemInstance>',
    '<aev:SimpleItemInstance aev:NiceName="Temperature" Type="xsd:int" Name="temperature"/>' +
      '<aev:SimpleItemInstance isPropertyState="true" aev:NiceName="Alert" Type="xsd:boolean" Name="alert"/>' +
      '<aev:SimpleItemInstance aev:NiceName="Wear" Type="xsd:int" Name="wear"/>' +
      '<aev:SimpleItemInstance aev:NiceName="Overall Health" Type="xsd:int" Name="overall_health"/>',
  ) +
  '</Alert></tnsaxis:Storage>' +
  '</wstop:TopicSet>';

export const GET_EVENT_INSTANCES_RESPONSE =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" ' +
  'xmlns:wstop="http://docs.oasis-open.org/wsn/t-1" xmlns:tns1="http://www.onvif.org/ver10/topics" ' +
  'xmlns:tnsaxis="http://www.axis.com/2009/event/topics" xmlns:aev="http://www.axis.com/vapix/ws/event1">' +
  `<SOAP-ENV:Body><aev:GetEventInstancesResponse>${TOPIC_SET_XML}</aev:GetEventInstancesResponse></SOAP-ENV:Body>` +
  '</SOAP-ENV:Envelope>\n';

// ------------------------------------------------------------ the event side

export class EventSimulator {
  /** false: a camera without event streaming over WebSocket (404 on wssession and the stream). */
  enabled = true;
  /** Set: every WebSocket handshake is refused with this HTTP status (tokens are still issued). */
  refuseUpgrades: number | null = null;
  /** false: pings go unanswered, as on a half-dead link. */
  respondToPings = true;
  /** Set: every `events:configure` is answered with this error. */
  configureError: { code: number; message: string } | null = null;
  /** Set: the `GetEventInstances` answer body instead of the built-in topic tree (a real camera's, or a hostile one). */
  eventInstancesResponse: string | null = null;
  readonly stats: EventSimStats = { tokens: 0, wsConnections: 0, wsOpen: 0, wsRefused: 0, configures: 0, pings: 0, notifications: 0, topicLists: 0 };
  /** Every configure request received (for tests), newest last. */
  readonly configureRequests: unknown[] = [];

  private readonly tokens = new Map<string, number>();
  private readonly conns = new Set<WsConn>();
  private readonly inputs = new Map<number, boolean>();
  /** Other stateful instances (PTZ presets, I/O ports), by topic and source. */
  private readonly states = new Map<string, Notification>();
  private motion = false;
  private motionTimer: NodeJS.Timeout | null = null;
  /** Day/night, PTZ movement, storage alert: the values real firmware sends at start (fixtures). */
  private dayNight: Notification = { topic: TOPIC_DAY_NIGHT, source: { VideoSourceConfigurationToken: '1' }, data: { day: '1' } };
  private ptzMove: Notification = { topic: TOPIC_PTZ_MOVE, source: { PTZConfigurationToken: '1' }, data: { is_moving: '0' } };
  private storage: Notification = {
    topic: TOPIC_STORAGE_ALERT,
    source: { disk_id: 'SD_DISK' },
    data: { overall_health: '-3', alert: '0', wear: '-3', temperature: '-3' },
  };

  constructor() {
    for (let p = 1; p <= VIRTUAL_INPUTS; p++) this.inputs.set(p, false);
  }

  handles(pathname: string): boolean {
    return pathname === WSSESSION_PATH || pathname === APIDISCOVERY_PATH || pathname === SERVICES_PATH || pathname === WS_PATH;
  }

  /** Plain HTTP requests to the event paths (already authorised by the caller). */
  handle(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): void {
    if (pathname === APIDISCOVERY_PATH) {
      readBody(req, () => sendJson(res, this.apiList()));
      return;
    }
    if (!this.enabled) {
      send(res, 404, 'text/html', '<HTML><BODY><H1>404 Not Found</H1></BODY></HTML>\n');
      return;
    }
    if (pathname === WSSESSION_PATH) {
      // As Axis documents it: a bare decimal token, too long for a JS number (1331901001644832701 in the docs).
      const token = (10n ** 18n + (randomBytes(8).readBigUInt64BE() % (9n * 10n ** 18n))).toString(); // 19 digits
      this.tokens.set(token, Date.now() + TOKEN_LIFETIME_MS);
      this.stats.tokens++;
      send(res, 200, 'text/plain', `${token}\r\n`);
      return;
    }
    if (pathname === SERVICES_PATH) {
      readBody(req, (body) => {
        if (!/GetEventInstances/.test(body)) {
          send(res, 500, 'application/soap+xml', '<SOAP-ENV:Envelope><SOAP-ENV:Body><SOAP-ENV:Fault/></SOAP-ENV:Body></SOAP-ENV:Envelope>');
          return;
        }
        this.stats.topicLists++;
        send(res, 200, 'application/soap+xml; charset=utf-8', this.eventInstancesResponse ?? GET_EVENT_INSTANCES_RESPONSE);
      });
      return;
    }
    // A plain GET of the stream path without Upgrade.
    send(res, 400, 'text/plain', 'WebSocket upgrade required\n');
  }

  /** The HTTP `upgrade` event. Returns false when the path is not ours (caller destroys). */
  upgrade(req: http.IncomingMessage, socket: Duplex): boolean {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const pathname = q < 0 ? target : target.slice(0, q);
    if (pathname !== WS_PATH) return false;
    const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
    const refuse = (status: number, text: string): void => {
      this.stats.wsRefused++;
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    if (!this.enabled) return refuse(404, 'Not Found'), true;
    if (this.refuseUpgrades !== null) return refuse(this.refuseUpgrades, 'Refused'), true;
    const token = query.get('wssession') ?? '';
    const expiry = this.tokens.get(token);
    this.tokens.delete(token); // single use
    if (expiry === undefined || expiry < Date.now()) return refuse(401, 'Unauthorized'), true;
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || String(req.headers.upgrade).toLowerCase() !== 'websocket') return refuse(400, 'Bad Request'), true;
    const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' + `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    const conn = new WsConn(
      socket,
      (c, text) => this.onText(c, text),
      (c, p) => {
        this.stats.pings++;
        if (this.respondToPings) c.pong(p);
      },
      (c) => {
        if (this.conns.delete(c)) this.stats.wsOpen--;
      },
    );
    this.conns.add(conn);
    this.stats.wsConnections++;
    this.stats.wsOpen++;
    return true;
  }

  setVirtualInput(port: number, active: boolean): void {
    if (!Number.isInteger(port) || port < 1 || port > VIRTUAL_INPUTS) throw new Error(`simulator: virtual input ${port} does not exist`);
    if (this.inputs.get(port) === active) return;
    this.inputs.set(port, active);
    this.broadcast(this.virtualInput(port));
  }

  setMotion(active: boolean): void {
    if (this.motion === active) return;
    this.motion = active;
    this.broadcast(this.motionAlarm());
    this.broadcast({ topic: TOPIC_VMD, source: {}, data: { active: active ? '1' : '0' } });
  }

  /** Day/night vision (state item `day`). */
  setDayNight(day: boolean): void {
    this.update('dayNight', { day: day ? '1' : '0' });
  }

  /** PTZ movement on channel 1 (state item `is_moving`). */
  setPtzMoving(moving: boolean): void {
    this.update('ptzMove', { is_moving: moving ? '1' : '0' });
  }

  /** Storage alert (state item `alert`; temperature, wear and health ride along). */
  setStorage(values: { alert?: boolean; temperature?: number; wear?: number; overallHealth?: number }): void {
    const d: Record<string, string> = {};
    if (values.alert !== undefined) d.alert = values.alert ? '1' : '0';
    if (values.temperature !== undefined) d.temperature = String(values.temperature);
    if (values.wear !== undefined) d.wear = String(values.wear);
    if (values.overallHealth !== undefined) d.overall_health = String(values.overallHealth);
    this.update('storage', d);
  }

  /** Like a camera: a new notification whenever any data item of the instance changes. */
  private update(which: 'dayNight' | 'ptzMove' | 'storage', data: Record<string, string>): void {
    const cur = this[which];
    if (Object.entries(data).every(([k, v]) => cur.data[k] === v)) return;
    this[which] = { ...cur, data: { ...cur.data, ...data } };
    this.broadcast(this[which]);
  }

  /** Whether virtual input `port` is active now. */
  virtualInputActive(port: number): boolean {
    return this.inputs.get(port) === true;
  }

  /**
   * Any stateful instance (PTZ preset reached, an I/O port): subscribers get a
   * notification when its data changes, and its current state on subscribing.
   */
  setState(topic: string, source: Record<string, string>, data: Record<string, string>): void {
    const key = `${topic}|${JSON.stringify(source)}`;
    const cur = this.states.get(key);
    if (cur && Object.entries(data).every(([k, v]) => cur.data[k] === v)) return;
    const n = { topic, source, data: { ...cur?.data, ...data } };
    this.states.set(key, n);
    this.broadcast(n);
  }

  /** Motion on for `onMs` every `periodMs` (demo). */
  startMotion(periodMs: number, onMs = Math.min(2000, periodMs / 2)): void {
    this.stopMotion();
    this.motionTimer = setInterval(() => {
      this.setMotion(true);
      const t = setTimeout(() => this.setMotion(false), onMs);
      t.unref();
    }, periodMs);
    this.motionTimer.unref();
  }

  stopMotion(): void {
    if (this.motionTimer) clearInterval(this.motionTimer);
    this.motionTimer = null;
  }

  /** Sends one notification to every subscriber whose filter matches (test switch: any topic, as a camera would). */
  sendNotification(topic: string, source: Record<string, string>, data: Record<string, string>): void {
    this.broadcast({ topic, source, data });
  }

  /** Drops every WebSocket without a close frame (network loss). */
  dropConnections(): void {
    for (const c of [...this.conns]) c.socket.destroy();
  }

  close(): void {
    this.stopMotion();
    this.dropConnections();
    this.tokens.clear();
  }

  private apiList(): unknown {
    const apiList = [
      { id: 'basic-device-info', version: '1.1', name: 'Basic Device Information' },
      { id: 'api-discovery', version: '1.0', name: 'API Discovery Service' },
    ];
    if (this.enabled) apiList.push({ id: 'event-streaming-over-websocket', version: '1.0', name: 'Event streaming over WebSocket' });
    return { apiVersion: '1.0', method: 'getApiList', data: { apiList } };
  }

  private onText(c: WsConn, text: string): void {
    let req: { apiVersion?: string; method?: string; context?: string; params?: { eventFilterList?: { topicFilter?: unknown }[] } };
    try {
      req = JSON.parse(text) as typeof req;
    } catch {
      c.sendText(JSON.stringify({ apiVersion: '1.0', error: { code: 4000, message: 'Invalid JSON' } }));
      return;
    }
    if (req.method !== 'events:configure') {
      c.sendText(JSON.stringify({ apiVersion: '1.0', method: req.method, error: { code: 4002, message: 'Method not supported' } }));
      return;
    }
    this.stats.configures++;
    this.configureRequests.push(req);
    const reply = (body: Record<string, unknown>): void =>
      c.sendText(JSON.stringify({ apiVersion: '1.0', ...(req.context !== undefined ? { context: req.context } : {}), method: 'events:configure', ...body }));
    if (this.configureError) {
      reply({ error: this.configureError });
      return;
    }
    const list = req.params?.eventFilterList;
    if (!Array.isArray(list) || list.some((f) => typeof f?.topicFilter !== 'string' || !f.topicFilter)) {
      reply({ error: { code: 4004, message: 'Invalid parameter: eventFilterList' } });
      return;
    }
    c.filters = list.map((f) => f.topicFilter as string);
    reply({ data: {} });
    // Stateful events announce their current state to a new subscriber.
    for (const n of this.currentStates()) if (matches(c.filters, n.topic)) this.sendTo(c, n);
  }

  private currentStates(): Notification[] {
    const out: Notification[] = [];
    for (const p of this.inputs.keys()) out.push(this.virtualInput(p));
    out.push(this.motionAlarm());
    out.push({ topic: TOPIC_VMD, source: {}, data: { active: this.motion ? '1' : '0' } });
    out.push(this.dayNight, this.ptzMove, this.storage);
    out.push(...this.states.values());
    return out;
  }

  private virtualInput(port: number): Notification {
    return { topic: TOPIC_VIRTUAL_INPUT, source: { port: String(port) }, data: { active: this.inputs.get(port) ? '1' : '0' } };
  }

  private motionAlarm(): Notification {
    return { topic: TOPIC_MOTION, source: { VideoSourceConfigurationToken: '0' }, data: { State: this.motion ? '1' : '0' } };
  }

  private broadcast(n: Notification): void {
    for (const c of this.conns) if (c.filters && matches(c.filters, n.topic)) this.sendTo(c, n);
  }

  private sendTo(c: WsConn, n: Notification): void {
    this.stats.notifications++;
    c.sendText(
      JSON.stringify({
        apiVersion: '1.0',
        method: 'events:notify',
        params: { notification: { topic: n.topic, timestamp: Date.now(), message: { source: n.source, key: {}, data: n.data } } },
      }),
    );
  }
}

function readBody(req: http.IncomingMessage, done: (body: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= MAX_BODY_BYTES) chunks.push(c);
  });
  req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  if (res.headersSent || res.destroyed) return;
  const buf = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(buf.length) });
  res.end(buf);
}

function sendJson(res: http.ServerResponse, body: unknown): void {
  send(res, 200, 'application/json', JSON.stringify(body));
}
