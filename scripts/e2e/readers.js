'use strict';
/**
 * Independent readers of what Node-RED serves: ffmpeg/ffprobe, Python
 * OpenCV, GStreamer, VLC and headless Chromium. Each returns a plain result object
 * ({ ok, detail, ...figures }) and never throws for a failed check.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { run, start, request, sleep } = require('./lib');
const { unprivileged, ownedDir, runsAs } = require('./unprivileged');

const READER_TIMEOUT_MS = 45_000;
/** Debian's python3 has python3-opencv; a pyenv/venv python on PATH does not. */
const SYSTEM_PYTHON = '/usr/bin/python3';
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = 6;
const SCREENSHOT_GAP_MS = 500;
/** Distinct screenshots out of SCREENSHOTS that count as "moving". */
const MIN_DISTINCT_SCREENSHOTS = 3;

const VLC_POLL_MS = 100;
/** libavcodec's MJPEG encoder refuses VLC's limited-range planes unless told "unofficial" (-1) is fine. */
const VLC_TRANSCODE = 'transcode{vcodec=MJPG,venc=avcodec{strict=-1}}';

const VLC_NOISE = /dbus|D-Bus|globalhotkeys|PulseAudio|no suitable interface module|using the dummy interface module/;

const tail = (s, n = 600) => String(s).trim().slice(-n);

/** ffmpeg decodes `frames` frames of the multipart stream (mpjpeg demuxer, mjpeg decoder). */
async function ffmpegDecode(url, frames) {
  const r = await run('ffmpeg', ['-hide_banner', '-nostats', '-f', 'mpjpeg', '-i', url, '-frames:v', String(frames), '-f', 'null', '-'], { timeoutMs: READER_TIMEOUT_MS });
  const m = /frame=\s*(\d+)/g;
  let got = 0;
  for (let x; (x = m.exec(r.stderr)); ) got = Number(x[1]);
  const errors = (r.stderr.match(/error|invalid|corrupt/gi) || []).length;
  const ok = r.code === 0 && got >= frames && errors === 0;
  return { ok, frames: got, ms: r.ms, fps: got / (r.ms / 1000), detail: ok ? '' : `exit ${r.code}${r.timedOut ? ' (timeout)' : ''}: ${tail(r.stderr)}` };
}

/** ffprobe: codec and size of the stream. */
async function ffprobeStream(url, { format = 'mpjpeg' } = {}) {
  const args = ['-v', 'error', ...(format ? ['-f', format] : []), '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', url];
  const r = await run('ffprobe', args, { timeoutMs: READER_TIMEOUT_MS });
  let s = {};
  try {
    s = JSON.parse(r.stdout).streams[0] || {};
  } catch { /* reported below */ }
  const ok = r.code === 0 && s.codec_name === 'mjpeg' && s.width > 0 && s.height > 0 && !r.stderr.trim();
  return { ok, codec: s.codec_name, width: s.width, height: s.height, detail: ok ? '' : `exit ${r.code}: ${tail(r.stderr || r.stdout)}` };
}

const OPENCV_SCRIPT = `
import sys, time, json
import cv2
url, want = sys.argv[1], int(sys.argv[2])
t0 = time.time()
cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
opened = cap.isOpened()
n, shape, first = 0, None, None
while opened and n < want:
    ok, frame = cap.read()
    if not ok:
        break
    if first is None:
        first = time.time()
    n += 1
    shape = list(frame.shape)
last = time.time()
cap.release()
print(json.dumps({"opened": opened, "frames": n, "shape": shape, "cv": cv2.__version__,
                  "firstMs": None if first is None else (first - t0) * 1000,
                  "fps": (n - 1) / (last - first) if first is not None and n > 1 and last > first else 0}))
`;

/** Python OpenCV's VideoCapture reads `frames` frames of the expected size. */
async function opencvRead(url, frames, { width, height }) {
  const r = await run(SYSTEM_PYTHON, ['-c', OPENCV_SCRIPT, url, String(frames)], { timeoutMs: READER_TIMEOUT_MS });
  let o = {};
  try {
    o = JSON.parse(r.stdout.trim().split('\n').pop());
  } catch { /* reported below */ }
  const sizeOk = Array.isArray(o.shape) && o.shape[0] === height && o.shape[1] === width;
  const ok = r.code === 0 && o.opened === true && o.frames >= frames && sizeOk;
  return { ok, ...o, detail: ok ? '' : `exit ${r.code}: ${tail(r.stdout + r.stderr)}` };
}

/** gst-launch: souphttpsrc ! multipartdemux ! jpegdec decodes `frames` buffers of the expected size. */
async function gstDecode(url, frames, { width, height }) {
  // identity lets `frames` buffers through, then sends EOS so gst-launch exits 0.
  const args = ['-v', 'souphttpsrc', `location=${url}`, '!', 'multipartdemux', '!', 'jpegdec', '!',
    'identity', `eos-after=${frames + 1}`, '!', 'fakesink', 'silent=false'];
  const r = await run('gst-launch-1.0', args, { timeoutMs: READER_TIMEOUT_MS });
  const out = r.stdout + r.stderr;
  const decoded = (out.match(/last-message = chain .*fakesink0/g) || []).length;
  const caps = /jpegdec0\.GstPad:src: caps = video\/x-raw.*?width=\(int\)(\d+), height=\(int\)(\d+)/.exec(out);
  const sizeOk = !!caps && Number(caps[1]) === width && Number(caps[2]) === height;
  const ok = r.code === 0 && decoded >= frames && sizeOk && !/ERROR/.test(out);
  return {
    ok,
    frames: decoded,
    width: caps ? Number(caps[1]) : undefined,
    height: caps ? Number(caps[2]) : undefined,
    ms: r.ms,
    fps: decoded / (r.ms / 1000),
    detail: ok ? '' : `exit ${r.code}${r.timedOut ? ' (timeout)' : ''}: ${tail(out.split('\n').filter((l) => !/chain|last-message/.test(l)).join('\n'))}`,
  };
}

/** Complete parts in a multipart file so far: a part is complete once the next delimiter follows it. */
function completeParts(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return 0;
  }
  // VLC's mpjpeg muxer opens every part, the first too, with CRLF + "--boundary".
  const m = /^(?:\r\n)*(--[^\r\n]+)\r\n/.exec(buf.subarray(0, 200).toString('latin1'));
  if (!m) return 0;
  const delim = Buffer.from(m[1], 'latin1');
  let n = -1;
  for (let at = 0; (at = buf.indexOf(delim, at)) >= 0; at += delim.length) n++;
  return Math.max(n, 0);
}

/**
 * VLC (the `cvlc` a user runs, with the dummy interface) plays the relay:
 * its http access and mjpeg demuxer read the multipart stream, its decoder
 * decodes every picture and `#transcode` encodes it again into a multipart
 * file. Once `frames` pictures are in the file, VLC is stopped and ffprobe
 * must read that many MJPEG frames of the expected size from it. Frames that
 * VLC could not demux or decode never reach the file. fps is taken after the
 * first write, which releases VLC's network cache in one go.
 */
async function vlcDecode(url, frames, { width, height }, workDir) {
  const dir = ownedDir(path.join(workDir, 'vlc'));
  const out = path.join(dir, 'vlc.mjpg');
  const sout = `#${VLC_TRANSCODE}:std{access=file,mux=mpjpeg,dst=${out}}`;
  // -v: warnings too (the mjpeg demuxer's complaints), still quiet while all is well.
  const [cmd, args] = unprivileged('vlc', ['-I', 'dummy', '-v', '--no-media-library', '--no-audio', '--play-and-exit', url, '--sout', sout]);
  const t0 = Date.now();
  // HOME: VLC keeps its config under it, and nobody's /nonexistent cannot hold one.
  const child = start(cmd, args, { name: 'vlc', env: { PATH: process.env.PATH, HOME: dir, LANG: 'C' } });
  let firstMs = null;
  let firstCount = 0;
  let lastMs = null;
  let got = 0;
  let exitedEarly = false;
  while (Date.now() - t0 < READER_TIMEOUT_MS) {
    await sleep(VLC_POLL_MS);
    got = completeParts(out);
    if (got > 0 && firstMs === null) {
      firstMs = Date.now() - t0;
      firstCount = got;
    }
    if (got >= frames) {
      lastMs = Date.now() - t0;
      break;
    }
    // --play-and-exit: a stream VLC cannot open or play ends VLC.
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      exitedEarly = true;
      break;
    }
  }
  await child.stop();
  // No D-Bus session, PulseAudio or hotkeys on a server: VLC says so on every run.
  const output = child.output().split('\n').filter((l) => !VLC_NOISE.test(l)).join('\n');
  const probe = await run('ffprobe', ['-v', 'error', '-f', 'mpjpeg', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', out], { timeoutMs: READER_TIMEOUT_MS });
  let s = {};
  try {
    s = JSON.parse(probe.stdout).streams[0] || {};
  } catch { /* reported below */ }
  const read = Number(s.nb_read_frames) || 0;
  const sizeOk = s.width === width && s.height === height;
  const ok = got >= frames && !exitedEarly && probe.code === 0 && s.codec_name === 'mjpeg' && sizeOk && read >= frames && !probe.stderr.trim();
  const why = exitedEarly ? `VLC exited (${child.proc.exitCode ?? child.proc.signalCode}) after ${got} frames` : got < frames ? `${got}/${frames} frames within ${READER_TIMEOUT_MS} ms` : '';
  return {
    ok,
    runsAs: runsAs(),
    frames: got,
    read,
    codec: s.codec_name,
    width: s.width,
    height: s.height,
    firstMs,
    firstCount,
    // VLC first fills its network cache (1 s by default), then writes what it holds at once.
    fps: lastMs !== null && lastMs > firstMs ? (got - firstCount) / ((lastMs - firstMs) / 1000) : 0,
    detail: ok ? '' : `${why}; ffprobe of VLC's output: ${probe.code === 0 ? `${read} ${s.codec_name} ${s.width}x${s.height} frames ` : `exit ${probe.code} `}${tail(probe.stderr, 300)}\nVLC: ${tail(output)}`,
  };
}

/** Headless Chromium shows the stream in an <img>, and the picture changes over a few seconds. */
async function chromiumImg(url, { width, height }, shotDir) {
  const { chromium } = require('playwright-core');
  const t0 = Date.now();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: READER_TIMEOUT_MS });
  try {
    const page = await browser.newPage();
    // 'domcontentloaded': a live MJPEG <img> need not ever fire 'load'.
    await page.setContent(`<!DOCTYPE html><body style="margin:0"><img id="v" src="${url}"></body>`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => document.getElementById('v').naturalWidth > 0, null, { timeout: READER_TIMEOUT_MS });
    const firstMs = Date.now() - t0;
    const size = await page.evaluate(() => [document.getElementById('v').naturalWidth, document.getElementById('v').naturalHeight]);
    const hashes = new Set();
    for (let i = 0; i < SCREENSHOTS; i++) {
      const png = await page.locator('#v').screenshot();
      hashes.add(crypto.createHash('sha1').update(png).digest('hex'));
      if (i === SCREENSHOTS - 1 && shotDir) fs.writeFileSync(path.join(shotDir, 'chromium-last.png'), png);
      await sleep(SCREENSHOT_GAP_MS);
    }
    const sizeOk = size[0] === width && size[1] === height;
    const ok = sizeOk && hashes.size >= MIN_DISTINCT_SCREENSHOTS;
    return {
      ok,
      firstMs,
      width: size[0],
      height: size[1],
      distinct: hashes.size,
      shots: SCREENSHOTS,
      detail: ok ? '' : `size ${size.join('x')}, ${hashes.size}/${SCREENSHOTS} distinct screenshots`,
    };
  } finally {
    await browser.close();
  }
}

/** GET a snapshot endpoint; ffprobe and ffmpeg must decode the JPEG. */
async function snapshotJpeg(url, file) {
  const t0 = Date.now();
  const r = await request(url);
  const ms = Date.now() - t0;
  if (r.status !== 200) return { ok: false, detail: `HTTP ${r.status}: ${tail(r.body.toString('utf8'), 300)}` };
  fs.writeFileSync(file, r.body);
  const probe = await ffprobeStream(file, { format: null });
  const dec = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', file, '-f', 'null', '-'], { timeoutMs: READER_TIMEOUT_MS });
  const ok = probe.ok && dec.code === 0 && !dec.stderr.trim() && /^image\/jpeg/.test(String(r.headers['content-type']));
  return {
    ok,
    ms,
    bytes: r.body.length,
    contentType: r.headers['content-type'],
    width: probe.width,
    height: probe.height,
    detail: ok ? '' : `${probe.detail} ${tail(dec.stderr)} content-type ${r.headers['content-type']}`,
  };
}

module.exports = { ffmpegDecode, ffprobeStream, opencvRead, gstDecode, vlcDecode, chromiumImg, snapshotJpeg, SYSTEM_PYTHON, CHROMIUM, CHROMIUM_ARGS };
