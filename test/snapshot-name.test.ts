import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FALLBACK_NAME, MAX_NAME_PART_LENGTH, fileTimestamp, sanitizeName, snapshotFilename } from '../src/snapshot-name';

/** Characters that break a file name on Windows, macOS or Linux. */
const UNSAFE = /[\\/:*?"<>|\x00-\x1f\x7f]/;

describe('snapshot-name', () => {
  describe('sanitizeName', () => {
    it('keeps letters, digits, dot, dash and underscore', () => {
      assert.equal(sanitizeName('Front-Door_2.cam'), 'Front-Door_2.cam');
    });

    it('replaces spaces, slashes and colons with a single underscore', () => {
      assert.equal(sanitizeName('Garage / Gate: north'), 'Garage_Gate_north');
      assert.equal(sanitizeName('a\\b'), 'a_b');
    });

    it('keeps letters of other scripts', () => {
      assert.equal(sanitizeName('Garage Süd'), 'Garage_Süd');
      assert.equal(sanitizeName('カメラ 1'), 'カメラ_1');
    });

    it('trims leading dots so the file is not hidden, and trailing dots Windows would drop', () => {
      assert.equal(sanitizeName('..secret..'), 'secret');
      assert.equal(sanitizeName('../../etc/passwd'), 'etc_passwd');
    });

    it('falls back when nothing usable is left', () => {
      assert.equal(sanitizeName(''), FALLBACK_NAME);
      assert.equal(sanitizeName('  :/?  '), FALLBACK_NAME);
      assert.equal(sanitizeName(undefined), FALLBACK_NAME);
      assert.equal(sanitizeName(null), FALLBACK_NAME);
    });

    it('cuts long names without splitting a surrogate pair', () => {
      const out = sanitizeName('😀'.repeat(MAX_NAME_PART_LENGTH + 10));
      // Emoji are not letters: they collapse to the fallback.
      assert.equal(out, FALLBACK_NAME);
      const long = sanitizeName('𝒜'.repeat(MAX_NAME_PART_LENGTH + 10));
      assert.equal(Array.from(long).length, MAX_NAME_PART_LENGTH);
      assert.ok(!/[\uD800-\uDBFF]$/.test(long), 'no lone high surrogate at the end');
    });

    it('is safe for any input (property)', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => {
          const out = sanitizeName(s);
          assert.ok(out.length > 0);
          assert.ok(!UNSAFE.test(out), `unsafe: ${JSON.stringify(out)}`);
          assert.ok(!out.startsWith('.'));
          assert.ok(Array.from(out).length <= MAX_NAME_PART_LENGTH);
          assert.equal(sanitizeName(out), out, 'idempotent');
        }),
      );
    });
  });

  describe('fileTimestamp', () => {
    it('formats local time with milliseconds and no colon', () => {
      const d = new Date(2024, 0, 2, 3, 4, 5, 6); // local time
      assert.equal(fileTimestamp(d), '2024-01-02_03-04-05-006');
      assert.equal(fileTimestamp(d.getTime()), '2024-01-02_03-04-05-006');
    });

    it('rejects an invalid time', () => {
      assert.throws(() => fileTimestamp(Number.NaN), RangeError);
    });
  });

  describe('snapshotFilename', () => {
    it('joins sanitized camera name, timestamp and .jpg', () => {
      const t = new Date(2025, 11, 31, 23, 59, 59, 999).getTime();
      assert.equal(snapshotFilename('Front door', t), 'Front_door_2025-12-31_23-59-59-999.jpg');
    });

    it('matches the documented pattern for any name and time (property)', () => {
      fc.assert(
        fc.property(fc.string(), fc.integer({ min: 0, max: 4102444800000 }), (name, t) => {
          const f = snapshotFilename(name, t);
          assert.match(f, /^[^\\/:*?"<>|]+_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}-\d{3}\.jpg$/u);
        }),
      );
    });
  });
});
