// Use case: movies like this one (GET /movies/{id}/similar). The active version stores each listed movie's
// similar movies (core similarIndex, computed by the publish), so a request is one GetItem; titles come from
// the cached catalogue.
import type { SimilarMoviesT } from '../api/schemas';
import type { Catalogue, ModelVersions, SimilarStore } from '../ports';
import { activeOrThrow } from './active';
import { describeMovie } from './describe';
import { UnknownMovieError } from './errors';

type SimilarUseCaseStore = Pick<ModelVersions, 'activeVersion' | 'versionMeta'> & SimilarStore & Pick<Catalogue, 'getMovies'>;

export async function similarMovies(store: SimilarUseCaseStore, movieId: number, n: number): Promise<SimilarMoviesT> {
  const { version } = await activeOrThrow(store);
  const [similar, movies] = await Promise.all([store.getSimilar(version, movieId), store.getMovies()]);
  if (!similar) {
    // only a miss pays for the metadata (cached once published): say why there is nothing
    const meta = await store.versionMeta(version);
    throw new UnknownMovieError(
      movieId,
      meta && !meta.similar
        ? `has no similar movies: the active model (${version}) was published before similar movies were computed; upload the ratings again to retrain it.`
        : `is not among the movies the active model's clusters rank (${version}), so it has no similar movies.`,
    );
  }
  return {
    ...describeMovie(movies, movieId),
    modelVersion: version,
    items: similar.slice(0, n).map(({ movieId: m, score }) => ({ ...describeMovie(movies, m), score })),
  };
}
