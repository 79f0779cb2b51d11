// Checks the default model's scorer (functions/core/recommender/personal.ts scoreUser) against a dump of
// the Python reference (research recipe.py / crosscheck.py format): clusters' lists, counts, float32 B,
// users' movies in watch order, their mixes and the reference's expected top 10. Every user's top 10 must
// be identical (ids and order). The dump of ml-latest-small is not shipped (MovieLens' licence); see
// EVALUATION.md for the run on it. test/unit/cl-ease-reference.test.ts runs the same check on a shipped
// dump of a generated set.
//
//   node bin/run-ts.js tools/research/cl-ease-dump-check.ts DUMP.json [B.f32]
import { readFileSync } from 'node:fs';
import { checkDump } from '../cl-ease-reference-lib';

const [json, bin] = process.argv.slice(2);
if (!json) {
  console.error('usage: cl-ease-dump-check.ts DUMP.json [B.f32 (default: DUMP with _B.f32)]');
  process.exit(2);
}
const r = checkDump(JSON.parse(readFileSync(json, 'utf8')), readFileSync(bin ?? json.replace(/\.json$/, '_B.f32')));
for (const u of r.users) console.log(`user ${u.userId}: ${u.same ? 'same' : 'DIFFERENT'} ${JSON.stringify(u.got)}${u.same ? '' : ` expected ${JSON.stringify(u.expected)}`}`);
console.log(`${r.users.filter((u) => u.same).length}/${r.users.length} users with the reference's exact top 10`);
process.exit(r.users.every((u) => u.same) ? 0 : 1);
