"""The seed project's pipeline, written out in Python as issue 16 describes it, as the reference for
`movierec train --algorithm seed` (tools/seed-parity.ts compares the two; test/unit/seed-parity.test.ts
checks the committed output test/fixtures/seed/seed-reference.json).

    /usr/bin/python3 tools/seed_reference.py RATINGS [--random-state 0] [--n 20] [--out FILE]

RATINGS is a MovieLens CSV (userId,movieId[,...]); like `movierec train`, the whole file is used and a
repeated (user, movie) row counts once. The steps:

1. The binary user x movie matrix: users ascending by id, movies ascending by id, 1 where the user rated
   the movie. The seed fits KMeans on the DENSE array; scikit-learn's dense path centres the data and
   multiplies with BLAS, its sparse (CSR) path does not, so near-ties can round differently. Both are
   fitted here: the labels of the dense fit are the seed's, and the output says whether the CSR fit
   (what movierec's engine reproduces) ended at the same labels.
2. KMeans(n_clusters=15, init='k-means++', n_init=10, max_iter=300, random_state=R).
3. Each cluster's movie list: how many of the cluster's users have each movie, count descending. The
   seed sorts with pandas' default (unstable) sort, so its order among equal counts is arbitrary; here
   ties go by movieId ascending, as in movierec.
4. fixClusters (min size 6): clusters with fewer users are dissolved in ascending cluster id, their users
   in ascending user id. Each user's share of movies is measured against the surviving clusters'
   ORIGINAL lists (built once, before any move: movies appended for earlier users do not count), the
   largest share wins, ties to the lowest cluster id. The user's movies missing from the winner's
   original list are appended at its end, count 1, ascending movieId -- once per user, so a movie two
   moved users share is appended twice (the seed's duplicates).
5. A user's top-N: the final list of the user's cluster, in order, without the user's own movies and
   without repeats (a duplicate appended entry is skipped).

For comparison it also runs step 4 with the other semantics (movies appended for earlier users are
visible to later users, movierec before issue 16) and lists the users whose final cluster differs.
When the CSR fit ends at other labels than the dense one, steps 3-5 are also run on its labels
(csr_pipeline). Every move carries the user's share in each candidate list. Prints one JSON document (or writes it to
--out).
"""
import argparse
import json
import sys

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn
from sklearn.cluster import KMeans


def load(path):
    df = pd.read_csv(path, usecols=["userId", "movieId"])
    df = df.drop_duplicates()
    users = np.sort(df["userId"].unique())
    movies = np.sort(df["movieId"].unique())
    rows = np.searchsorted(users, df["userId"].to_numpy())
    cols = np.searchsorted(movies, df["movieId"].to_numpy())
    x = sp.csr_matrix((np.ones(len(df)), (rows, cols)), shape=(len(users), len(movies)))
    x.sort_indices()
    return users, movies, x


def fit(x, k, n_init, random_state):
    km = KMeans(n_clusters=k, init="k-means++", n_init=n_init, max_iter=300, tol=1e-4,
                random_state=random_state).fit(x)
    return km.labels_.astype(int), float(km.inertia_), int(km.n_iter_)


def cluster_lists(x, labels, movies):
    """{cluster: [movieId, ...]} by count desc, then movieId asc."""
    out = {}
    for c in np.unique(labels):
        cnt = np.asarray(x[labels == c].sum(axis=0)).ravel()
        nz = np.nonzero(cnt)[0]
        order = nz[np.lexsort((movies[nz], -cnt[nz]))]
        out[int(c)] = [int(movies[j]) for j in order]
    return out


def fix_clusters(members, lists, user_movies, min_size, seed_semantics):
    """Returns (final cluster per user, final lists, moves). seed_semantics: shares against the original
    lists and the seed's duplicate appends; otherwise appended movies are visible to later users and a
    movie is appended to a list at most once."""
    small = sorted(c for c, m in members.items() if len(m) < min_size)
    keep = sorted(c for c, m in members.items() if len(m) >= min_size)
    final = {c: list(lists[c]) for c in keep}
    cluster_of = {u: c for c, ms in members.items() for u in ms}
    moves = []
    if not keep or not small:
        return cluster_of, {c: list(lists[c]) for c in members}, moves
    original = {c: set(lists[c]) for c in keep}
    visible = {c: set(lists[c]) for c in keep}
    for c in small:
        for u in sorted(members[c]):
            um = user_movies[u]
            against = original if seed_semantics else visible
            shares = {r: sum(1 for m in um if m in against[r]) / len(um) for r in keep}
            best = max(keep, key=lambda r: (shares[r], -r))  # largest share, ties to the lowest id
            for m in um:
                if m not in against[best]:
                    final[best].append(m)
                    visible[best].add(m)
            cluster_of[u] = best
            moves.append({"userId": u, "from": c, "to": best, "share": shares[best],
                          "shares": {str(r): shares[r] for r in keep}})
    return cluster_of, final, moves


def top_n(lst, seen, n):
    out, taken = [], set()
    for m in lst:
        if m in seen or m in taken:
            continue
        out.append(m)
        taken.add(m)
        if len(out) == n:
            break
    return out


def pipeline(x, labels, ids, movies, user_movies, min_size, n):
    """Steps 3-5 on one set of K-means labels."""
    lists = cluster_lists(x, labels, movies)
    members = {}
    for r, u in enumerate(ids):
        members.setdefault(int(labels[r]), []).append(u)
    seed_cluster, seed_lists, seed_moves = fix_clusters(members, lists, user_movies, min_size, True)
    old_cluster, _, old_moves = fix_clusters(members, lists, user_movies, min_size, False)
    return {
        "sizes_before": {str(c): len(m) for c, m in sorted(members.items())},
        "dissolved": sorted(c for c, m in members.items() if len(m) < min_size),
        "duplicate_appends": sum(len(l) - len(set(l)) for l in seed_lists.values()),
        "moves": seed_moves,
        "old_semantics_moves": old_moves,
        "semantics_differ": [u for u in ids if seed_cluster[u] != old_cluster[u]],
        "labels": [int(v) for v in labels],
        "cluster": [seed_cluster[u] for u in ids],
        "top": [top_n(seed_lists[seed_cluster[u]], set(user_movies[u]), n) for u in ids],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ratings")
    ap.add_argument("--random-state", type=int, default=0)
    ap.add_argument("--k", type=int, default=15)
    ap.add_argument("--n-init", type=int, default=10)
    ap.add_argument("--min-cluster-size", type=int, default=6)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--out")
    a = ap.parse_args()

    users, movies, x = load(a.ratings)
    dense_labels, dense_inertia, dense_iter = fit(x.toarray(), a.k, a.n_init, a.random_state)
    csr_labels, csr_inertia, csr_iter = fit(x, a.k, a.n_init, a.random_state)
    user_movies = {int(u): [int(m) for m in movies[x.indices[x.indptr[r]:x.indptr[r + 1]]]]
                   for r, u in enumerate(users)}
    ids = [int(u) for u in users]
    seed = pipeline(x, dense_labels, ids, movies, user_movies, a.min_cluster_size, a.n)  # the seed's
    same = bool((dense_labels == csr_labels).all())
    out = {
        "generated_by": "tools/seed_reference.py",
        "sklearn": sklearn.__version__,
        "params": {"k": a.k, "n_init": a.n_init, "max_iter": 300, "random_state": a.random_state,
                   "min_cluster_size": a.min_cluster_size, "n": a.n},
        "data": {"users": len(users), "movies": len(movies), "interactions": int(x.nnz)},
        "kmeans": {
            "dense": {"inertia": dense_inertia, "iterations": dense_iter},
            "csr": {"inertia": csr_inertia, "iterations": csr_iter},
            "dense_csr_same_labels": same,
            "dense_csr_users_differ": [ids[r] for r in np.nonzero(dense_labels != csr_labels)[0]],
        },
        "users": ids,
        **seed,
        # the same pipeline on the CSR fit's labels (what movierec's engine reproduces); identical to the
        # above when the labels agree
        "csr_pipeline": None if same else pipeline(x, csr_labels, ids, movies, user_movies, a.min_cluster_size, a.n),
    }
    text = json.dumps(out, separators=(",", ":")) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
