import assert from 'node:assert/strict';
import { buildRequestTarget, validateStreamSettings, streamKey } from '../src/vapix-url';
import { CameraError } from '../src/errors';

function rejects(settings: Record<string, unknown>, field: RegExp): void {
  assert.throws(
    () => validateStreamSettings(settings),
    (e: unknown) => e instanceof CameraError && e.code === 'ERR_INVALID_SETTING' && field.test(e.message),
  );
}

describe('vapix-url', () => {
  it('leaves every unset parameter to the camera', () => {
    assert.equal(buildRequestTarget({}, 'mjpeg'), '/axis-cgi/mjpg/video.cgi');
    assert.equal(buildRequestTarget({}, 'jpeg'), '/axis-cgi/jpg/image.cgi');
  });

  it('builds every VAPIX stream parameter', () => {
    const t = buildRequestTarget(
      {
        resolution: '1280X720', camera: 2, fps: 15, compression: 30, rotation: 180, mirror: true, squarepixel: false,
        clock: true, date: false, text: true, textstring: 'Front door & gate/ü', textcolor: 'white',
        textbackgroundcolor: 'semitransparent', textpos: 'top', duration: 60, nbrofframes: 100, streamprofile: 'Quality',
      },
      'mjpeg',
    );
    const u = new URL(t, 'http://x');
    assert.equal(u.pathname, '/axis-cgi/mjpg/video.cgi');
    assert.equal(u.searchParams.get('resolution'), '1280x720');
    assert.equal(u.searchParams.get('camera'), '2');
    assert.equal(u.searchParams.get('fps'), '15');
    assert.equal(u.searchParams.get('compression'), '30');
    assert.equal(u.searchParams.get('rotation'), '180');
    assert.equal(u.searchParams.get('mirror'), '1');
    assert.equal(u.searchParams.get('squarepixel'), '0');
    assert.equal(u.searchParams.get('clock'), '1');
    assert.equal(u.searchParams.get('date'), '0');
    assert.equal(u.searchParams.get('text'), '1');
    assert.equal(u.searchParams.get('textstring'), 'Front door & gate/ü');
    assert.match(t, /textstring=Front%20door%20%26%20gate%2F%C3%BC/);
    assert.equal(u.searchParams.get('textcolor'), 'white');
    assert.equal(u.searchParams.get('textbackgroundcolor'), 'semitransparent');
    assert.equal(u.searchParams.get('textpos'), 'top');
    assert.equal(u.searchParams.get('duration'), '60');
    assert.equal(u.searchParams.get('nbrofframes'), '100');
    assert.equal(u.searchParams.get('streamprofile'), 'Quality');
  });

  it('omits stream-only parameters from snapshots', () => {
    const t = buildRequestTarget({ resolution: '640x480', fps: 5, duration: 3, nbrofframes: 2 }, 'jpeg');
    assert.equal(t, '/axis-cgi/jpg/image.cgi?resolution=640x480');
  });

  it('accepts fps 0 (unlimited) and camera quad', () => {
    assert.equal(buildRequestTarget({ fps: 0, camera: 'QUAD' }, 'mjpeg'), '/axis-cgi/mjpg/video.cgi?camera=quad&fps=0');
  });

  it('rejects invalid settings with the field name', () => {
    rejects({ resolution: '640*480' }, /resolution/);
    rejects({ resolution: '0x480' }, /resolution/);
    rejects({ fps: -1 }, /fps/);
    rejects({ fps: 'fast' }, /fps/);
    rejects({ compression: 101 }, /compression/);
    rejects({ compression: 2.5 }, /compression/);
    rejects({ rotation: 45 }, /rotation/);
    rejects({ camera: 0 }, /camera/);
    rejects({ camera: 'front' }, /camera/);
    rejects({ textpos: 'middle' }, /text position/);
    rejects({ textstring: 'x'.repeat(500) }, /overlay text/);
    rejects({ customPath: 'stream' }, /custom path/);
    rejects({ customPath: '//evil.example/x' }, /custom path/);
    rejects({ customPath: '/a b' }, /custom path/);
  });

  it('uses a custom path as given for non-Axis sources', () => {
    assert.equal(buildRequestTarget({ customPath: '/videostream.cgi?rate=0', fps: 5 }, 'mjpeg'), '/videostream.cgi?rate=0');
  });

  it('gives equal keys for equal settings however they are spelled', () => {
    assert.equal(streamKey({ resolution: '640X480', fps: '10' as unknown as number }), streamKey({ fps: 10, resolution: '640x480' }));
    assert.notEqual(streamKey({ fps: 10 }), streamKey({ fps: 5 }));
  });
});
