import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readMovies } from '../../functions/core/movies';
import { InputError } from '../../functions/core/types';

const FIX = path.join(__dirname, '..', 'fixtures', 'ratings');
const read = (text: string | Buffer, opts = {}) => readMovies(Readable.from([Buffer.from(text)]), { sourceName: 'movies.csv', ...opts });

async function refusal(p: Promise<unknown>, code: string): Promise<InputError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).code).toBe(code);
  return err as InputError;
}

describe('readMovies', () => {
  test('quoted titles with commas, doubled quotes and newlines; genres split on |', async () => {
    const m = await readMovies(path.join(FIX, 'movies.csv'));
    expect([...m.keys()]).toEqual([1, 11, 20]);
    expect(m.get(1)).toEqual({ title: 'Toy Story (1995)', genres: ['Adventure', 'Animation', 'Children'] });
    expect(m.get(11)).toEqual({ title: 'American President, The (1995)', genres: ['Comedy', 'Drama', 'Romance'] });
    expect(m.get(20)).toEqual({ title: 'Multi\nLine "Title"', genres: [] });
  });

  test('BOM, CRLF, gzip and reordered columns', async () => {
    const text = '\uFEFFgenres,Title,movieId\r\nDrama,"A, B",5\r\nComedy|Drama,C,6\r\n';
    const m = await read(gzipSync(Buffer.from(text)));
    expect(m.get(5)).toEqual({ title: 'A, B', genres: ['Drama'] });
    expect(m.get(6)).toEqual({ title: 'C', genres: ['Comedy', 'Drama'] });
  });

  test('without a genres column every movie has no genres', async () => {
    expect((await read('movieId,title\n3,X\n')).get(3)).toEqual({ title: 'X', genres: [] });
  });

  test('a bad movieId row is skipped when rare, refused when frequent', async () => {
    const rows = Array.from({ length: 150 }, (_, i) => `${i + 1},T${i}`).join('\n');
    const m = await read(`movieId,title\n${rows}\nx1,Bad\n`);
    expect(m.size).toBe(150);
    const e = await refusal(read('movieId,title\n1,A\n-2,B\n'), 'too_many_rejected');
    expect(e.message).toContain('1 of 2 rows');
    expect(e.message).toContain('line 3');
  });

  test('refuses an empty file, a header only, missing columns, malformed quoting, NUL bytes', async () => {
    await refusal(read(''), 'empty');
    await refusal(read('movieId,title,genres\n'), 'empty');
    const e = await refusal(read('id,name\n1,A\n'), 'missing_columns');
    expect(e.message).toContain('found: id, name');
    await refusal(read('movieId,title\n1,"open\n'), 'malformed_csv');
    await refusal(read(Buffer.from([0x6d, 0, 0x6f])), 'not_text');
  });
});
