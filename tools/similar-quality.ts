// How close the similar movies a model stores (core/similar.ts, estimated from its cluster lists) come to the
// exact item-kNN answer on the ratings themselves: for the 300 most popular movies, the share of each one's
// exact top 10 by binary cosine (|A∩B| / √(|A|·|B|) over the users who have each movie) that the model's top 10
// also holds (recall@10). Models are `movierec train` files of the same ratings.
//
//   node bin/run-ts.js tools/similar-quality.ts --ratings ratings.csv model.json [more models…]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fromSnapshot } from '../functions/core/snapshot';
import { SimilarScorer } from '../functions/core/similar';
import { readRatings } from '../functions/core/ratings';

const PROBES = 300;
const K = 10;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { ratings: { type: 'string' } }, allowPositionals: true });
  if (!values.ratings || positionals.length === 0) throw new Error('usage: tools/similar-quality.ts --ratings FILE model.json [...]');
  const { interactions } = await readRatings(values.ratings, { sourceName: values.ratings });
  const byMovie = new Map<number, Set<number>>();
  for (let i = 0; i < interactions.length; i++) {
    const m = interactions.movieIds[interactions.movies[i]];
    if (!byMovie.has(m)) byMovie.set(m, new Set());
    byMovie.get(m)!.add(interactions.userIds[interactions.users[i]]);
  }
  const byUser = new Map<number, number[]>();
  for (const [m, users] of byMovie) for (const u of users) (byUser.get(u) ?? byUser.set(u, []).get(u)!).push(m);
  const probes = [...byMovie.keys()].sort((a, b) => byMovie.get(b)!.size - byMovie.get(a)!.size || a - b).slice(0, PROBES);
  const exact = new Map<number, Set<number>>();
  for (const i of probes) {
    const both = new Map<number, number>();
    for (const u of byMovie.get(i)!) for (const j of byUser.get(u)!) if (j !== i) both.set(j, (both.get(j) ?? 0) + 1);
    const pi = byMovie.get(i)!.size;
    const ranked = [...both].map(([j, c]) => ({ j, s: c / Math.sqrt(pi * byMovie.get(j)!.size) })).sort((a, b) => b.s - a.s || a.j - b.j);
    exact.set(i, new Set(ranked.slice(0, K).map((x) => x.j)));
  }
  // reference: every movie's "similar" movies are simply the most popular others
  let popHits = 0;
  for (const i of probes) for (const j of probes.filter((x) => x !== i).slice(0, K)) if (exact.get(i)!.has(j)) popHits++;
  console.log(`most popular movies (the same list for every movie): recall@${K} ${(popHits / (PROBES * K)).toFixed(3)}`);
  for (const file of positionals) {
    const { model, snapshot } = fromSnapshot(JSON.parse(readFileSync(file, 'utf8')), file);
    const scorer = new SimilarScorer(model.clusters);
    let hits = 0;
    let answered = 0;
    for (const i of probes) {
      const got = scorer.similar(i, K);
      if (!got) continue;
      answered++;
      for (const g of got) if (exact.get(i)!.has(g.movieId)) hits++;
    }
    const algorithm = snapshot.params.algorithm ?? 'seed';
    console.log(`${file}: ${algorithm}, ${model.clusters.length} clusters — recall@${K} vs exact item cosine over the ${PROBES} most popular movies: ${(hits / (PROBES * K)).toFixed(3)} (${answered} of them have similar movies)`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
