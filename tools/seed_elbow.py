"""The seed's elbow: WCSS (inertia) of KMeans(k, init='k-means++', n_init=10, max_iter=300, random_state=0)
for each k, on the binary user x movie matrix of a ratings file (read as tools/seed_reference.py reads it),
fitted on the dense array (the seed's input) and on CSR (what movierec's engine reproduces). Prints JSON:
{"sklearn": version, "rows": [{"k", "dense", "csr"}, ...]}. tools/seed-parity.ts --elbow compares it with
`movierec elbow`.

    /usr/bin/python3 tools/seed_elbow.py RATINGS [--from 2] [--to 20] [--n-init 10] [--random-state 0]
"""
import argparse
import json

import sklearn
from sklearn.cluster import KMeans

from seed_reference import load


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ratings")
    ap.add_argument("--from", dest="lo", type=int, default=2)
    ap.add_argument("--to", dest="hi", type=int, default=20)
    ap.add_argument("--n-init", type=int, default=10)
    ap.add_argument("--random-state", type=int, default=0)
    a = ap.parse_args()
    _, _, x = load(a.ratings)
    dense = x.toarray()
    rows = []
    for k in range(a.lo, a.hi + 1):
        fit = lambda m: float(KMeans(n_clusters=k, init="k-means++", n_init=a.n_init, max_iter=300, tol=1e-4,
                                     random_state=a.random_state).fit(m).inertia_)
        rows.append({"k": k, "dense": fit(dense), "csr": fit(x)})
    print(json.dumps({"sklearn": sklearn.__version__, "rows": rows}))


if __name__ == "__main__":
    main()
