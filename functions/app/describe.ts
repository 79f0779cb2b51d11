import type { MovieInfo } from '../ports';

/** A movie as the API shows it: its id, and its title and genres when the catalogue has them. */
export function describeMovie(movies: Map<number, MovieInfo>, movieId: number): { movieId: number; title?: string; genres?: string[] } {
  const m = movies.get(movieId);
  return m ? { movieId, title: m.title, genres: m.genres } : { movieId };
}
