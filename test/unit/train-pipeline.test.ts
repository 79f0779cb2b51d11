// trainModel: the pipeline's own decisions (parameters, large-data adaptation, refusals), on generated data.
import { Readable, Writable } from 'node:stream';
import { generateRatings } from '../../offline/generate';
import { trainModel } from '../../functions/core/train';
import { InputError } from '../../functions/core/types';

async function sample(users: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _e: string, cb: () => void) {
      chunks.push(Buffer.from(c));
      cb();
    },
  });
  await generateRatings({ users, movies: 120, ratings: users * 12, clusters: 3, seed: 5 }, sink);
  return Buffer.concat(chunks);
}

describe('trainModel', () => {
  let csv: Buffer;
  beforeAll(async () => {
    csv = await sample(120);
  });
  const src = () => Readable.from([csv]);

  it('trains the seed algorithm with the seed parameters when asked, recording every phase', async () => {
    const { snapshot } = await trainModel(src(), { algorithm: 'seed', k: 3 }, { sourceName: 's.csv' });
    expect(snapshot.params).toMatchObject({ algorithm: 'seed', k: 3, nInit: 10, maxIter: 300, randomState: 0, minClusterSize: 6 });
    expect(snapshot.users.mix).toBeUndefined();
    expect(Object.keys(snapshot.training.seconds)).toEqual(expect.arrayContaining(['parse', 'matrix', 'cluster', 'counts', 'check']));
    expect(snapshot.data.users).toBe(120);
  });

  it('trains the taste model by default, with a mix per user and a hold-out verdict', async () => {
    const { snapshot } = await trainModel(src(), { taste: { k: 6, select: false } }, { sourceName: 's.csv' });
    expect(snapshot.params).toMatchObject({ algorithm: 'taste' });
    expect(snapshot.users.mix!.ptr).toHaveLength(121);
    expect(snapshot.training.holdout).toMatchObject({ passed: expect.any(Boolean), reason: expect.any(String) });
  });

  it('on large data the seed algorithm gets fewer restarts unless chosen, the default model its large-data path, and the notes say so', async () => {
    const nnz = 120 * 12; // every generated row is a distinct (user, movie) pair
    // the default model: K-means on a user sample with one restart and at most taste.kmeansMaxIter iterations,
    // taste.largeEnsemble clusterings, the large path's search; its own check on users apart from the validation
    const taste = await trainModel(src(), { taste: { k: 6, select: false, kmeansMaxIter: 3 } }, { largeDataNnz: nnz - 1, check: false });
    expect(taste.snapshot.training.notes!.join(' ')).toMatch(/large-data path \(1440 interactions > 1439\): 2 clusterings, k fixed at 6/);
    expect(taste.snapshot.training.iterations).toBeLessThanOrEqual(3);
    expect((taste.snapshot.training.taste as { ensemble: number }).ensemble).toBe(2);
    const small = await trainModel(src(), { taste: { k: 6, select: false } }, { largeDataNnz: nnz, check: false });
    expect((small.snapshot.training.notes ?? []).join(' ')).not.toMatch(/large-data path/);
    expect((small.snapshot.training.taste as { ensemble: number }).ensemble).toBe(3);

    const seed = await trainModel(src(), { algorithm: 'seed', k: 3 }, { largeDataNnz: nnz - 1, check: false });
    expect(seed.snapshot.params).toMatchObject({ nInit: 3, maxIter: 300 });

    const smallSeed = await trainModel(src(), { algorithm: 'seed', k: 3 }, { largeDataNnz: nnz, check: false });
    expect(smallSeed.snapshot.params.nInit).toBe(10);
  });

  it('refuses bad parameters before reading, and k above the number of users for the seed algorithm', async () => {
    await expect(trainModel(src(), { algorithm: 'seed', k: 0 })).rejects.toThrow(/k must be a positive integer/);
    await expect(trainModel(src(), { algorithm: 'seed', k: 500 }, { sourceName: 's.csv' })).rejects.toThrow(
      /s.csv has 120 users, fewer than k=500 clusters/,
    );
    await expect(trainModel(src(), { algorithm: 'nope' as 'seed' })).rejects.toBeInstanceOf(InputError);
  });
});
