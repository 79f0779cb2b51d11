import fc from 'fast-check';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readRatings, type ReadOptions } from '../../functions/core/ratings';
import { parseDecimalBytes, parseIdBytes } from '../../functions/core/ratings/fields';

function streamOf(buf: Buffer, chunk: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  return Readable.from(parts);
}

const id = fc.oneof(fc.nat(50), fc.nat(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
const row = fc.record({
  u: id,
  m: id,
  halfStars: fc.integer({ min: 1, max: 10 }),
  ts: fc.integer({ min: 0, max: 2 ** 40 }),
});
const encoding = fc.record({
  format: fc.constantFrom('csv', 'u.data', 'dat'),
  eol: fc.constantFrom('\n', '\r\n'),
  bom: fc.boolean(),
  gzip: fc.boolean(),
  quoting: fc.constantFrom('none', 'all', 'some'),
  extraColumns: fc.boolean(),
  shortRatings: fc.boolean(),
  finalNewline: fc.boolean(),
  blankLines: fc.boolean(),
  chunk: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.constant(1 << 20)),
});

type Row = { u: number; m: number; halfStars: number; ts: number };
type Enc = typeof encoding extends fc.Arbitrary<infer T> ? T : never;

function encode(rows: Row[], e: Enc): Buffer {
  const rating = (r: Row) => (e.shortRatings && r.halfStars % 2 === 0 ? String(r.halfStars / 2) : (r.halfStars / 2).toFixed(1));
  let lines: string[][];
  if (e.format === 'csv' && e.extraColumns) {
    lines = [['timestamp', 'note', 'movieId', 'rating', 'userId']];
    rows.forEach((r, i) => lines.push([String(r.ts), `n${i}`, String(r.m), rating(r), String(r.u)]));
  } else {
    lines = e.format === 'csv' ? [['userId', 'movieId', 'rating', 'timestamp']] : [];
    rows.forEach((r) => lines.push([String(r.u), String(r.m), rating(r), String(r.ts)]));
  }
  const sep = e.format === 'csv' ? ',' : e.format === 'u.data' ? '\t' : '::';
  const text = lines.map((fields, i) =>
    fields
      .map((f, j) => (e.format === 'csv' && (e.quoting === 'all' || (e.quoting === 'some' && (i + j) % 3 === 0)) ? `"${f}"` : f))
      .join(sep),
  );
  if (e.blankLines) text.splice(Math.min(1, text.length), 0, '', '');
  let out = text.join(e.eol);
  if (e.finalNewline) out += e.eol;
  const buf = Buffer.from((e.bom ? '\uFEFF' : '') + out, 'utf8');
  return e.gzip ? gzipSync(buf) : buf;
}

describe('readRatings properties', () => {
  test('valid interactions encoded in any supported way parse to the same interactions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 25 }), encoding, async (rows, e) => {
        const { interactions: x, report } = await readRatings(streamOf(encode(rows, e), e.chunk), {
          withRatings: true,
          withTimestamps: true,
        });
        expect(report.format).toBe(e.format);
        expect(report.gzip).toBe(e.gzip);
        expect(report.rowsRejected).toBe(0);
        expect(x.length).toBe(rows.length);
        for (let i = 0; i < rows.length; i++) {
          expect(x.userIds[x.users[i]]).toBe(rows[i].u);
          expect(x.movieIds[x.movies[i]]).toBe(rows[i].m);
          expect(x.ratings![i]).toBe(rows[i].halfStars / 2);
          expect(x.timestamps![i]).toBe(rows[i].ts);
        }
      }),
      { numRuns: 300 },
    );
  });

  // Lines of digits, separators and junk: the fast path, the csv-parse path and every chunking must
  // agree on every row (accepted values, reject reasons, line numbers, example text) or refuse alike.
  const junkLine = fc
    .array(fc.constantFrom('0', '1', '9', '9', '5', '-', '.', ',', ',', ',', ' ', 'a', '\r', ':', '\t'), { maxLength: 24 })
    .map((cs) => cs.join(''));
  test('fast path, csv-parse path and 1-byte chunks give identical results on arbitrary lines', async () => {
    const outcome = async (text: string, opts: ReadOptions, chunk: number) => {
      try {
        const r = await readRatings(streamOf(Buffer.from(text), chunk), { maxRejectedShare: 1, maxLineBytes: 16, ...opts });
        return { ok: r };
      } catch (err) {
        return { err: (err as Error).message };
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.array(junkLine, { maxLength: 12 }), fc.boolean(), async (lines, finalNewline) => {
        const text = 'userId,movieId,rating,timestamp\n' + lines.join('\n') + (finalNewline ? '\n' : '');
        const opts: ReadOptions = { withRatings: true, withTimestamps: true, format: 'csv' };
        const fast = await outcome(text, opts, 1 << 20);
        expect(await outcome(text, { ...opts, parser: 'csv-parse' }, 1 << 20)).toEqual(fast);
        expect(await outcome(text, opts, 1)).toEqual(fast);
      }),
      { numRuns: 300 },
    );
  });

  test('u.data and ratings.dat: any chunking gives the same result on arbitrary lines', async () => {
    const outcome = async (text: string, opts: ReadOptions, chunk: number) => {
      try {
        return { ok: await readRatings(streamOf(Buffer.from(text), chunk), { maxRejectedShare: 1, maxLineBytes: 16, ...opts }) };
      } catch (err) {
        return { err: (err as Error).message };
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.array(junkLine, { maxLength: 12 }), fc.constantFrom('u.data', 'dat'), fc.integer({ min: 1, max: 5 }), async (lines, format, chunk) => {
        const text = lines.join('\n');
        const opts: ReadOptions = { withRatings: true, withTimestamps: true, format: format as 'u.data' | 'dat' };
        expect(await outcome(text, opts, chunk)).toEqual(await outcome(text, opts, 1 << 20));
      }),
      { numRuns: 300 },
    );
  });

  test('field grammar: ids match /^[0-9]{1,16}$/ within the safe range; decimals match parseFloat', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^-?[0-9]{0,18}(\.[0-9]{0,18})?x?$/), (s) => {
        const b = Buffer.from(s);
        const idv = parseIdBytes(b, 0, b.length);
        const isId = /^[0-9]{1,16}$/.test(s) && Number(s) <= Number.MAX_SAFE_INTEGER;
        expect(idv).toBe(isId ? Number(s) : -1);
        const dec = parseDecimalBytes(b, 0, b.length);
        const isDec = /^-?[0-9]+(\.[0-9]+)?$/.test(s);
        if (isDec) expect(dec).toBe(Number.parseFloat(s));
        else expect(dec).toBeNaN();
      }),
      { numRuns: 2000 },
    );
  });
});

describe('collapsing duplicates while reading (training: memory follows the distinct pairs)', () => {
  // small id ranges so pairs repeat; rows either grouped by user (the stamp path) or in any order (the
  // hash path, entered when a user comes back); some rows without a timestamp
  const pairRow = fc.record({ u: fc.nat(6), m: fc.nat(8), ts: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }) });
  const rows = fc.tuple(fc.array(pairRow, { minLength: 1, maxLength: 120 }), fc.boolean(), fc.boolean()).map(([rs, grouped, stamps]) => {
    const ordered = grouped ? [...rs].sort((a, b) => a.u - b.u) : rs;
    return ordered.map((r) => ({ ...r, ts: stamps ? (r.ts ?? 5) : r.ts }));
  });
  const csv = (rs: Array<{ u: number; m: number; ts?: number }>) =>
    Buffer.from('userId,movieId,rating,timestamp\n' + rs.map((r) => `${r.u},${r.m},3.0,${r.ts ?? ''}`).join('\n') + '\n');

  test('property: the same matrix, earliest timestamps and duplicate count as collapsing in the matrix', async () => {
    const { buildMatrix, fillReport } = await import('../../functions/core/matrix');
    const { cellTimes } = await import('../../functions/core/recommender');
    await fc.assert(
      fc.asyncProperty(rows, async (rs) => {
        const buf = csv(rs);
        const read = (collapse: boolean) =>
          readRatings(Readable.from([buf]), { withTimestamps: true, collapseDuplicates: collapse, maxRejectedShare: 1 }).then(
            (r) => r,
            (e) => e as Error,
          );
        const [kept, collapsed] = await Promise.all([read(false), read(true)]);
        if (kept instanceof Error || collapsed instanceof Error) {
          // a file refused (e.g. every timestamp empty is still a valid file; nothing else is refused here)
          expect(String(collapsed)).toBe(String(kept));
          return;
        }
        const a = buildMatrix(kept.interactions);
        const b = buildMatrix(collapsed.interactions);
        expect(b.matrix).toEqual(a.matrix);
        expect(b.duplicatesCollapsed).toBe(0);
        expect(collapsed.interactions.length).toBe(a.matrix.indices.length);
        expect(cellTimes(collapsed.interactions, b.matrix)).toEqual(cellTimes(kept.interactions, a.matrix));
        const ra = fillReport(kept.report, a.matrix, a.duplicatesCollapsed);
        const rb = fillReport(collapsed.report, b.matrix, b.duplicatesCollapsed);
        expect(rb).toEqual(ra);
      }),
      { numRuns: 300 },
    );
  });

  test('a memory check sees the distinct pairs, users and movies as they grow, and its refusal stops the read', async () => {
    const seen: Array<{ pairs: number; users: number; movies: number }> = [];
    const lines = ['userId,movieId'];
    for (let u = 0; u < 400; u++) for (let m = 0; m < 400; m++) lines.push(`${u},${m}`, `${u},${m}`); // each row twice
    const err = await readRatings(Readable.from([Buffer.from(lines.join('\n'))]), {
      collapseDuplicates: true,
      memoryCheck: (shape) => {
        seen.push(shape);
        if (shape.pairs >= 2 * 65_536) throw new Error('over budget');
      },
    }).catch((e) => e as Error);
    expect((err as Error).message).toBe('over budget');
    // consulted every 65,536 new pairs: duplicates never count
    expect(seen).toEqual([
      { pairs: 65_536, users: 164, movies: 400 },
      { pairs: 131_072, users: 328, movies: 400 },
    ]);
  });
});
