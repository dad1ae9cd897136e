/**
 * EventStream against the simulator's event side: token over Digest, one
 * configure, change-only output, initial state on request, reconnects,
 * keep-alive, refused subscriptions, cameras without the API, clean close.
 */
import assert from 'node:assert/strict';
import { Agent } from 'undici';
import { CameraHttpClient } from '../src/http';
import { CameraError } from '../src/errors';
import {
  EventConfigError,
  EventStream,
  GET_EVENT_INSTANCES_BODY,
  parseEventInstances,
  type AxisEvent,
  type EventStateChange,
  type EventStreamOptions,
} from '../src/events';
import { startSimulator, type CameraSimulator, type SimulatorOptions } from '../simulator';
import {
  TOPIC_DAY_NIGHT,
  TOPIC_MOTION,
  TOPIC_PTZ_MOVE,
  TOPIC_PTZ_PRESET,
  TOPIC_STORAGE_ALERT,
  TOPIC_VIRTUAL_INPUT,
  TOPIC_VMD,
  VIRTUAL_INPUTS,
} from '../simulator/events';
import { testCerts } from './support/tls-certs';

const WAIT_MS = 5000;
const FAST_BACKOFF = { initialMs: 50, maxMs: 200, factor: 2, jitter: 0, healthyResetMs: 60_000, credentialRetryMs: 50 };

async function waitFor(pred: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Harness {
  sim: CameraSimulator;
  client: CameraHttpClient;
  stream: EventStream;
  events: AxisEvent[];
  states: EventStateChange[];
}

describe('EventStream (VAPIX events over WebSocket)', function () {
  this.timeout(20_000);
  let h: Harness | null = null;
  const extra: { close(): Promise<unknown> }[] = [];

  async function setup(
    opts: Partial<EventStreamOptions> = {},
    simOpts: SimulatorOptions = { auth: 'digest' },
    beforeStart?: (sim: CameraSimulator) => void,
  ): Promise<Harness> {
    const sim = await startSimulator(simOpts);
    const client = new CameraHttpClient({
      protocol: 'http',
      host: '127.0.0.1',
      port: sim.port,
      username: 'root',
      password: 'pass',
      auth: 'auto',
    });
    const stream = new EventStream({ client, topics: [TOPIC_VIRTUAL_INPUT], backoff: FAST_BACKOFF, ...opts });
    const harness: Harness = { sim, client, stream, events: [], states: [] };
    stream.on('event', (e) => harness.events.push(e));
    stream.on('state', (s) => harness.states.push(s));
    h = harness;
    beforeStart?.(sim);
    stream.start();
    return harness;
  }

  afterEach(async () => {
    if (h) {
      await h.stream.stop();
      await h.client.close();
      await h.sim.close();
      h = null;
    }
    for (const x of extra.splice(0)) await x.close();
  });

  it('fetches a token with Digest, subscribes once, and emits one msg per virtual input change', async () => {
    const t = await setup({ topics: [TOPIC_VIRTUAL_INPUT, TOPIC_MOTION] });
    await waitFor(() => t.stream.state === 'connected', 'connected');
    assert.equal(t.sim.events.stats.tokens, 1);
    // The simulator answers wssession.cgi as Axis documents it: bare digits, beyond a JS number's precision.
    const tok = await t.client.fetchBuffer('/axis-cgi/wssession.cgi');
    assert.match(tok.body.toString('latin1'), /^\d{19}\r\n$/);
    assert.ok(BigInt(tok.body.toString('latin1').trim()) > BigInt(Number.MAX_SAFE_INTEGER));
    assert.ok(t.client.digestNonceCount >= 1, 'the token request went through Digest');
    assert.equal(t.sim.events.stats.configures, 1);
    assert.deepEqual(t.sim.events.configureRequests[0], {
      apiVersion: '1.0',
      method: 'events:configure',
      params: { eventFilterList: [{ topicFilter: `${TOPIC_VIRTUAL_INPUT}|${TOPIC_MOTION}` }] },
    });
    // The initial state dump (4 inputs + motion) arrives but is not news.
    await waitFor(() => t.sim.events.stats.notifications >= VIRTUAL_INPUTS + 1, 'initial states');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(t.events.length, 0);

    t.sim.setVirtualInput(1, true);
    await waitFor(() => t.events.length === 1, 'one event');
    const e = t.events[0];
    assert.equal(e.topic, TOPIC_VIRTUAL_INPUT);
    assert.deepEqual(e.source, { port: '1' });
    assert.deepEqual(e.data, { active: '1' });
    assert.equal(e.active, true);
    assert.ok(Math.abs(e.timestamp - Date.now()) < 5000);

    t.sim.setVirtualInput(1, false);
    t.sim.events.setMotion(true);
    await waitFor(() => t.events.length === 3, 'two more events');
    assert.equal(t.events[1].active, false);
    assert.equal(t.events[2].topic, TOPIC_MOTION);
    assert.deepEqual(t.events[2].data, { State: '1' });
    assert.equal(t.events[2].active, true);
  });

  it('state items other than active (day/night, PTZ, storage): boolean active, only changes of the state item', async () => {
    const t = await setup({ topics: [TOPIC_DAY_NIGHT, TOPIC_PTZ_MOVE, TOPIC_STORAGE_ALERT] });
    await waitFor(() => t.stream.state === 'connected', 'connected');
    await waitFor(() => t.sim.events.stats.notifications >= 3, 'initial states');
    assert.equal(t.sim.events.stats.topicLists, 1, 'the topic list was asked for before connecting');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(t.events.length, 0, 'initial states are not news');

    t.sim.events.setDayNight(false);
    await waitFor(() => t.events.length === 1, 'night');
    assert.deepEqual([t.events[0].topic, t.events[0].stateKey, t.events[0].active], [TOPIC_DAY_NIGHT, 'day', false]);
    t.sim.events.setPtzMoving(true);
    await waitFor(() => t.events.length === 2, 'PTZ moving');
    assert.deepEqual([t.events[1].stateKey, t.events[1].active], ['is_moving', true]);

    // A reading changes, the alert does not: the camera notifies, the node stays quiet.
    const before = t.sim.events.stats.notifications;
    t.sim.events.setStorage({ temperature: 41 });
    await waitFor(() => t.sim.events.stats.notifications === before + 1, 'temperature notification');
    t.sim.events.setStorage({ alert: true });
    await waitFor(() => t.events.length === 3, 'storage alert');
    assert.deepEqual([t.events[2].stateKey, t.events[2].active, t.events[2].data.temperature], ['alert', true, '41']);

    t.sim.events.dropConnections();
    await waitFor(() => t.sim.events.stats.wsConnections === 2 && t.stream.state === 'connected', 'reconnected');
    await waitFor(() => t.sim.events.stats.notifications >= before + 2 + 3, 'second initial dump');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(t.events.length, 3, 'unchanged states are not repeated after a reconnect');
    assert.equal(t.sim.events.stats.topicLists, 1, 'the topic list is asked for once');
  });

  it("an application's own state item, declared in the camera's topic list, drives active and only-changes", async () => {
    const topic = 'tnsaxis:CameraApplicationPlatform/LevelSensor/Channel1';
    const list =
      '<?xml version="1.0"?><SOAP-ENV:Envelope><SOAP-ENV:Body><aev:GetEventInstancesResponse><wstop:TopicSet>' +
      '<tnsaxis:CameraApplicationPlatform><LevelSensor><Channel1 wstop:topic="true"><aev:MessageInstance aev:isProperty="true">' +
      '<aev:DataInstance><aev:SimpleItemInstance Type="xsd:int" Name="reading"/>' +
      '<aev:SimpleItemInstance Type="xsd:boolean" Name="level_high" isPropertyState="true"/></aev:DataInstance>' +
      '</aev:MessageInstance></Channel1></LevelSensor></tnsaxis:CameraApplicationPlatform>' +
      '</wstop:TopicSet></aev:GetEventInstancesResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>';
    for (const topicList of [true, false]) {
      const t = await setup({ topics: [topic], topicList }, { auth: 'digest' }, (sim) => (sim.events.eventInstancesResponse = list));
      await waitFor(() => t.stream.state === 'connected', 'connected');
      for (const [reading, high] of [['10', '0'], ['12', '0'], ['30', '1'], ['31', '1']]) {
        t.sim.events.sendNotification(topic, {}, { reading, level_high: high });
      }
      if (topicList) {
        await waitFor(() => t.events.length === 1, 'the level change');
        await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(
          t.events.map((e) => [e.stateKey, e.active, e.data.reading]),
          [['level_high', true, '30']],
          'first state remembered, reading-only changes dropped',
        );
      } else {
        // Without the list the item is unknown: a stateless event, every notification is news.
        await waitFor(() => t.events.length === 4, 'every notification');
        assert.ok(t.events.every((e) => e.stateKey === undefined && e.active === undefined));
        assert.equal(t.sim.events.stats.topicLists, 0);
      }
      await t.stream.stop();
      await t.client.close();
      await t.sim.close();
      h = null;
    }
  });

  it('emits the initial state of every instance when asked to', async () => {
    const t = await setup({ emitInitial: true });
    await waitFor(() => t.events.length === VIRTUAL_INPUTS, 'initial states');
    assert.deepEqual(
      t.events.map((e) => [e.source.port, e.active]),
      [...Array(VIRTUAL_INPUTS).keys()].map((i) => [String(i + 1), false]),
    );
  });

  it('reconnects with a fresh token after the camera drops the WebSocket, without repeating unchanged states', async () => {
    const t = await setup();
    await waitFor(() => t.stream.state === 'connected', 'connected');
    t.sim.setVirtualInput(2, true);
    await waitFor(() => t.events.length === 1, 'first event');

    t.sim.events.dropConnections();
    await waitFor(() => t.states.some((s) => s.state === 'backoff'), 'backoff');
    const backoff = t.states.find((s) => s.state === 'backoff')!;
    assert.equal(backoff.error?.code, 'ERR_CONN_RESET');
    assert.equal(typeof backoff.retryInMs, 'number');
    await waitFor(() => t.stream.state === 'connected' && t.sim.events.stats.wsConnections === 2, 'reconnected');
    assert.equal(t.sim.events.stats.tokens, 2, 'a new single-use token per connect');
    await waitFor(() => t.sim.events.stats.notifications >= 2 * VIRTUAL_INPUTS + 1, 'second initial dump');
    assert.equal(t.events.length, 1, 'unchanged states are not emitted again');

    t.sim.setVirtualInput(2, false);
    await waitFor(() => t.events.length === 2, 'event after reconnect');
    assert.equal(t.events[1].active, false);
  });

  it('emits a change that happened while disconnected', async () => {
    const t = await setup();
    await waitFor(() => t.stream.state === 'connected', 'connected');
    await waitFor(() => t.sim.events.stats.notifications >= VIRTUAL_INPUTS, 'initial states');
    // Toggled between drop and reconnect: seen only in the reconnect's state dump.
    t.sim.events.dropConnections();
    t.sim.setVirtualInput(3, true);
    await waitFor(() => t.events.length === 1, 'missed change');
    assert.deepEqual([t.events[0].source.port, t.events[0].active], ['3', true]);
  });

  it('keeps a quiet link open while pongs arrive, and reconnects when they stop', async () => {
    const t = await setup({ pingIntervalMs: 40, idleTimeoutMs: 250 });
    await waitFor(() => t.stream.state === 'connected', 'connected');
    await waitFor(() => t.sim.events.stats.pings >= 12, 'pings over several idle periods');
    assert.equal(t.sim.events.stats.wsConnections, 1, 'pongs kept the quiet link alive');
    assert.ok(!t.states.some((s) => s.state === 'backoff'));

    t.sim.events.respondToPings = false;
    await waitFor(() => t.states.some((s) => s.state === 'backoff'), 'keep-alive timeout');
    assert.equal(t.states.find((s) => s.state === 'backoff')!.error?.code, 'ERR_STALLED');
    t.sim.events.respondToPings = true;
    await waitFor(() => t.sim.events.stats.wsConnections === 2 && t.stream.state === 'connected', 'reconnected');
  });

  it('reports a refused configure as a configuration error with the camera code, and stops', async () => {
    const t = await setup({}, { auth: 'digest' }, (sim) => {
      sim.events.configureError = { code: 2104, message: 'Invalid topic filter' };
    });
    await waitFor(() => t.stream.state === 'failed', 'failed');
    const err = t.states.at(-1)!.error;
    assert.ok(err instanceof EventConfigError);
    assert.equal(err.vapixCode, 2104);
    assert.equal(err.code, 'ERR_INVALID_SETTING');
    assert.match(err.message, /2104: Invalid topic filter/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t.sim.events.stats.wsConnections, 1, 'no retry');
    await waitFor(() => t.sim.events.stats.wsOpen === 0, 'socket closed');
  });

  it('says clearly when the camera has no event WebSocket API', async () => {
    const t = await setup({}, { auth: 'digest' }, (sim) => {
      sim.events.enabled = false;
    });
    await waitFor(() => t.stream.state === 'failed', 'failed');
    const err = t.states.at(-1)!.error!;
    assert.equal(err.code, 'ERR_NOT_FOUND');
    assert.match(err.message, /no event WebSocket API/);
    assert.match(err.hint, /MQTT/);
    assert.match(err.hint, /HTTP notifications/);
    assert.equal(t.sim.events.stats.wsConnections, 0);
  });

  for (const [status, code, retried] of [
    [401, 'ERR_AUTH_FAILED', true],
    [403, 'ERR_FORBIDDEN', true],
    [503, 'ERR_CAMERA_BUSY', true],
    [404, 'ERR_NOT_FOUND', false],
  ] as const) {
    it(`a WebSocket handshake refused with ${status} is reported as ${code} with that status, not as a reset`, async () => {
      const t = await setup({}, { auth: 'digest' }, (sim) => (sim.events.refuseUpgrades = status));
      await waitFor(() => t.states.some((s) => s.state === (retried ? 'backoff' : 'failed')), 'the refused attempt');
      const err = t.states.find((s) => s.error)!.error!;
      assert.equal(err.code, code, err.message);
      assert.equal(err.statusCode, status);
      assert.match(err.message, new RegExp(`refused the event WebSocket \\(HTTP ${status}\\)`));
      if (!retried) assert.match(err.hint, /MQTT|HTTP notification|recipe/i);
      assert.ok(t.sim.events.stats.wsRefused >= 1);
    });
  }

  it('retries with backoff on wrong credentials, never putting the password in the error', async () => {
    const sim = await startSimulator({ auth: 'digest', password: 's3cret-pw' });
    const client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: sim.port, username: 'root', password: 'wrong-pw' });
    const stream = new EventStream({ client, topics: [TOPIC_VIRTUAL_INPUT], backoff: FAST_BACKOFF });
    extra.push({ close: async () => (await stream.stop(), await client.close(), await sim.close()) });
    const states: EventStateChange[] = [];
    stream.on('state', (s) => states.push(s));
    stream.start();
    await waitFor(() => states.filter((s) => s.state === 'backoff').length >= 2, 'two backoffs');
    const err = states.find((s) => s.state === 'backoff')!.error!;
    assert.equal(err.code, 'ERR_AUTH_FAILED');
    assert.doesNotMatch(JSON.stringify(err.toJSON()), /wrong-pw|s3cret/);
  });

  it('times out an attempt whose configure reply never comes', async () => {
    const t = await setup({ openTimeoutMs: 200 }, { auth: 'digest' }, (sim) => {
      sim.events.respondToPings = true;
      // Swallow configure: no reply at all.
      (sim.events as unknown as { onText: () => void }).onText = () => {};
    });
    await waitFor(() => t.states.some((s) => s.state === 'backoff'), 'backoff');
    assert.equal(t.states.find((s) => s.state === 'backoff')!.error?.code, 'ERR_RESPONSE_TIMEOUT');
  });

  it('stop() closes the WebSocket: the camera sees it gone and no timer is left', async () => {
    const t = await setup({ pingIntervalMs: 20 });
    await waitFor(() => t.stream.state === 'connected', 'connected');
    assert.equal(t.sim.events.stats.wsOpen, 1);
    await t.stream.stop();
    await waitFor(() => t.sim.events.stats.wsOpen === 0, 'WebSocket closed on the camera');
    assert.equal(t.stream.state, 'stopped');
    const pings = t.sim.events.stats.pings;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(t.sim.events.stats.pings, pings, 'no more pings after stop');
  });

  it('works over HTTPS with the dispatcher carrying the camera TLS settings', async () => {
    const certs = testCerts();
    const dispatcher = new Agent({ connect: { ca: certs.selfSigned.cert } });
    extra.push({ close: () => dispatcher.close() });
    const sim = await startSimulator({ auth: 'basic', https: certs.selfSigned });
    const client = new CameraHttpClient({
      protocol: 'https',
      host: '127.0.0.1',
      port: sim.port,
      username: 'root',
      password: 'pass',
      tls: { ca: certs.selfSigned.cert },
    });
    const stream = new EventStream({ client, topics: [TOPIC_VIRTUAL_INPUT], dispatcher, backoff: FAST_BACKOFF });
    extra.unshift({ close: async () => (await stream.stop(), await client.close(), await sim.close()) });
    const got: AxisEvent[] = [];
    stream.on('event', (e) => got.push(e));
    stream.start();
    await waitFor(() => stream.state === 'connected', 'connected over wss');
    sim.setVirtualInput(4, true);
    await waitFor(() => got.length === 1, 'event over wss');
    assert.equal(got[0].source.port, '4');
  });

  it('rejects an empty topic list and bad intervals as setting errors', () => {
    const client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: 1 });
    assert.throws(() => new EventStream({ client, topics: [] }), (e: unknown) => e instanceof CameraError && e.code === 'ERR_INVALID_SETTING');
    assert.throws(
      () => new EventStream({ client, topics: ['x'], pingIntervalMs: 0 }),
      (e: unknown) => e instanceof CameraError && /pingIntervalMs/.test(e.message),
    );
    return client.close();
  });
});

describe('GetEventInstances over SOAP (simulator)', function () {
  this.timeout(10_000);
  it('lists topic strings from the camera topic tree', async () => {
    const sim = await startSimulator({ auth: 'digest' });
    const client = new CameraHttpClient({ protocol: 'http', host: '127.0.0.1', port: sim.port, username: 'root', password: 'pass' });
    try {
      const res = await client.fetchBuffer('/vapix/services', {
        method: 'POST',
        body: GET_EVENT_INSTANCES_BODY,
        headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
      });
      const { topics, truncated } = parseEventInstances(res.body.toString('utf8'));
      assert.equal(truncated, false);
      assert.deepEqual(
        topics.map((t) => t.topic),
        [TOPIC_VIRTUAL_INPUT, 'tns1:Device/tnsaxis:IO/Port', TOPIC_MOTION, TOPIC_DAY_NIGHT, TOPIC_VMD, TOPIC_PTZ_MOVE, TOPIC_PTZ_PRESET, TOPIC_STORAGE_ALERT],
      );
      assert.equal(topics[0].niceName, 'Virtual input');
      // The state items as real firmware declares them (test/fixtures/axis).
      assert.deepEqual(
        topics.map((t) => t.stateKey),
        ['active', 'state', 'State', 'day', 'active', 'is_moving', 'on_preset', 'alert'],
      );
    } finally {
      await client.close();
      await sim.close();
    }
  });
});
