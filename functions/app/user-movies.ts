// Use case: a user's movies in the active version (GET /users/{id}/movies) — the seed's getMyMovies: the
// movies the version was trained with plus the favourites added since, with titles when a catalogue exists.
import type { UserMoviesT } from '../api/schemas';
import type { Catalogue, ModelVersions, UserStore } from '../ports';
import { activeOrThrow } from './active';
import { describeMovie } from './describe';

export async function userMovies(
  store: Pick<ModelVersions, 'activeVersion'> & Pick<UserStore, 'getUser'> & Catalogue,
  userId: number,
): Promise<UserMoviesT> {
  const { version } = await activeOrThrow(store);
  const [user, movies] = await Promise.all([store.getUser(version, userId), store.getMovies()]);
  const ids = user ? [...new Set([...user.movies, ...user.favourites])].sort((a, b) => a - b) : [];
  return { userId, modelVersion: version, count: ids.length, movies: ids.map((m) => describeMovie(movies, m)) };
}
