// Measures the serverless runtime on dynalite: write requests and seconds to publish a model, and DynamoDB
// reads per recommendation through the API handler (warm Lambda).
//   node bin/run-ts.js test/support/measure-runtime.ts [--algorithm seed|taste|both] [ratings.csv|gen:USERS:MOVIES:RATINGS ...]
// Requests are counted by a middleware on the DynamoDB client (every request sent, retries included).
import { PassThrough } from 'node:stream';
import { trainModel } from '../../functions/core/train';
import { generateRatings } from '../../offline/generate';
import { makeDocClient } from '../../functions/adapters/aws';
import { DynamoModelStore } from '../../functions/adapters/dynamo/store';
import { makeHandler } from '../../functions/handlers/api';
import { createTables, startStack } from './emulators';
import { apiEvent, lambdaContext, quietMetrics, silentLogger } from '../unit/handlers-fakes';
import { publishModel } from '../../functions/app/publish';
import { idempotencyLayer } from './idempotency';
import { modelOf } from './model-fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

async function source(spec: string): Promise<NodeJS.ReadableStream | string> {
  if (!spec.startsWith('gen:')) return spec;
  const [users, movies, ratings] = spec.slice(4).split(':').map(Number);
  const out = new PassThrough();
  void generateRatings({ users, movies, ratings, seed: 1 }, out).then(() => out.end());
  return out;
}

const READS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand']);

async function main() {
  const args = process.argv.slice(2);
  const at = args.indexOf('--algorithm');
  const which = at >= 0 ? args.splice(at, 2)[1] : 'both';
  const algorithms = which === 'both' ? (['seed', 'taste'] as const) : ([which] as Array<'seed' | 'taste'>);
  const specs = args;
  if (specs.length === 0) specs.push('/work/shared/datasets/ml-latest-small/ratings.csv');
  const stack = await startStack('measure');
  const sent: Record<string, number> = {};
  stack.dynamo.middlewareStack.add(
    (next, context) => async (a) => {
      const name = context.commandName ?? '?';
      sent[name] = (sent[name] ?? 0) + 1;
      return next(a);
    },
    { step: 'initialize', name: 'measureRequests' },
  );
  const reads = () => Object.entries(sent).reduce((s, [k, v]) => s + (READS.has(k) ? v : 0), 0);
  try {
    let i = 0;
    for (const spec of specs) for (const algorithm of algorithms) {
      const tables = await createTables(stack.dynamo, `m${++i}`);
      const doc = makeDocClient(stack.dynamo);
      const t0 = Date.now();
      // seed: the seed's k=15 with one restart (publish cost is what is measured); taste: the default settings
      const overrides = algorithm === 'seed' ? { algorithm, k: 15, nInit: 1 } : { algorithm };
      const { snapshot } = await trainModel(await source(spec), overrides, { sourceName: spec });
      const trainSeconds = (Date.now() - t0) / 1000;
      for (const k of Object.keys(sent)) delete sent[k];
      const store = new DynamoModelStore({ doc, usersTable: tables.users, clustersTable: tables.clusters });
      const pub = await publishModel(store, modelOf(snapshot), 'v1', { bucket: 'b', key: spec }, { sourceOrder: '1' });
      const s = pub.stats!;
      console.log(
        `${spec} [${algorithm}]: ${snapshot.users.ids.length} users, ${snapshot.users.movies.length} interactions, ` +
          `${snapshot.clusters.length} clusters; train ${trainSeconds.toFixed(1)} s`,
      );
      console.log(
        `  publish: ${s.items} items, ${s.batchRequests} BatchWriteItem requests (+${store.calls.PutCommand ?? 0} Put, ` +
          `${store.calls.UpdateCommand ?? 0} Update, ${store.reads} reads), ${s.retriedItems} retried, ${s.seconds.toFixed(2)} s`,
      );
      console.log(`  publish requests seen by the client: ${JSON.stringify(sent)}`);

      // reads per recommendation on a warm Lambda: warm the caches with one request per cluster, then count
      const reader = new DynamoModelStore({ doc, usersTable: tables.users, clustersTable: tables.clusters });
      const served = makeHandler({
        store: reader,
        idempotency: idempotencyLayer(tables.idempotency, stack.dynamo),
        logger: silentLogger(),
        metrics: quietMetrics(),
      });
      const ids = snapshot.users.ids;
      // warm every cluster's cached base list (a taste user touches up to 10 of ~160 clusters)
      for (let c = 0; c < ids.length; c += Math.max(1, Math.floor(ids.length / 2000))) {
        await served(apiEvent('GET', `/users/${ids[c]}/recommendations`), lambdaContext);
      }
      await served(apiEvent('GET', `/users/999999999/recommendations`), lambdaContext);
      const before = reader.reads;
      const clientBefore = reads();
      const N = 300;
      const tr = Date.now();
      for (let k = 0; k < N; k++) {
        const u = k % 10 === 9 ? 999999999 : ids[(k * 7919) % ids.length];
        const res = await served(apiEvent('GET', `/users/${u}/recommendations`), lambdaContext);
        if (res.statusCode !== 200) throw new Error(`GET failed: ${res.body}`);
      }
      const ms = (Date.now() - tr) / N;
      const perRec = (reader.reads - before) / N;
      const perRecClient = (reads() - clientBefore) / N;
      console.log(
        `  reads per recommendation (warm, pointer cached 5 s, 10% unknown users): ${perRec.toFixed(2)} (store count), ` +
          `${perRecClient.toFixed(2)} (client middleware) over ${N} GETs, ${ms.toFixed(1)} ms each on dynalite`,
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
