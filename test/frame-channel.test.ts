/**
 * FrameChannels: in-process frames per output path, for the Dashboard camera
 * widget. Subscribers attach to paths and survive a publisher's redeploy.
 */
import assert from 'node:assert/strict';
import { FrameChannels, frameChannels, type ChannelFrame } from '../src/relay/frame-channel';
import { fakeJpeg } from './support/jpeg-samples';

const jpeg = (seq: number): Buffer => fakeJpeg(seq, 32);
const seqOf = (f: ChannelFrame): number => f.jpeg.readUInt32BE(2);

describe('frame channels', function () {
  it('delivers published frames to the subscribers of the path only, synchronously', function () {
    const reg = new FrameChannels();
    const a: ChannelFrame[] = [];
    const b: ChannelFrame[] = [];
    reg.subscribe('/cam/a', { frame: (f) => a.push(f) });
    reg.subscribe('/cam/b', { frame: (f) => b.push(f) });
    const pub = reg.open('/cam/a', 'node-a');
    pub.publish(jpeg(1), 1000);
    pub.publish(jpeg(2));
    assert.equal(a.length, 2);
    assert.equal(b.length, 0);
    assert.equal(a[0].time, 1000);
    assert.ok(a[1].time > 1_600_000_000_000, 'default time is now');
    assert.equal(a[1].jpeg, reg.latest('/cam/a')!.jpeg, 'the same Buffer, not a copy');
  });

  it('paths are case-insensitive like express routes; pathOf finds the publisher', function () {
    const reg = new FrameChannels();
    const got: ChannelFrame[] = [];
    reg.subscribe('/Cam/Live', { frame: (f) => got.push(f) });
    reg.open('/cam/live', 'n1').publish(jpeg(1));
    assert.equal(got.length, 1);
    assert.equal(reg.pathOf('n1'), '/Cam/Live');
    assert.equal(reg.pathOf('other'), null);
  });

  it('subscribers stay through a redeploy: offline, then online, then the new node\'s frames', function () {
    const reg = new FrameChannels();
    const events: string[] = [];
    reg.subscribe('/p', { frame: (f) => events.push(`frame ${seqOf(f)}`), online: (up) => events.push(up ? 'online' : 'offline') });
    const first = reg.open('/p', 'old');
    first.publish(jpeg(1));
    first.close();
    assert.equal(reg.latest('/p'), null, 'no stale frame after the publisher left');
    first.publish(jpeg(9));
    const second = reg.open('/p', 'new');
    second.publish(jpeg(2));
    assert.deepEqual(events, ['online', `frame ${1}`, 'offline', 'online', `frame ${2}`]);
    assert.deepEqual(reg.info('/p'), { path: '/p', owner: 'new', online: true, subscribers: 1 });
  });

  it('a second publisher on the path wins; the old one can neither publish nor take the path offline', function () {
    const reg = new FrameChannels();
    const got: number[] = [];
    reg.subscribe('/p', { frame: (f) => got.push(seqOf(f)) });
    const a = reg.open('/p', 'a');
    const b = reg.open('/p', 'b');
    a.publish(jpeg(1));
    b.publish(jpeg(2));
    a.close();
    assert.equal(reg.info('/p').online, true);
    b.publish(jpeg(3));
    assert.deepEqual(got, [2, 3]);
  });

  it('a throwing sink neither breaks the publisher nor the other sinks; unsubscribe stops delivery', function () {
    const reg = new FrameChannels();
    const got: ChannelFrame[] = [];
    reg.subscribe('/p', { frame: () => { throw new Error('consumer bug'); } });
    const off = reg.subscribe('/p', { frame: (f) => got.push(f) });
    const pub = reg.open('/p', 'n');
    pub.publish(jpeg(1));
    off();
    pub.publish(jpeg(2));
    assert.equal(got.length, 1);
  });

  it('unused channels are forgotten (no growth per path ever seen)', function () {
    const reg = new FrameChannels();
    for (let i = 0; i < 100; i++) {
      const off = reg.subscribe(`/p${i}`, { frame: () => undefined });
      const pub = reg.open(`/p${i}`, 'n');
      pub.close();
      off();
    }
    assert.equal((reg as unknown as { channels: Map<string, unknown> }).channels.size, 0);
  });

  it('frameChannels() is one registry per process, shared through globalThis', function () {
    assert.equal(frameChannels(), frameChannels());
    assert.equal(frameChannels(), (globalThis as Record<symbol, unknown>)[Symbol.for('@axmjpeg/frame-channels/v1')]);
  });
});
