// Least privilege of the API function, by partition key (issue 14, item 6): the synthesized policy is
// evaluated against keys built with the table layout itself (functions/adapters/dynamo-layout.ts). The API may
// write favourites, users it creates, idempotency records, counters and its manifest entries — never the model
// pointer, version metadata, list pages, the catalogue or the training lease. A drift test proves the guard
// catches a write grant without the key condition.
import { keys } from '../../functions/adapters/dynamo-layout';
import { API_WRITE_KEYS } from '../../lib/api';
import type { MovierecStack } from '../../lib/stack';
import { allows, stringLike, unrestrictedTableWrites } from './guards';
import { build, cleanup, templateOf } from './helpers';

afterAll(cleanup);

const V = '3f2a9c1d0b7e4a55';
/** Items the API writes in normal operation: [table, partition key, what]. */
const API_WRITES: Array<['users' | 'clusters', string, string]> = [
  ['users', keys.fav(42, 318).pk, 'favourite record'],
  ['users', keys.userPk(V, 42), 'user item (new user, ADD f)'],
  ['users', keys.idem('b1946ac9-2f1e-4e55-9d3c-1f3a0c2d9e11').pk, 'idempotency record'],
  ['clusters', keys.deltaPk(V, 7), 'cluster counter'],
  ['clusters', keys.deltaPk(V, 'pop'), 'popular counter'],
  ['clusters', keys.manifestPk(V), 'manifest (new#<user>)'],
];
/** Items only training may write. */
const TRAINING_ONLY: Array<['users' | 'clusters', string, string]> = [
  ['clusters', keys.pointer().pk, 'active model pointer'],
  ['clusters', keys.meta(V).pk, 'version metadata'],
  ['clusters', keys.clusterPk(V, 7), 'cluster list page'],
  ['clusters', keys.popularPk(V), 'popular list page'],
  ['clusters', keys.moviesPointer().pk, 'movie catalogue pointer'],
  ['clusters', keys.moviesPk('abc'), 'movie catalogue page'],
  ['clusters', 'lease', 'training lease (pk lease, sk training)'],
  ['users', keys.pointer().pk, 'a model item in the wrong table'],
];

function setup(stage: string, mutate?: (s: MovierecStack) => void) {
  const built = build(stage, { nag: false });
  mutate?.(built.stack);
  const s = built.stack;
  const tpl = templateOf(built);
  const id = (c: { node: { defaultChild?: unknown } }) => s.getLogicalId(c.node.defaultChild as never);
  return { tpl, role: id(s.api.function.role), trainRole: id(s.training.function.role), table: { users: id(s.tables.users), clusters: id(s.tables.clusters) } };
}

describe.each(['dev', 'prod'])('%s', (stage) => {
  const ctx = setup(stage);

  test.each(API_WRITES)('API may Put/Update in %s: %s (%s)', (table, pk) => {
    for (const action of ['dynamodb:PutItem', 'dynamodb:UpdateItem']) {
      expect(allows(ctx.tpl, ctx.role, action, ctx.table[table], pk)).toBe(true);
    }
  });

  test.each(TRAINING_ONLY)('API may NOT Put/Update/Delete in %s: %s (%s), but may read it', (table, pk) => {
    for (const action of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) {
      expect(allows(ctx.tpl, ctx.role, action, ctx.table[table], pk)).toBe(false);
    }
    expect(allows(ctx.tpl, ctx.role, 'dynamodb:GetItem', ctx.table[table], pk)).toBe(true);
    // and training still may (it publishes them)
    expect(allows(ctx.tpl, ctx.trainRole, 'dynamodb:PutItem', ctx.table[table], pk)).toBe(true);
  });

  test('API deletes only its idempotency records', () => {
    expect(allows(ctx.tpl, ctx.role, 'dynamodb:DeleteItem', ctx.table.users, keys.idem('k').pk)).toBe(true);
    for (const [table, pk] of [...API_WRITES.filter(([, pk]) => !pk.startsWith('idem')), ...TRAINING_ONLY]) {
      expect(allows(ctx.tpl, ctx.role, 'dynamodb:DeleteItem', ctx.table[table], pk)).toBe(false);
    }
  });

  test('no write grant of the API role lacks a partition-key condition', () => {
    expect(unrestrictedTableWrites(ctx.tpl, ctx.role)).toEqual([]);
  });
});

test('the key patterns are derived from the layout, and no pattern of one table matches a training-only key', () => {
  expect(API_WRITE_KEYS).toEqual({ users: ['fav#*', 'v#*#u#*', 'idem#*'], clusters: ['v#*#d#*', 'v#*#manifest'] });
  for (const [table, pk] of TRAINING_ONLY) {
    expect(API_WRITE_KEYS[table].filter((p) => stringLike(p, pk))).toEqual([]);
  }
});

test('drift: a table-wide write grant added to the API role is caught, and then the pointer is writable', () => {
  const ctx = setup('prod', (s) => s.tables.clusters.grantWriteData(s.api.function.role));
  expect(unrestrictedTableWrites(ctx.tpl, ctx.role)).toEqual([expect.stringMatching(/dynamodb:PutItem.* on any partition key/)]);
  expect(allows(ctx.tpl, ctx.role, 'dynamodb:PutItem', ctx.table.clusters, keys.pointer().pk)).toBe(true);
});
