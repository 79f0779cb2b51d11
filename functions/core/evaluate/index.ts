// Offline evaluation, protocol v1 (the header of ../shared/eval/quality.py): split, metrics,
// recommendation-list files and the reference recommenders.
export * from './protocol';
export * from './split';
export * from './splitIo';
export * from './score';
export * from './recsCsv';
export * from './baselines';
export * from './table';
export * from './load';
export * from './seed';
export * from './run';
export * from './default-model';
