"""Shared helpers for the taste-model research (issue 6). Reuses the reference protocol in
../shared/eval/quality.py (make_split, Split, score) so numbers are comparable with it."""
import sys
import numpy as np
import scipy.sparse as sp
sys.path.insert(0, '/work/shared/eval')
import quality as Q  # noqa: E402

K = 10


def outer_split(path):
    df, _ = Q.load_ratings(path)
    tr, te, _ = Q.make_split(df)
    return Q.Split(tr, te, {})


def inner_split(path):
    """Validation split carved from the outer TRAIN only (same protocol applied to TRAIN)."""
    df, _ = Q.load_ratings(path)
    tr, _, _ = Q.make_split(df)
    itr, ite, _ = Q.make_split(tr)
    return Q.Split(itr, ite, {})


def topn_from_scores(split, S, k=K):
    """S: users x items dense scores (rows = split.user_ids). Excludes seen; ties by movieId asc
    (columns are in ascending movieId)."""
    recs = {}
    X = split.X
    for r, u in enumerate(split.user_ids):
        s = S[r].astype(np.float64).copy()
        s[X.indices[X.indptr[r]:X.indptr[r + 1]]] = -np.inf
        # top k by score desc, column asc
        cand = np.argpartition(-s, k + 50)[:k + 50] if len(s) > k + 50 else np.arange(len(s))
        o = cand[np.lexsort((cand, -s[cand]))][:k]
        o = o[np.isfinite(s[o])]
        recs[int(u)] = split.movie_ids[o].tolist()
    return recs
