// Steps ParseRange (worker), BuildIndex (central) and BuildShard (worker): the upload read in parallel byte
// ranges by the single-function reader, its rows shuffled so each partition holds whole users, the data
// report and the movie index reduced once.
import { PassThrough, Transform } from 'node:stream';
import { assertUsable, readRatings } from '../../core/ratings';
import { bucketRows, distinctMovies, mergeReports, type Bucket, type RangeReport, unionSorted } from '../../core/distributed/fragments';
import { buildShard, columnStats, unitValues, type ColumnStats } from '../../core/distributed/shards';
import type { Features } from '../../core/distributed/kmeans';
import type { CsrMatrix } from '../../core/types';
import type { SectionArray } from '../../core/distributed/binary';
import type { RunStore } from '../../ports/training-run';
import { type DistributedDeps, setStatus } from './deps';
import { getContainer, putContainer, putJson, readSections, runKeys } from './run-files';
import { type CentralEvent, loadRun, saveRun, type WorkerEvent } from './state';

interface FragmentMeta {
  report: RangeReport;
  partitions: number;
  timesFinite: boolean;
}

/** ParseRange: one byte range of the upload, parsed after the file's header line, bucketed by partition. */
export async function parseRange(event: WorkerEvent, deps: DistributedDeps): Promise<void> {
  const run = await loadRun(deps.runs, event.version);
  const range = run.plan.ranges[event.item];
  const body = await deps.upload.stream(run.source, range.start, range.end);
  let newlines = 0;
  const counting = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) newlines++;
      cb(null, chunk);
    },
  });
  const input = new PassThrough();
  const header = run.plan.header;
  if (header) input.write(`${header}\n`);
  body.on('error', (e) => input.destroy(e));
  body.pipe(counting).pipe(input);
  const { interactions, report } = await readRatings(input, {
    format: run.plan.format,
    sourceName: run.sourceName,
    withTimestamps: run.plan.withTimes,
    checks: false,
    // the range and its header: nothing else can arrive
    maxBytes: range.end - range.start + header.length + 1,
  });
  const buckets = bucketRows(interactions, run.plan.bounds, run.plan.withTimes);
  const ts = interactions.timestamps;
  let timesFinite = true;
  if (ts) for (let i = 0; i < interactions.length && timesFinite; i++) timesFinite = Number.isFinite(ts[i]);
  const meta: FragmentMeta = {
    report: {
      rowsRead: report.rowsRead,
      rowsAccepted: report.rowsAccepted,
      rowsRejected: report.rowsRejected,
      rejectedByReason: report.rejectedByReason,
      examples: report.examples,
      newlines,
      linesBefore: header ? 1 : 0,
    },
    partitions: buckets.length,
    timesFinite,
  };
  const sections: Record<string, SectionArray> = { movies: distinctMovies(interactions) };
  buckets.forEach((b, q) => {
    sections[`u${q}`] = b.users;
    sections[`m${q}`] = b.movies;
    if (b.times) sections[`t${q}`] = b.times;
  });
  await putContainer(deps.runs, runKeys.fragment(event.version, event.item), meta, sections);
}

/** BuildIndex: the whole file's data report (refusing it as the reader would) and the movie index. */
export async function buildIndex(event: CentralEvent, deps: DistributedDeps): Promise<Record<string, never>> {
  const run = await loadRun(deps.runs, event.version);
  await setStatus(deps, run.version, { phase: 'indexing' });
  const parts = await Promise.all(
    run.plan.ranges.map((_, r) => readSections<FragmentMeta>(deps.runs, runKeys.fragment(run.version, r), ['movies'])),
  );
  const report = mergeReports(
    parts.map((p) => p.meta.report),
    { format: run.plan.format, bytes: run.plan.bytes, headerLines: run.plan.headerLines },
  );
  run.report = report;
  await putJson(deps.runs, runKeys.report(run.version), report);
  assertUsable(report, run.sourceName, run.options.maxRejectedShare);
  const movies = unionSorted(parts.map((p) => p.sections.movies as Float64Array));
  await putContainer(deps.runs, runKeys.movies(run.version), { d: movies.length }, { ids: movies });
  run.index = { d: movies.length };
  // one row without a timestamp and the single path's cellTimes gives none: recency is off for everyone
  if (parts.some((p) => !p.meta.timesFinite)) run.plan.withTimes = false;
  await saveRun(deps.runs, run);
  await setStatus(deps, run.version, { phase: 'sharding' });
  return {};
}

interface ShardMeta {
  nRows: number;
  nnz: number;
  duplicates: number;
  timesFinite: boolean;
}

/** BuildShard: partition q's buckets of every range → its matrix rows (global columns). */
export async function buildShardStep(event: WorkerEvent, deps: DistributedDeps): Promise<void> {
  const run = await loadRun(deps.runs, event.version);
  const q = event.item;
  const movies = (await getContainer(deps.runs, runKeys.movies(run.version))).f64('ids');
  const buckets: Bucket[] = [];
  for (let r = 0; r < run.plan.ranges.length; r++) {
    const { sections } = await readSections(deps.runs, runKeys.fragment(run.version, r), [`u${q}`, `m${q}`, `t${q}?`]);
    buckets.push({ users: sections[`u${q}`] as Float64Array, movies: sections[`m${q}`] as Float64Array, times: (sections[`t${q}`] as Float64Array) ?? null });
  }
  const shard = buildShard(buckets, movies, run.plan.withTimes);
  const stats = columnStats(shard.matrix);
  const m = shard.matrix;
  const meta: ShardMeta = { nRows: m.nRows, nnz: m.indptr[m.nRows], duplicates: shard.duplicates, timesFinite: shard.timesFinite };
  const sections: Record<string, SectionArray> = { rowIds: m.rowIds, indptr: m.indptr, indices: m.indices };
  if (shard.times) sections.times = shard.times;
  Object.assign(sections, { colIdx: stats.cols, colCount: stats.counts, colUnitSum: stats.unitSum, colUnitSq: stats.unitSq });
  await putContainer(deps.runs, runKeys.shard(run.version, q), meta, sections);
}

/** The shards' sizes (rows, non-zeros) and their column statistics, in partition order. */
export async function shardSummaries(runs: RunStore, version: string, partitions: number): Promise<Array<{ meta: ShardMeta; stats: ColumnStats }>> {
  return Promise.all(
    Array.from({ length: partitions }, async (_, q) => {
      const { meta, sections } = await readSections<ShardMeta>(runs, runKeys.shard(version, q), ['colIdx', 'colCount', 'colUnitSum', 'colUnitSq']);
      return {
        meta,
        stats: {
          cols: sections.colIdx as Int32Array,
          counts: sections.colCount as Int32Array,
          unitSum: sections.colUnitSum as Float64Array,
          unitSq: sections.colUnitSq as Float64Array,
        },
      };
    }),
  );
}

export interface LoadedShard {
  /** the partition's rows with the clustering's features (values null: binary) */
  x: CsrMatrix;
  /** the binary rows (movie columns), for counts and publishing */
  binary: CsrMatrix;
  times: Float64Array | null;
}

/** A partition's rows, with unit values when the clustering runs on unit rows. */
export async function loadShard(runs: RunStore, version: string, q: number, d: number, features: Features, opts: { times?: boolean } = {}): Promise<LoadedShard> {
  const names = ['rowIds', 'indptr', 'indices', ...(opts.times ? ['times?'] : [])];
  const { meta, sections } = await readSections<ShardMeta>(runs, runKeys.shard(version, q), names);
  const binary: CsrMatrix = {
    nRows: meta.nRows,
    nCols: d,
    indptr: sections.indptr as Int32Array,
    indices: sections.indices as Int32Array,
    values: null,
    rowIds: sections.rowIds as Float64Array,
    colIds: new Float64Array(0),
  };
  const x = features === 'unit' ? { ...binary, values: unitValues(binary) } : binary;
  return { x, binary, times: (sections.times as Float64Array) ?? null };
}
