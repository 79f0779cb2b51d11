// movierec similar: a movie's most similar movies from a model file — the same core scorer the publish uses
// for GET /movies/{id}/similar, so the two answer alike for the same model.
import { readMovies } from '../../functions/core/movies';
import { fromSnapshot } from '../../functions/core/snapshot';
import { similarMovies, SIMILAR_MAX } from '../../functions/core/similar';
import { InputError } from '../../functions/core/types';
import { assertReadable, intOpt, parse, readJsonFile, requireOpt } from './util';

export const SIMILAR_SUMMARY = 'movies most like a given movie ("more like this"), from a model';
export const SIMILAR_HELP = `movierec similar --model model.json --movie ID [--n 10] [--movies movies.csv]
  The movies most similar to ID, best first: the cosine of the two movies' audiences estimated from the model's
  clusters (what GET /movies/{id}/similar answers for the same model). --n is 1..${SIMILAR_MAX};
  --movies adds titles and genres from a MovieLens movies.csv.`;

export async function similarCommand(argv: string[]): Promise<void> {
  const a = parse('similar', argv, {
    model: { type: 'string' },
    movie: { type: 'string' },
    n: { type: 'string' },
    movies: { type: 'string' },
  });
  const path = requireOpt(a.model, '--model model.json', 'similar');
  const movieId = intOpt(requireOpt(a.movie, '--movie ID', 'similar'), '--movie', 0, 0);
  const n = intOpt(a.n, '--n', 10, 1, SIMILAR_MAX);
  const { model } = fromSnapshot(await readJsonFile(path, 'model file'), path);
  let catalogue: Map<number, { title: string; genres: string[] }> | undefined;
  if (a.movies) {
    await assertReadable(a.movies, 'movies file');
    catalogue = await readMovies(a.movies);
  }
  const items = similarMovies(model, movieId, n);
  if (!items) throw new InputError('unknown_movie', `Movie ${movieId} is not among the movies the clusters of ${path} rank, so it has no similar movies.`);
  const describe = (id: number) => {
    const m = catalogue?.get(id);
    return m ? { movieId: id, title: m.title, genres: m.genres } : { movieId: id };
  };
  console.log(JSON.stringify({ ...describe(movieId), items: items.map((it) => ({ ...describe(it.movieId), score: it.score })) }, null, 2));
}
