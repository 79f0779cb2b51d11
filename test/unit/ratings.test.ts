import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { readRatings, type ReadOptions } from '../../functions/core/ratings';
import { InputError, type Interactions } from '../../functions/core/types';

const FIX = path.join(__dirname, '..', 'fixtures', 'ratings');

/** The input as a stream cut into `chunk`-byte pieces. */
function streamOf(data: string | Buffer, chunk = 1 << 20): Readable {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  return Readable.from(parts);
}

function read(data: string | Buffer, opts: ReadOptions = {}, chunk?: number) {
  return readRatings(streamOf(data, chunk), { sourceName: 'test.csv', ...opts });
}

/** Raw (userId, movieId) of each accepted row, in file order. */
function pairs(x: Interactions): Array<[number, number]> {
  return Array.from({ length: x.length }, (_, i) => [x.userIds[x.users[i]], x.movieIds[x.movies[i]]] as [number, number]);
}

async function refusal(p: Promise<unknown>, code: string): Promise<InputError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe(code);
    return err as InputError;
  }
  throw new Error(`expected a refusal with code ${code}`);
}

const SMALL = 'userId,movieId,rating,timestamp\n1,10,4.0,964982703\n1,20,3.5,964982224\n2,10,5.0,964983815\n3,30,0.5,964982931\n2,20,2.0,964984000\n';
const SMALL_PAIRS = [[1, 10], [1, 20], [2, 10], [3, 30], [2, 20]];

describe('readRatings: formats', () => {
  test('ratings.csv with a header: ids to dense indices in first-appearance order', async () => {
    const { interactions: x, report } = await read(SMALL);
    expect(x.length).toBe(5);
    expect(x.userIds).toEqual([1, 2, 3]);
    expect(x.movieIds).toEqual([10, 20, 30]);
    expect(Array.from(x.users)).toEqual([0, 0, 1, 2, 1]);
    expect(Array.from(x.movies)).toEqual([0, 1, 0, 2, 1]);
    expect(x.ratings).toBeUndefined();
    expect(x.timestamps).toBeUndefined();
    expect(report).toMatchObject({ format: 'csv', gzip: false, bytes: Buffer.byteLength(SMALL), rowsRead: 5, rowsAccepted: 5, rowsRejected: 0, rejectedByReason: {}, examples: [] });
  });

  test('ratings and timestamps when requested', async () => {
    const { interactions: x } = await read(SMALL, { withRatings: true, withTimestamps: true });
    expect(Array.from(x.ratings!)).toEqual([4, 3.5, 5, 0.5, 2]);
    expect(Array.from(x.timestamps!)).toEqual([964982703, 964982224, 964983815, 964982931, 964984000]);
  });

  test('header found by name: case-insensitive, reordered and extra columns ignored', async () => {
    const csv = 'Timestamp,extra,MOVIEID,rating,userid\n964982703,x,10,4.0,1\n964982224,y,20,3.5,1\n';
    const { interactions: x } = await read(csv, { withRatings: true, withTimestamps: true });
    expect(pairs(x)).toEqual([[1, 10], [1, 20]]);
    expect(Array.from(x.ratings!)).toEqual([4, 3.5]);
    expect(Array.from(x.timestamps!)).toEqual([964982703, 964982224]);
  });

  test('a stream of strings (not Buffers) is read too', async () => {
    const { interactions: x } = await readRatings(Readable.from(['userId,mov', 'ieId\n1,2\n3,', '4\n']));
    expect(pairs(x)).toEqual([[1, 2], [3, 4]]);
  });

  test('userId,movieId only: ratings requested but absent are NaN', async () => {
    const { interactions: x } = await read('userId,movieId\n5,6\n7,8\n', { withRatings: true });
    expect(pairs(x)).toEqual([[5, 6], [7, 8]]);
    expect(Array.from(x.ratings!).every(Number.isNaN)).toBe(true);
  });

  test('BOM, CRLF, blank lines and a missing final newline change nothing', async () => {
    const messy = '\uFEFF' + SMALL.replace(/\n/g, '\r\n').replace('2,10,', '\r\n\r\n2,10,').replace(/\r\n$/, '');
    const a = await read(messy, { withRatings: true, withTimestamps: true });
    const b = await read(SMALL, { withRatings: true, withTimestamps: true });
    expect(a.interactions).toEqual(b.interactions);
    expect(a.report.rowsRead).toBe(5);
    expect(a.report.rowsRejected).toBe(0);
  });

  test('u.data (tab separated, no header) is sniffed', async () => {
    const { interactions: x, report } = await readRatings(path.join(FIX, 'u.data'), { withRatings: true, withTimestamps: true });
    expect(report.format).toBe('u.data');
    expect(pairs(x)).toEqual([[196, 242], [186, 302], [196, 377]]);
    expect(Array.from(x.ratings!)).toEqual([3, 3, 1]);
    expect(Array.from(x.timestamps!)).toEqual([881250949, 891717742, 878887116]);
  });

  test('ratings.dat (:: separated, CRLF) is sniffed', async () => {
    const { interactions: x, report } = await readRatings(path.join(FIX, 'ratings.dat'), { withRatings: true });
    expect(report.format).toBe('dat');
    expect(pairs(x)).toEqual([[1, 1193], [1, 661], [2, 1193]]);
    expect(Array.from(x.ratings!)).toEqual([5, 3, 4]);
  });

  test('a single ":" is not a ratings.dat separator', async () => {
    const { report } = await read('1::2::3::4\n1:2::3::4::5\n', { maxRejectedShare: 1 });
    expect(report.rejectedByReason).toEqual({ bad_user_id: 1 });
  });

  test('explicit format overrides sniffing', async () => {
    const { report } = await read('1\t2\t3\t4\n', { format: 'csv', maxRejectedShare: 1 }).catch((e: InputError) => e.details as never);
    expect(report.format).toBe('csv');
  });

  test('header-less numeric CSV: columns by position', async () => {
    const { interactions: x } = await read('1,10,4.0,5\n2,20,3.0,6\n', { withRatings: true });
    expect(pairs(x)).toEqual([[1, 10], [2, 20]]);
    expect(Array.from(x.ratings!)).toEqual([4, 3]);
  });

  test.each([
    ['small.csv', 'csv'],
    ['u.data', 'u.data'],
    ['ratings.dat', 'dat'],
  ])('gzip of %s is detected by content, not by name', async (file, format) => {
    const plain = await readRatings(path.join(FIX, file), { withRatings: true });
    const gz = gzipSync(require('node:fs').readFileSync(path.join(FIX, file)));
    const zipped = await read(gz, { withRatings: true }, 7);
    expect(zipped.report.gzip).toBe(true);
    expect(zipped.report.format).toBe(format);
    expect(zipped.interactions).toEqual(plain.interactions);
    expect(zipped.report.bytes).toBe(plain.report.bytes);
  });

  test('reads a gzip file from a path (small.csv.gz)', async () => {
    const { interactions: x, report } = await readRatings(path.join(FIX, 'small.csv.gz'));
    expect(report.gzip).toBe(true);
    expect(pairs(x)).toEqual(SMALL_PAIRS);
  });
});

describe('readRatings: quoted CSV (csv-parse path)', () => {
  test('fully quoted file gives the same interactions and report as plain (bytes aside)', async () => {
    const plain = SMALL + 'x,1,2,3\n4,5\n';
    const quoted = plain
      .split('\n')
      .map((l) => (l ? l.split(',').map((f) => `"${f}"`).join(',') : l))
      .join('\n');
    const a = await read(plain, { withRatings: true, withTimestamps: true, maxRejectedShare: 1 });
    const b = await read(quoted, { withRatings: true, withTimestamps: true, maxRejectedShare: 1 });
    expect(b.interactions).toEqual(a.interactions);
    expect({ ...b.report, bytes: 0 }).toEqual({ ...a.report, bytes: 0 });
    expect(a.report.examples).toEqual([
      { line: 7, reason: 'bad_user_id', text: 'x,1,2,3' },
      { line: 8, reason: 'field_count', text: '4,5' },
    ]);
  });

  test('forcing csv-parse on a plain file gives an identical result, report included', async () => {
    const plain = SMALL + '1.5,2,3,4\n-3,2,3,4\n1,abc,3,4\n1,2,x,4\n1,2,3,y\n1,2,3\n\r\n1,2,3,4,5\n99999999999999999999,1,1,1\n';
    const opts: ReadOptions = { withRatings: true, withTimestamps: true, maxRejectedShare: 1 };
    const fast = await read(plain, opts);
    const slow = await read(plain, { ...opts, parser: 'csv-parse' });
    expect(slow.interactions).toEqual(fast.interactions);
    expect(slow.report).toEqual(fast.report);
    expect(fast.report.rowsRejected).toBe(8);
  });

  test('embedded commas and newlines in quoted fields; line numbers stay right after them', async () => {
    const csv = 'userId,note,movieId\n1,"a, b",10\n2,"two\nlines",20\n3,plain,30\nbad,"x",40\n';
    const { interactions: x, report } = await read(csv, { maxRejectedShare: 1 });
    expect(pairs(x)).toEqual([[1, 10], [2, 20], [3, 30]]);
    expect(report.examples).toEqual([{ line: 6, reason: 'bad_user_id', text: 'bad,x,40' }]);
  });

  test('a quote first seen mid-file switches the rest of the file; rows before it come from the fast path', async () => {
    const csv = 'userId,movieId,title\n1,10,A\n2,20,"B, the sequel"\n3,30,C\n';
    const { interactions: x, report } = await read(csv, {}, 5);
    expect(pairs(x)).toEqual([[1, 10], [2, 20], [3, 30]]);
    expect(report.rowsRead).toBe(3);
  });

  test('quoted header', async () => {
    const { interactions: x } = await read('"userId","movieId"\n1,2\n');
    expect(pairs(x)).toEqual([[1, 2]]);
  });

  test('a quoted row longer than maxLineBytes is rejected like in the fast path', async () => {
    const long = `"1","${'9'.repeat(300)}"`;
    const { interactions: x, report } = await read(`userId,movieId\n${long}\n2,3\n`, { maxLineBytes: 100, maxRejectedShare: 1 });
    expect(pairs(x)).toEqual([[2, 3]]);
    expect(report.examples).toEqual([{ line: 2, reason: 'line_too_long', text: `1,${'9'.repeat(198)}` }]);
  });

  test('an unclosed quote is refused with its line', async () => {
    const e = await refusal(read('userId,movieId\n1,2\n3,"4\n5,6\n'), 'malformed_csv');
    expect(e.message).toMatch(/test\.csv: line 3/);
  });

  test('a quoted id with spaces or a stray quote is a bad row, not a crash', async () => {
    const { report } = await read('userId,movieId\n1,2\n"3 ",4\n5,6"x\n', { maxRejectedShare: 1 });
    expect(report.rejectedByReason).toEqual({ bad_user_id: 1, bad_movie_id: 1 });
    expect(report.examples.map((e) => e.line)).toEqual([3, 4]);
  });
});

describe('readRatings: rejected rows', () => {
  const lenient: ReadOptions = { maxRejectedShare: 1, withRatings: true, withTimestamps: true };

  test.each([
    ['1.5,10,4,5', 'bad_user_id'],
    ['-3,10,4,5', 'bad_user_id'],
    ['+3,10,4,5', 'bad_user_id'],
    ['abc,10,4,5', 'bad_user_id'],
    [',10,4,5', 'bad_user_id'],
    [' 3,10,4,5', 'bad_user_id'],
    ['99999999999999999999,10,4,5', 'bad_user_id'],
    ['9007199254740992,10,4,5', 'bad_user_id'],
    ['3,1e3,4,5', 'bad_movie_id'],
    ['3,10.0,4,5', 'bad_movie_id'],
    ['3,10,four,5', 'bad_rating'],
    ['3,10,4.,5', 'bad_rating'],
    ['3,10,.5,5', 'bad_rating'],
    ['3,10,,5', 'bad_rating'],
    ['3,10,4,-5', 'bad_timestamp'],
    ['3,10,4,5.5', 'bad_timestamp'],
    ['3,10,4', 'field_count'],
    ['3,10,4,5,6', 'field_count'],
    ['x,y', 'field_count'],
  ])('%s → %s, with its 1-based line number and text', async (row, reason) => {
    const { interactions: x, report } = await read(`userId,movieId,rating,timestamp\n\n1,1,1,1\n${row}\n2,2,2,2\n`, lenient);
    expect(pairs(x)).toEqual([[1, 1], [2, 2]]);
    expect(report).toMatchObject({ rowsRead: 3, rowsAccepted: 2, rowsRejected: 1, rejectedByReason: { [reason]: 1 } });
    expect(report.examples).toEqual([{ line: 4, reason, text: row }]);
  });

  test('largest safe id, leading zeros and negative/decimal ratings are accepted', async () => {
    const { interactions: x } = await read('userId,movieId,rating\n9007199254740991,007,-2.25\n', { withRatings: true });
    expect(pairs(x)).toEqual([[9007199254740991, 7]]);
    expect(Array.from(x.ratings!)).toEqual([-2.25]);
  });

  test('rating and timestamp are not validated when not requested', async () => {
    const { interactions: x, report } = await read('userId,movieId,rating,timestamp\n1,2,n/a,yesterday\n');
    expect(pairs(x)).toEqual([[1, 2]]);
    expect(report.rowsRejected).toBe(0);
  });

  test('field count is checked first, then user, movie, rating, timestamp', async () => {
    const { report } = await read('userId,movieId,rating,timestamp\nx,y,z\nx,y,z,w\n1,y,z,w\n1,2,z,w\n1,2,3,w\n1,2,3,4\n', lenient);
    expect(report.examples.map((e) => e.reason)).toEqual(['field_count', 'bad_user_id', 'bad_movie_id', 'bad_rating', 'bad_timestamp']);
  });

  test('only the first 5 examples are kept; counts cover all', async () => {
    const bad = Array.from({ length: 8 }, (_, i) => `u${i},1`).join('\n');
    const { report } = await read(`userId,movieId\n1,1\n${bad}\n`, lenient);
    expect(report.rowsRejected).toBe(8);
    expect(report.examples.map((e) => e.line)).toEqual([3, 4, 5, 6, 7]);
  });

  test('a line longer than maxLineBytes is rejected (text cut to 200 bytes) and the next rows still read', async () => {
    const long = '1,' + '9'.repeat(5000);
    for (const chunk of [1 << 20, 64, 1]) {
      const { interactions: x, report } = await read(`userId,movieId\n${long}\n2,3\n${long}`, { maxLineBytes: 100, maxRejectedShare: 1 }, chunk);
      expect(pairs(x)).toEqual([[2, 3]]);
      expect(report.rejectedByReason).toEqual({ line_too_long: 2 });
      expect(report.examples).toEqual([
        { line: 2, reason: 'line_too_long', text: long.slice(0, 200) },
        { line: 4, reason: 'line_too_long', text: long.slice(0, 200) },
      ]);
    }
  });

  test('a line of exactly maxLineBytes is read; one byte more is too long', async () => {
    const row = '1,' + '2'.repeat(8); // 10 bytes
    const ok = await read(`userId,movieId\n${row}\n`, { maxLineBytes: 10 });
    expect(ok.report.rowsAccepted).toBe(1);
    const { report } = await read(`userId,movieId\n${row}3\n1,1\n`, { maxLineBytes: 10, maxRejectedShare: 1 });
    expect(report.rejectedByReason).toEqual({ line_too_long: 1 });
  });
});

describe('readRatings: refusals', () => {
  test.each([
    ['', 'empty'],
    ['\n\r\n\n', 'empty'],
    ['\uFEFF', 'empty'],
    ['userId,movieId,rating,timestamp\n', 'empty'],
    ['userId,movieId,rating,timestamp\n\n\n', 'empty'],
  ])('%j → %s', async (text, code) => {
    await refusal(read(text), code);
  });

  test('a header without userId/movieId is refused, naming what it found', async () => {
    const e = await refusal(read('user,item,score\n1,2,3\n'), 'missing_columns');
    expect(e.message).toContain('found: user, item, score');
    expect(e.message).toContain('test.csv');
  });

  test('too many rejected rows: says how many, the first example line and how to raise the threshold', async () => {
    const rows = ['userId,movieId', ...Array.from({ length: 98 }, (_, i) => `${i},1`), 'x,1', 'y,1'];
    const e = await refusal(read(rows.join('\n')), 'too_many_rejected');
    expect(e.message).toContain('2 of 100 data rows (2.00%)');
    expect(e.message).toContain('line 100');
    expect(e.message).toContain('maxRejectedShare');
    expect((e.details as { report: { rowsRejected: number } }).report.rowsRejected).toBe(2);
    // exactly at the threshold (1 of 100 = 1%) is still accepted
    const ok = await read(rows.slice(0, 100).concat('1,2').join('\n'));
    expect(ok.report.rowsRejected).toBe(1);
    // and the threshold can be raised
    const raised = await read(rows.join('\n'), { maxRejectedShare: 0.02 });
    expect(raised.report.rowsAccepted).toBe(98);
  });

  test('every row rejected is refused even with maxRejectedShare 1', async () => {
    const e = await refusal(read('userId,movieId\nx,1\n', { maxRejectedShare: 1 }), 'too_many_rejected');
    expect(e.message).toContain('none of the 1 data rows could be read; the first is line 2 (bad_user_id): "x,1"');
  });

  test('NUL bytes (binary junk) are refused as not text', async () => {
    const junk = Buffer.concat([Buffer.from('userId,movieId\n1,2\n'), Buffer.from([0, 1, 2, 255, 0])]);
    const e = await refusal(read(junk), 'not_text');
    expect(e.message).toContain('byte 20');
  });

  test('UTF-16 text is refused as not text', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('userId,movieId\n1,2\n', 'utf16le')]);
    await refusal(read(utf16), 'not_text');
  });

  test('decompressed size over maxBytes is refused (gzip-bomb guard)', async () => {
    const bomb = gzipSync(Buffer.from('userId,movieId\n' + '1,2\n'.repeat(100000)));
    expect(bomb.length).toBeLessThan(5000);
    const e = await refusal(read(bomb, { maxBytes: 100000 }), 'too_large');
    expect(e.message).toContain('decompressed');
  });

  test('corrupt gzip is refused', async () => {
    const gz = gzipSync(Buffer.from(SMALL));
    await refusal(read(gz.subarray(0, gz.length - 12)), 'bad_gzip');
  });

  test('a missing file is refused', async () => {
    const e = await refusal(readRatings(path.join(FIX, 'nope.csv')), 'not_found');
    expect(e.message).toContain('nope.csv');
  });
});

describe('readRatings: from a path', () => {
  // A plain file read by path is pre-sized from its size and its first lines' length; a wrong guess
  // (first lines much longer or much shorter than the rest) must not change the result.
  test.each([
    ['first lines long, the rest short', 'x'.repeat(200), ''],
    ['first lines short, the rest long', '', 'x'.repeat(200)],
  ])('%s', async (_name, early, late) => {
    const lines = ['userId,movieId,note'];
    for (let i = 0; i < 3000; i++) lines.push(`${i % 97},${i},${early}`);
    for (let i = 3000; i < 60000; i++) lines.push(`${i % 97},${i},${late}`);
    const file = path.join(require('node:os').tmpdir(), `ratings-path-${process.pid}-${early.length}.csv`);
    const fs = require('node:fs') as typeof import('node:fs');
    fs.writeFileSync(file, lines.join('\n'));
    try {
      const byPath = await readRatings(file);
      const byStream = await read(fs.readFileSync(file));
      expect(byPath.interactions).toEqual(byStream.interactions);
      expect(byPath.interactions.length).toBe(60000);
      expect(byPath.interactions.movieIds[59999]).toBe(59999);
    } finally {
      fs.unlinkSync(file);
    }
  });
});

describe('readRatings: chunk boundaries', () => {
  const tricky =
    '\uFEFFuserId,movieId,rating,timestamp\r\n1,10,4.0,964982703\r\n\r\n1,20,3.5,964982224\n' +
    'bad,1,1,1\r\n2,10,5.0,964983815\n3,30,0.5\n' +
    '1,' + '7'.repeat(300) + ',1,1\r\n' +
    '4,40,1.5,12345678901\r\n';
  const opts: ReadOptions = { withRatings: true, withTimestamps: true, maxRejectedShare: 1, maxLineBytes: 120 };

  test.each([1, 2, 3, 7, 64])('fed %i byte(s) at a time gives the same result as one chunk', async (chunk) => {
    const whole = await read(tricky, opts);
    const pieces = await read(tricky, opts, chunk);
    expect(pieces.interactions).toEqual(whole.interactions);
    expect(pieces.report).toEqual(whole.report);
    expect(whole.report.rowsAccepted).toBe(4);
    expect(whole.report.examples.map((e) => [e.line, e.reason])).toEqual([
      [5, 'bad_user_id'],
      [7, 'field_count'],
      [8, 'line_too_long'],
    ]);
  });

  test('a quoted file fed 1 byte at a time (and gzipped) gives the same result', async () => {
    const csv = 'userId,title,movieId\n1,"a,\r\nb",10\n2,"c""d",20\nx,"",30\n';
    const whole = await read(csv, { maxRejectedShare: 1 });
    expect(pairs(whole.interactions)).toEqual([[1, 10], [2, 20]]);
    expect(whole.report.examples).toEqual([{ line: 5, reason: 'bad_user_id', text: 'x,,30' }]);
    const bytes = await read(csv, { maxRejectedShare: 1 }, 1);
    expect(bytes.interactions).toEqual(whole.interactions);
    expect(bytes.report).toEqual(whole.report);
    const gz = await read(gzipSync(Buffer.from(csv)), { maxRejectedShare: 1 }, 3);
    expect(gz.interactions).toEqual(whole.interactions);
    expect({ ...gz.report, gzip: false }).toEqual(whole.report);
  });
});
