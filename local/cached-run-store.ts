// A write-through run store cache (least recently used first out, within a byte budget), so the local
// executor's many small steps in one process do not read the same shard, centres or run state from s3rver
// again and again. Coherent only when every writer of the run goes through this one instance: the in-process
// executor (all three roles share it), never worker processes. Results are the same with or without it
// (tests and the local stack use it; the bench's worker processes do not, so their memory is a Lambda's).
import type { RunStore } from '../functions/ports/training-run';

export class CachedRunStore implements RunStore {
  private readonly cache = new Map<string, Uint8Array>();
  private bytes = 0;
  hits = 0;

  constructor(
    private readonly inner: RunStore,
    private readonly budgetBytes = 512 * 2 ** 20,
  ) {}

  async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.inner.put(key, body);
    this.remember(key, typeof body === 'string' ? Buffer.from(body, 'utf8') : Uint8Array.from(body));
  }

  async get(key: string): Promise<Uint8Array> {
    const hit = this.lookup(key);
    if (hit) return hit.slice();
    const bytes = await this.inner.get(key);
    this.remember(key, bytes.slice());
    return bytes;
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    const hit = this.lookup(key);
    if (hit) return hit.slice(start, Math.min(end, hit.length));
    return this.inner.getRange(key, start, end);
  }

  private lookup(key: string): Uint8Array | undefined {
    const hit = this.cache.get(key);
    if (!hit) return undefined;
    this.hits++;
    this.cache.delete(key);
    this.cache.set(key, hit);
    return hit;
  }

  private remember(key: string, bytes: Uint8Array): void {
    const old = this.cache.get(key);
    if (bytes.length > this.budgetBytes / 4) {
      // too large to keep: drop any older copy so it is never served stale
      if (old) (this.cache.delete(key), (this.bytes -= old.length));
      return;
    }
    if (old) this.bytes -= old.length;
    this.cache.set(key, bytes);
    this.bytes += bytes.length;
    for (const [k, v] of this.cache) {
      if (this.bytes <= this.budgetBytes) break;
      this.cache.delete(k);
      this.bytes -= v.length;
    }
  }
}
