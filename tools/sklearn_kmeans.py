"""scikit-learn's KMeans on a CSR matrix written by tools/kmeans-parity-lib.ts, for the parity test
(test/unit/kmeans-sklearn-parity.test.ts). Prints one JSON line: per case, the k-means++ seed rows of
the first init, the iterations, inertia and labels of KMeans(k, n_init, random_state=seed).

    python3 tools/sklearn_kmeans.py DIR CASES_JSON
DIR holds indptr.bin / indices.bin (int32) and, for weighted cases, data.bin (float64), plus shape.json.
"""
import json
import sys

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.utils.extmath import row_norms


def main():
    d, cases = sys.argv[1], json.loads(sys.argv[2])
    n, m = json.load(open(d + "/shape.json"))
    indptr = np.fromfile(d + "/indptr.bin", dtype=np.int32)
    indices = np.fromfile(d + "/indices.bin", dtype=np.int32)
    out = {"sklearn": sklearn.__version__, "cases": []}
    for c in cases:
        data = np.fromfile(d + "/data.bin", dtype=np.float64) if c["weighted"] else np.ones(len(indices))
        x = sp.csr_matrix((data, indices, indptr), shape=(n, m))
        _, seeds = kmeans_plusplus(x, c["k"], x_squared_norms=row_norms(x, squared=True),
                                   random_state=np.random.RandomState(c["seed"]))
        km = KMeans(n_clusters=c["k"], n_init=c["nInit"], max_iter=300, tol=1e-4, random_state=c["seed"]).fit(x)
        out["cases"].append({**c, "seeds": [int(s) for s in seeds], "iterations": int(km.n_iter_),
                             "inertia": float(km.inertia_), "labels": [int(v) for v in km.labels_]})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
