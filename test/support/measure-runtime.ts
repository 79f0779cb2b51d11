// Measures the serverless runtime on dynalite: write requests and seconds to publish a model, and DynamoDB
// reads per recommendation through the API handler (warm Lambda).
//   node bin/run-ts.js test/support/measure-runtime.ts [ratings.csv|gen:USERS:MOVIES:RATINGS ...]
import { PassThrough } from 'node:stream';
import { trainModel } from '../../functions/core/train';
import { generateRatings } from '../../functions/core/generate';
import { makeDocClient } from '../../functions/adapters/aws';
import { DynamoIdempotencyStore, DynamoModelStore } from '../../functions/adapters/dynamo-model-store';
import { makeHandler } from '../../functions/handlers/api';
import { createTables, startStack } from './emulators';
import { apiEvent, lambdaContext, quietMetrics, silentLogger } from '../unit/handlers-fakes';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

async function source(spec: string): Promise<NodeJS.ReadableStream | string> {
  if (!spec.startsWith('gen:')) return spec;
  const [users, movies, ratings] = spec.slice(4).split(':').map(Number);
  const out = new PassThrough();
  void generateRatings({ users, movies, ratings, seed: 1 }, out).then(() => out.end());
  return out;
}

async function main() {
  const specs = process.argv.slice(2);
  if (specs.length === 0) specs.push('/work/shared/datasets/ml-latest-small/ratings.csv');
  const stack = await startStack('measure');
  try {
    let i = 0;
    for (const spec of specs) {
      const tables = await createTables(stack.dynamo, `m${++i}`);
      const doc = makeDocClient(stack.dynamo);
      const t0 = Date.now();
      const { snapshot } = await trainModel(await source(spec), { k: 15, nInit: 1 }, { sourceName: spec });
      const trainSeconds = (Date.now() - t0) / 1000;
      const store = new DynamoModelStore({ doc, usersTable: tables.users, clustersTable: tables.clusters });
      const pub = await store.publishVersion(snapshot, 'v1', { bucket: 'b', key: spec }, { sourceOrder: '1' });
      const s = pub.stats!;
      console.log(
        `${spec}: ${snapshot.users.ids.length} users, ${snapshot.users.movies.length} interactions, ` +
          `${snapshot.clusters.length} clusters; train ${trainSeconds.toFixed(1)} s (nInit 1)`,
      );
      console.log(
        `  publish: ${s.items} items, ${s.batchRequests} BatchWriteItem requests (+${store.calls.PutCommand ?? 0} Put, ` +
          `${store.calls.UpdateCommand ?? 0} Update, ${store.reads} reads), ${s.retriedItems} retried, ${s.seconds.toFixed(2)} s`,
      );

      // reads per recommendation on a warm Lambda: warm the caches with one request per cluster, then count
      const reader = new DynamoModelStore({ doc, usersTable: tables.users, clustersTable: tables.clusters });
      const served = makeHandler({
        store: reader,
        idempotency: new DynamoIdempotencyStore({ doc, table: tables.users }),
        logger: silentLogger(),
        metrics: quietMetrics(),
      });
      const ids = snapshot.users.ids;
      for (let c = 0; c < ids.length; c += Math.max(1, Math.floor(ids.length / 200))) {
        await served(apiEvent('GET', `/users/${ids[c]}/recommendations`), lambdaContext);
      }
      await served(apiEvent('GET', `/users/999999999/recommendations`), lambdaContext);
      const before = reader.reads;
      const N = 300;
      const tr = Date.now();
      for (let k = 0; k < N; k++) {
        const u = k % 10 === 9 ? 999999999 : ids[(k * 7919) % ids.length];
        const res = await served(apiEvent('GET', `/users/${u}/recommendations`), lambdaContext);
        if (res.statusCode !== 200) throw new Error(`GET failed: ${res.body}`);
      }
      const perRec = (reader.reads - before) / N;
      console.log(
        `  reads per recommendation (warm, pointer cached 5 s, 10% unknown users): ${perRec.toFixed(2)} over ${N} GETs, ` +
          `${((Date.now() - tr) / N).toFixed(1)} ms each on dynalite`,
      );
    }
  } finally {
    await stack.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
