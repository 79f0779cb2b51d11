// Where a distributed training keeps its intermediate data (S3 `runs/<version>/…`, expired by a lifecycle
// rule) and how it reads and writes it: JSON documents and binary containers, whose sections can be read
// alone (a header read, then one ranged read).
import { Container, decodeHeader, encode, headerLength, sectionRange, viewSection, type ContainerHeader, type SectionArray } from '../../core/distributed/binary';
import type { RunStore } from '../../ports/training-run';
import { S3_PREFIXES_DISTRIBUTED } from '../../shared/resources';

const root = (v: string) => `${S3_PREFIXES_DISTRIBUTED.runs}${v}/`;
const pad = (n: number) => String(n).padStart(4, '0');

/** Every key of a run. Outputs are keyed by (job, restart, round or iteration, partition), so a retried
 * worker overwrites only its own output. */
export const runKeys = {
  state: (v: string) => `${root(v)}run.json`,
  fragment: (v: string, r: number) => `${root(v)}frag/${pad(r)}.bin`,
  movies: (v: string) => `${root(v)}index/movies.bin`,
  shard: (v: string, p: number) => `${root(v)}shard/${pad(p)}.bin`,
  job: (v: string, j: number) => `${root(v)}job/${j}/state.json`,
  candidates: (v: string, j: number, r: number, round: number) => `${root(v)}job/${j}/r${r}/seed/${round}/candidates.bin`,
  trial: (v: string, j: number, r: number, round: number, p: number) => `${root(v)}job/${j}/r${r}/seed/${round}/trial/${pad(p)}.bin`,
  /** centres of iteration t (0: the seeding's), one object per column range */
  centres: (v: string, j: number, r: number, t: number, range: number) => `${root(v)}job/${j}/r${r}/iter/${t}/centres/${range}.bin`,
  centreNorms: (v: string, j: number, r: number, t: number) => `${root(v)}job/${j}/r${r}/iter/${t}/centres.json`,
  assign: (v: string, j: number, r: number, t: number, p: number) => `${root(v)}job/${j}/r${r}/iter/${t}/assign/${pad(p)}.bin`,
  relocations: (v: string, j: number, r: number, t: number) => `${root(v)}job/${j}/r${r}/iter/${t}/relocations.json`,
  counts: (v: string, j: number, p: number) => `${root(v)}post/${j}/${pad(p)}.bin`,
  clustering: (v: string, j: number) => `${root(v)}post/${j}/fixed.bin`,
  model: (v: string) => `${root(v)}model/clusters.json`,
  mix: (v: string, p: number) => `${root(v)}model/mix/${pad(p)}.bin`,
  /** the default model's local EASE matrices, one per list of model/clusters.json, in its order */
  locals: (v: string) => `${root(v)}model/locals.bin`,
  fold: (v: string) => `${root(v)}model/fold.json`,
  popular: (v: string) => `${root(v)}model/popular.json`,
  summary: (v: string) => `${root(v)}model/summary.json`,
  refusal: (v: string) => `${root(v)}refusal.json`,
  report: (v: string) => `${root(v)}report.json`,
};

export async function getJson<T>(store: RunStore, key: string): Promise<T> {
  return JSON.parse(Buffer.from(await store.get(key)).toString('utf8')) as T;
}

export async function putJson(store: RunStore, key: string, doc: unknown): Promise<void> {
  await store.put(key, JSON.stringify(doc));
}

export async function putContainer<M>(store: RunStore, key: string, meta: M, sections: Record<string, SectionArray> = {}): Promise<void> {
  await store.put(key, encode(meta, sections));
}

export async function getContainer<M>(store: RunStore, key: string): Promise<Container<M>> {
  return new Container<M>(await store.get(key));
}

/** Bytes read first for a header: most headers fit, longer ones cost a second read. */
const HEADER_PROBE = 64 * 1024;

/** A container's header only. */
export async function readHeader<M>(store: RunStore, key: string): Promise<ContainerHeader<M>> {
  let head = await store.getRange(key, 0, HEADER_PROBE);
  const len = headerLength(head);
  if (head.length < len) head = await store.getRange(key, 0, len);
  return decodeHeader<M>(head);
}

/**
 * The header and the named sections of a container (one ranged read spanning them: keep the sections a
 * reader wants together adjacent when writing). `slices` narrows a section to elements [from, to); a name
 * ending in "?" may be missing.
 */
export async function readSections<M>(
  store: RunStore,
  key: string,
  names: readonly string[],
  slices: Record<string, [number, number]> = {},
): Promise<{ meta: M; sections: Record<string, SectionArray> }> {
  const header = await readHeader<M>(store, key);
  // a name ending in "?" is optional: left out when the container has no such section
  const wanted = names.map((n) => n.replace(/\?$/, '')).filter((n, i) => !names[i].endsWith('?') || n in header.sections);
  const ranges = wanted.map((name) => {
    const info = header.sections[name];
    if (!info) throw new Error(`${key} has no section "${name}"`);
    const [from, to] = slices[name] ?? [0, info.length];
    return { name, info, from, to, ...sectionRange(info, from, to) };
  });
  const sections: Record<string, SectionArray> = {};
  if (ranges.length === 0) return { meta: header.meta, sections };
  const start = Math.min(...ranges.map((r) => r.start));
  const end = Math.max(...ranges.map((r) => r.end));
  const bytes = end > start ? await store.getRange(key, start, end) : new Uint8Array(0);
  for (const r of ranges) {
    sections[r.name] = viewSection({ ...r.info, length: r.to - r.from }, bytes, r.start - start);
  }
  return { meta: header.meta, sections };
}
