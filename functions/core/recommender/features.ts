// Taste features: each user's binary row scaled to unit length (value 1/√n on each of the user's n
// movies). K-means on unit rows is spherical K-means: users are grouped by WHAT they watch, not by
// how much — on raw binary rows the heavy raters pull whole clusters to themselves.
import { CsrMatrix } from '../types';

export function unitRows(x: CsrMatrix): CsrMatrix {
  const nnz = x.indptr[x.nRows];
  const values = new Float64Array(nnz);
  for (let r = 0; r < x.nRows; r++) {
    const a = x.indptr[r];
    const b = x.indptr[r + 1];
    if (b === a) continue;
    let ss = 0;
    for (let p = a; p < b; p++) {
      const v = x.values ? x.values[p] : 1;
      ss += v * v;
    }
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let p = a; p < b; p++) values[p] = (x.values ? x.values[p] : 1) * inv;
  }
  return { ...x, values };
}
