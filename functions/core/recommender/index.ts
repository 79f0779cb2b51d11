// The recommender: seed algorithm or the default model (taste + cluster-local EASE), one servable document,
// one scoring function, and the hold-out gate training applies before publishing. See EVALUATION.md.
export * from './params';
export * from './features';
export * from './taste';
export * from './personal';
export * from './local-ease';
export * from './cl-ease';
export * from './serve';
export * from './batch';
export * from './holdout';
export * from './clusterings';
export * from './select';
export * from './train';
export * from './check';
