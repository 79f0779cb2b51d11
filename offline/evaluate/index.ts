// Offline evaluation, protocol v1 (the header of ../shared/eval/quality.py): split, metrics,
// recommendation-list files and the reference recommenders.
export * from '../../functions/core/evaluate/protocol';
export * from '../../functions/core/evaluate/split';
export * from './splitIo';
export * from '../../functions/core/evaluate/score';
export * from './recsCsv';
export * from '../../functions/core/evaluate/popular';
export * from './item-knn';
export * from './table';
export * from './load';
export * from './seed-pipeline';
export * from './run';
export * from './default-model';
export * from './ease';
export * from './spd-inverse';
