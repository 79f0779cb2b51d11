// The recommender: seed algorithm or taste model, one servable document, one serving function, and
// the hold-out gate training applies before publishing. See EVALUATION.md at the repository root.
export * from './params';
export * from './features';
export * from './taste';
export * from './serve';
export * from './batch';
export * from './holdout';
export * from './clusterings';
export * from './select';
export * from './train';
export * from './check';
