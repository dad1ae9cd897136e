/**
 * What real Axis devices sent (test/fixtures/axis, sources in its SOURCES.md),
 * fed through the event parsing, checked against what the device meant.
 *
 * The RTSP metadata captures carry the same topic and the same Source / Key /
 * Data items as the WebSocket's events:notify, so each is turned into that
 * JSON (names and values unchanged) before parsing.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import {
  eventState,
  parseEventInstances,
  parseMessage,
  parseWsSessionToken,
  type AxisEvent,
  type TopicInfo,
  type TopicStateLookup,
} from '../src/events';

const ROOT = path.join(__dirname, 'fixtures', 'axis');
const read = (...p: string[]): string => readFileSync(path.join(ROOT, ...p), 'utf8');
const XML_DIR = path.join(ROOT, 'kane610-axis', 'event-stream-xml');

function items(xml: string, section: string): Record<string, string> {
  const m = new RegExp(`<tt:${section}>([\\s\\S]*?)</tt:${section}>`).exec(xml);
  const out: Record<string, string> = {};
  if (!m) return out;
  for (const it of m[1].matchAll(/<tt:SimpleItem Name="([^"]*)" Value="([^"]*)"\/>/g)) out[it[1]] = it[2];
  return out;
}

/** One tt:MetadataStream capture as the events:notify JSON the WebSocket carries; null when it holds no event. */
function captureAsNotify(xml: string): string | null {
  const topic = /<wsnt:Topic[^>]*>([^<]+)<\/wsnt:Topic>/.exec(xml)?.[1];
  if (!topic) return null;
  const utc = /UtcTime="([^"]+)"/.exec(xml)?.[1];
  return JSON.stringify({
    apiVersion: '1.0',
    method: 'events:notify',
    params: {
      notification: {
        topic,
        timestamp: utc ? Date.parse(utc) : undefined,
        message: { source: items(xml, 'Source'), key: items(xml, 'Key'), data: items(xml, 'Data') },
      },
    },
  });
}

/** What each capture means: its state item and on/off value (undefined: no event in the capture). */
const MEANT: Record<string, [string, boolean] | undefined> = {
  AUDIO_INIT: ['triggered', false],
  DAYNIGHT_INIT: ['day', true], // day mode
  FENCE_GUARD_INIT: ['active', false],
  FIRST_MESSAGE: undefined,
  GLOBAL_SCENE_CHANGE: ['State', false],
  LIGHT_STATUS_CHANGED_INIT: ['state', true], // "ON"
  LIGHT_STATUS_INIT: ['state', false], // "OFF"
  LOITERING_GUARD_INIT: ['active', false],
  MOTION_GUARD_INIT: ['active', false],
  OBJECT_ANALYTICS_ANY_CHANGE: ['active', true], // alongside classTypes and objectId
  OBJECT_ANALYTICS_INIT: ['active', false],
  PIR_CHANGE: ['state', true],
  PIR_INIT: ['state', false],
  PORT_0_INIT: ['state', false],
  PORT_ANY_INIT: ['state', false],
  PTZ_MOVE_END: ['is_moving', false],
  PTZ_MOVE_INIT: ['is_moving', false],
  PTZ_MOVE_START: ['is_moving', true],
  PTZ_PRESET_AT_1_FALSE: ['on_preset', false],
  PTZ_PRESET_AT_1_TRUE: ['on_preset', true],
  PTZ_PRESET_AT_2_FALSE: ['on_preset', false],
  PTZ_PRESET_AT_2_TRUE: ['on_preset', true],
  PTZ_PRESET_AT_3_FALSE: ['on_preset', false],
  PTZ_PRESET_AT_3_TRUE: ['on_preset', true],
  PTZ_PRESET_INIT_1: ['on_preset', true],
  PTZ_PRESET_INIT_2: ['on_preset', false],
  PTZ_PRESET_INIT_3: ['on_preset', false],
  RELAY_INIT: ['LogicalState', false], // "inactive"
  RULE_ENGINE_REGION_DETECTOR_INIT: ['State', false],
  STORAGE_ALERT_INIT: ['alert', false], // alongside temperature, wear and overall_health
  VMD3_INIT: ['active', false],
  VMD4_ANY_CHANGE: ['active', true],
  VMD4_ANY_INIT: ['active', false],
  VMD4_C1P1_CHANGE: ['active', true],
  VMD4_C1P1_INIT: ['active', false],
  VMD4_C1P2_CHANGE: ['active', true],
  VMD4_C1P2_INIT: ['active', false],
};

function topicLookup(lists: TopicInfo[][]): TopicStateLookup {
  const m = new Map(lists.flat().map((t) => [t.topic, t]));
  return (topic) => m.get(topic);
}

const instanceList = (name: string): TopicInfo[] => {
  const r = parseEventInstances(read('kane610-axis', 'event-instances', name));
  assert.equal(r.truncated, false, name);
  return r.topics;
};

describe('real Axis captures (test/fixtures/axis)', () => {
  const allTopics = instanceList('EVENT_INSTANCES.xml');
  const lookup = topicLookup([allTopics, instanceList('EVENT_INSTANCE_STORAGE_ALERT.xml'), instanceList('EVENT_INSTANCE_PIR_SENSOR.xml')]);

  it('covers every event capture in the folder', () => {
    const files = readdirSync(XML_DIR).map((f) => path.basename(f, '.xml'));
    assert.deepEqual(files.sort(), Object.keys(MEANT).sort());
  });

  for (const [name, meant] of Object.entries(MEANT)) {
    it(`${name}: ${meant ? `${meant[0]} = ${meant[1]}` : 'no event'}, with and without the camera's topic list`, () => {
      const json = captureAsNotify(readFileSync(path.join(XML_DIR, `${name}.xml`), 'utf8'));
      if (!meant) {
        assert.equal(json, null);
        return;
      }
      for (const topics of [lookup, undefined]) {
        const m = parseMessage(json!, () => 0, topics);
        assert.equal(m.kind, 'notify');
        const e = (m as { event: AxisEvent }).event;
        assert.equal(e.stateKey, meant[0]);
        assert.equal(e.active, meant[1]);
        assert.ok(e.timestamp > Date.parse('2019-01-01'), 'camera time kept');
      }
    });
  }

  it('the GetEventInstances answer: 44 topics, each stateful one with the state item the camera marks', () => {
    assert.equal(allTopics.length, 44);
    const by = new Map(allTopics.map((t) => [t.topic, t]));
    const expect: [string, boolean, string | undefined][] = [
      ['tns1:VideoSource/tnsaxis:DayNightVision', true, 'day'],
      ['tns1:PTZController/tnsaxis:Move/Channel_1', true, 'is_moving'],
      ['tns1:PTZController/tnsaxis:PTZPresets/Channel_2', true, 'on_preset'],
      ['tns1:PTZController/tnsaxis:ControlQueue', true, 'queue_owner'],
      ['tns1:VideoSource/tnsaxis:LiveStreamAccessed', true, 'accessed'],
      ['tnsaxis:Storage/Disruption', true, 'disruption'],
      ['tnsaxis:Storage/Recording', true, 'recording'],
      ['tns1:Device/tnsaxis:Status/SystemReady', true, 'ready'],
      ['tns1:Device/tnsaxis:Network/Lost', true, 'lost'],
      ['tns1:Device/tnsaxis:Status/Temperature/Above', true, 'sensor_level'],
      ['tns1:Device/Trigger/DigitalInput', true, 'LogicalState'],
      ['tns1:Device/tnsaxis:IO/VirtualInput', true, 'active'],
      ['tns1:RuleEngine/MotionRegionDetector/Motion', true, 'State'],
      ['tns1:VideoSource/tnsaxis:Tampering', false, undefined],
      ['tns1:RecordingConfig/CreateRecording', false, undefined],
    ];
    for (const [topic, stateful, stateKey] of expect) {
      const t = by.get(topic);
      assert.ok(t, topic);
      assert.equal(t.stateful, stateful, topic);
      assert.equal(t.stateKey, stateKey, topic);
    }
    assert.equal(by.get('tns1:VideoSource/tnsaxis:DayNightVision')?.niceName, 'Day night vision');
    const storage = instanceList('EVENT_INSTANCE_STORAGE_ALERT.xml');
    assert.deepEqual(storage, [{ topic: 'tnsaxis:Storage/Alert', niceName: 'Storage alert', stateful: true, stateKey: 'alert' }]);
    assert.deepEqual(
      instanceList('EVENT_INSTANCE_VMD4_PROFILE1.xml').map((t) => [t.topic, t.stateKey]),
      [['tnsaxis:CameraApplicationPlatform/VMD/Camera1Profile1', 'active']],
    );
  });

  it('the topic list decides where it speaks: a stateless topic has no state, a declared item wins over the known keys', () => {
    // Tampering is stateless on real firmware (no aev:isProperty): every notification is news.
    assert.deepEqual(eventState({ tampering: '1' }, lookup('tns1:VideoSource/tnsaxis:Tampering')), { active: undefined });
    assert.deepEqual(eventState({ state: '1' }, { stateful: false }), { active: undefined });
    // An application's own state item, unknown to the rule, declared by the camera.
    assert.deepEqual(eventState({ state: 'x', level_high: '1' }, { stateful: true, stateKey: 'level_high' }), { stateKey: 'level_high', active: true });
    // A state that is not on/off: kept as the state, active stays undefined.
    assert.deepEqual(eventState({ queue_owner: 'operator' }, lookup('tns1:PTZController/tnsaxis:ControlQueue')), {
      stateKey: 'queue_owner',
      active: undefined,
    });
  });

  for (const [file, meant] of [
    [
      'kane610-axis_issue-22_initialized-events.json',
      [['state', false], ['recording', false], ['disruption', true], ['disruption', true], ['accessed', true], ['LogicalState', false], ['State', false]],
    ],
    ['home-assistant-core_issue-40255_initialized-events.json', [['active', false], ['is_moving', false]]],
  ] as const) {
    it(`debug logs of real cameras in issue threads (${file}): each state item and value`, () => {
      const logged = JSON.parse(read('issues', file)) as { topic: string; source?: string; source_idx?: string; type: string; value: string }[];
      assert.equal(logged.length, meant.length);
      logged.forEach((l, i) => {
        const json = JSON.stringify({
          method: 'events:notify',
          params: {
            notification: {
              topic: l.topic,
              timestamp: 1589241600000,
              message: { source: l.source ? { [l.source]: l.source_idx } : {}, key: {}, data: { [l.type]: l.value } },
            },
          },
        });
        for (const topics of [lookup, undefined]) {
          const e = (parseMessage(json, () => 0, topics) as { event: AxisEvent }).event;
          assert.deepEqual([e.stateKey, e.active], meant[i], `${l.topic} ${l.type}=${l.value}`);
        }
      });
    });
  }

  it('WebSocket captures: notify frames, configure replies and refusals, the documented session token', () => {
    for (const [file, topic, source, data, active, stateKey] of [
      ['acap-rs_notify-virtualinput-port38.json', 'tns1:Device/tnsaxis:IO/VirtualInput', { port: '38' }, { active: '0' }, false, 'active'],
      ['goxis-examples_notify-virtualinput-port1.json', 'tns1:Device/tnsaxis:IO/VirtualInput', { port: '1' }, { active: '0' }, false, 'active'],
      ['axis-docs_notify-virtualport.json', 'tns1:Device/tnsaxis:IO/VirtualPort', { port: '1' }, { state: '0' }, false, 'state'],
    ] as const) {
      const m = parseMessage(read('ws', file), () => 0, lookup);
      assert.equal(m.kind, 'notify', file);
      const e = (m as { event: AxisEvent }).event;
      assert.equal(e.topic, topic);
      assert.deepEqual(e.source, source);
      assert.deepEqual(e.data, data);
      assert.equal(e.active, active);
      assert.equal(e.stateKey, stateKey);
      assert.ok(e.timestamp > Date.parse('2021-01-01'), 'camera time, ms');
    }
    for (const file of ['acap-rs_configure-ok.json', 'goxis-examples_configure-ok.json', 'axis-docs_configure-ok.json']) {
      assert.deepEqual(parseMessage(read('ws', file)), { kind: 'configured' }, file);
    }
    assert.deepEqual(parseMessage(read('ws', 'axis-docs_configure-error-1100.json')), { kind: 'configure-error', code: 1100, message: 'Internal Error' });
    assert.deepEqual(parseMessage(read('ws', 'goxis-examples_configure-error-2104.json')), {
      kind: 'configure-error',
      code: 2104,
      message: 'Invalid event datasource payload: eventFilterList is empty',
    });
    assert.equal(parseWsSessionToken(read('ws', 'axis-docs_wssession-token.txt')), '1331901001644832701');
  });
});
