// What a use case can refuse, as plain errors with a stable code; functions/api/errors.ts alone decides the
// HTTP status of each.

/** No model version has been published yet. */
export class NoModelError extends Error {
  readonly code = 'no_model';
  constructor() {
    super('No model has been published yet; upload a ratings file to uploads/ and retry.');
    this.name = 'NoModelError';
  }
}

/** A user added more favourites to one version than the user item's bound allows. */
export class FavouriteLimitError extends Error {
  readonly code = 'favourite_limit';
  constructor(limit: number) {
    super(`A user can add at most ${limit} favourites until the next model version; retrain to fold them in.`);
    this.name = 'FavouriteLimitError';
  }
}

/** A movie the active model holds no similar-movies list for. */
export class UnknownMovieError extends Error {
  readonly code = 'unknown_movie';
  constructor(movieId: number, why: string) {
    super(`Movie ${movieId} ${why}`);
    this.name = 'UnknownMovieError';
  }
}
