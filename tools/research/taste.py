"""Cluster-by-taste recommender, research version (issue 6).

features: binary user x movie rows, optional column weighting (idf), L2-normalised (spherical k-means)
clustering: sklearn KMeans (Euclidean on unit rows ~ spherical k-means)
fixClusters-like: clusters smaller than min_size are dissolved, users move to their nearest other centre
per cluster: frac_c(m) = count_c(m) / size_c, optionally lift: frac_c(m) / pop(m)^alpha
per user: M nearest clusters by cosine to centre, weights softmax(sim / T) (or 1/rank)
score(m) = sum_c w_c * frac_c(m)  (+ beta * pop_frac(m) blend), lists truncated to L per cluster
"""
import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.preprocessing import normalize


def features(X, weight='none', norm=True):
    X = X.astype(np.float64).tocsr(copy=True)
    n = X.shape[0]
    if weight == 'idf':
        df = np.asarray((X > 0).sum(axis=0)).ravel()
        idf = np.log((n + 1) / (df + 1)) + 1
        X = X @ sp.diags(idf)
    elif weight == 'sqrtidf':
        df = np.asarray((X > 0).sum(axis=0)).ravel()
        X = X @ sp.diags(1 / np.sqrt(np.maximum(df, 1)))
    if norm:
        X = normalize(X, norm='l2', axis=1)
    return sp.csr_matrix(X)


_CACHE = {}
_FEAT = {}


def cluster(F, k, seed=0, n_init=3):
    key = (id(F), F.shape, F.nnz, k, seed, n_init)
    if key in _CACHE:
        return _CACHE[key]
    km = KMeans(n_clusters=k, init='k-means++', n_init=n_init, max_iter=300, random_state=seed).fit(F)
    _CACHE[key] = (km.labels_, km.cluster_centers_)
    return _CACHE[key]


def dissolve(F, labels, C, min_size):
    """Dissolve clusters with < min_size users; move their users to the nearest surviving centre."""
    sizes = np.bincount(labels, minlength=C.shape[0])
    keep = np.nonzero(sizes >= min_size)[0]
    if len(keep) == 0 or len(keep) == C.shape[0]:
        return labels, C, keep
    labels = labels.copy()
    small = ~np.isin(labels, keep)
    if small.any():
        d = F[small] @ C[keep].T  # cos-like
        # Euclidean nearest: ||x||^2 - 2 x.c + ||c||^2
        cn = (C[keep] ** 2).sum(1)
        dist = -2 * np.asarray(d) + cn[None, :]
        labels[small] = keep[np.argmin(dist, axis=1)]
    return labels, C, keep


def fit_predict(split, k=30, weight='none', norm=True, seed=0, n_init=3, M=3, T=0.05, wmode='softmax',
                alpha=0.0, beta=0.0, L=None, min_size=6, assign='centroid', return_info=False, profile='hard', shrink=0.0, recency=None, recency_cluster=False, recency_floor=0.0):
    X = split.X
    fk = (id(split), weight, norm)
    if fk not in _FEAT:
        _FEAT[fk] = features(X, weight, norm)
    F = _FEAT[fk]
    Fm = F
    if recency is not None:
        rk = (id(split), 'rec', recency, recency_floor)
        if rk not in _FEAT:
            _FEAT[rk] = recency_features(split, recency, recency_floor)
        Fm = _FEAT[rk]
        if recency_cluster:
            F = Fm
    labels, C = cluster(F, k, seed, n_init)
    labels, C, keep = dissolve(F, labels, C, min_size)
    # recompute centres of kept clusters as mean of their unit rows (after moves)
    kc = len(keep)
    remap = -np.ones(C.shape[0], dtype=int)
    remap[keep] = np.arange(kc)
    lab = remap[labels]
    H = sp.csr_matrix((np.ones(len(lab)), (lab, np.arange(len(lab)))), shape=(kc, len(lab)))
    size = np.asarray(H.sum(1)).ravel()
    cnt = np.asarray((H @ X).todense())            # kc x items counts
    pop = np.asarray(X.sum(0)).ravel() / X.shape[0]
    frac = (cnt + shrink * pop[None, :]) / (size[:, None] + shrink)
    if alpha > 0:
        rank_score = frac / np.power(np.maximum(pop, 1e-12), alpha)
        rank_score[cnt == 0] = 0
        rank_score = rank_score
    else:
        rank_score = frac
    if L is not None:
        # serve only the top-L per cluster (by rank_score desc, movie asc)
        trunc = np.zeros_like(rank_score)
        for c in range(kc):
            o = np.lexsort((np.arange(rank_score.shape[1]), -rank_score[c]))[:L]
            trunc[c, o] = rank_score[c, o]
        rank_score = trunc
    Cm = np.asarray(H @ F.toarray()) / size[:, None] if assign == 'centroid' else None
    Cn = Cm / np.maximum(np.linalg.norm(Cm, axis=1, keepdims=True), 1e-12)
    sim = np.asarray(Fm @ Cn.T)                     # users x kc cosine (F unit rows)
    W = np.zeros_like(sim)
    m = min(M, kc)
    top = np.argsort(-sim, axis=1, kind='stable')[:, :m]
    rows = np.arange(sim.shape[0])[:, None]
    if wmode == 'softmax':
        s = sim[rows, top]
        e = np.exp((s - s[:, :1]) / T)
        W[rows, top] = e / e.sum(1, keepdims=True)
    elif wmode == 'rank':
        w = 1.0 / np.arange(1, m + 1)
        W[rows, top] = w / w.sum()
    elif wmode == 'sim':
        s = np.maximum(sim[rows, top], 0) ** (1.0 / T)
        W[rows, top] = s / np.maximum(s.sum(1, keepdims=True), 1e-12)
    if M == 1 or m == 1:
        W[:] = 0
        W[np.arange(len(lab)), lab] = 1.0  # hard: own (post-dissolve) cluster
    if profile == 'soft':
        # cluster profiles from soft memberships: sum_u W[u,c] x_u(m) / sum_u W[u,c]
        ws = W.sum(0)
        rank_score = np.asarray((sp.csr_matrix(W.T) @ X).todense()) / np.maximum(ws, 1e-12)[:, None]
        if L is not None:
            trunc = np.zeros_like(rank_score)
            for c in range(kc):
                o = np.lexsort((np.arange(rank_score.shape[1]), -rank_score[c]))[:L]
                trunc[c, o] = rank_score[c, o]
            rank_score = trunc
    S = W @ rank_score
    if beta > 0:
        S = S + beta * pop[None, :]
    if return_info:
        return S, {'k_after': kc, 'sizes': sorted(size.astype(int).tolist(), reverse=True)}
    return S


def recency_features(split, half_life, floor=0.0):
    """Unit rows where a user's movie at position pos (of n, by timestamp) weighs
    floor + (1 - floor) * 0.5 ** ((n - 1 - pos) / half_life)."""
    tr = split.train.sort_values(['userId', 'timestamp', 'movieId'], kind='mergesort')
    ui = np.searchsorted(split.user_ids, tr.userId.to_numpy())
    mi = np.searchsorted(split.movie_ids, tr.movieId.to_numpy())
    pos = tr.groupby('userId').cumcount().to_numpy()
    n = tr.groupby('userId').userId.transform('size').to_numpy()
    if half_life == 'frac':
        w = np.ones(len(pos))
    else:
        w = floor + (1 - floor) * np.power(0.5, (n - 1 - pos) / half_life)
    X = sp.csr_matrix((w, (ui, mi)), shape=split.X.shape)
    return sp.csr_matrix(normalize(X, norm='l2', axis=1))
