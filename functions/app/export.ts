// Use case: after a version went live, write every known user's top-N to the bucket as
// exports/<version>/recommendations.csv.gz (userId,rank,movieId,score — the rows `movierec recommend --all`
// writes, from the same core generator), streamed so memory does not grow with the user count. Its state is
// recorded in the version's metadata, where GET /models/active shows it to consumers.
//
// It runs after the flip, so it never delays it, and it never throws: a failed export is recorded (state
// `failed` with the reason), logged and counted by the caller, and the published model stays live.
import { recommendationRows } from '../core/export-rows';
import type { ClusterModel } from '../core/model';
import type { ExportInfo, ExportStore, ModelVersions } from '../ports';
import { S3_PREFIXES } from '../shared/resources';

export const exportKey = (version: string) => `${S3_PREFIXES.exports}${version}/recommendations.csv.gz`;

export interface ExportDeps {
  exports: ExportStore;
  store: Pick<ModelVersions, 'recordExport'>;
  now?: () => number;
}

export async function exportRecommendations(deps: ExportDeps, model: ClusterModel, version: string, topN: number): Promise<ExportInfo> {
  const now = deps.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const base = { bucket: deps.exports.bucket, key: exportKey(version), topN, startedAt: iso() };
  let users = 0;
  let rows = 0;
  try {
    await deps.store.recordExport(version, { state: 'writing', ...base });
    const chunks = recommendationRows(model, {
      n: topN,
      onProgress: (u, r) => {
        users = u;
        rows = r;
      },
    });
    const { bytes } = await deps.exports.putGzipText(base.key, chunks, 'application/gzip');
    const info: ExportInfo = { state: 'written', ...base, finishedAt: iso(), users, rows, bytes };
    await deps.store.recordExport(version, info);
    return info;
  } catch (e) {
    const message = `The export stopped after ${users} users: ${(e as Error)?.message ?? String(e)}`;
    const info: ExportInfo = { state: 'failed', ...base, finishedAt: iso(), users, rows, message };
    await deps.store.recordExport(version, info).catch(() => undefined);
    return info;
  }
}

/** Delete the exports of versions a publish deleted (their objects' keys); failures are the caller's to log. */
export async function deleteExports(exports: ExportStore, versions: string[]): Promise<void> {
  if (versions.length) await exports.deleteObjects(versions.map(exportKey));
}
