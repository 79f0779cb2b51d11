// Deterministic top-k selection: highest score first, ties by smaller index (= smaller movieId,
// since columns are in ascending movieId order), i.e. numpy's lexsort((ids, -score))[:k].

/** Reusable bounded heap over indices whose scores live in a shared array. */
export class TopK {
  private readonly heap: Int32Array;
  private size = 0;

  constructor(private readonly k: number) {
    this.heap = new Int32Array(Math.max(1, k));
  }

  /** a ranks below b */
  private static worse(s: Float64Array, a: number, b: number): boolean {
    return s[a] < s[b] || (s[a] === s[b] && a > b);
  }

  reset(): void {
    this.size = 0;
  }

  offer(scores: Float64Array, i: number): void {
    const h = this.heap;
    if (this.k === 0) return;
    if (this.size < this.k) {
      // sift up (root = worst)
      let c = this.size++;
      h[c] = i;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!TopK.worse(scores, h[c], h[p])) break;
        const t = h[c];
        h[c] = h[p];
        h[p] = t;
        c = p;
      }
      return;
    }
    if (!TopK.worse(scores, h[0], i)) return;
    h[0] = i;
    let p = 0;
    for (;;) {
      const l = 2 * p + 1;
      if (l >= this.size) break;
      const r = l + 1;
      const c = r < this.size && TopK.worse(scores, h[r], h[l]) ? r : l;
      if (!TopK.worse(scores, h[c], h[p])) break;
      const t = h[c];
      h[c] = h[p];
      h[p] = t;
      p = c;
    }
  }

  /** The selected indices, best first. */
  result(scores: Float64Array): number[] {
    const out = Array.from(this.heap.subarray(0, this.size));
    out.sort((a, b) => scores[b] - scores[a] || a - b);
    return out;
  }
}
