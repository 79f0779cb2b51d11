"""Reference of the default model ("taste + cluster-local EASE") for the parity test, in numpy/scikit-learn,
written from the research's recipe.py (train, recommend_one) for one fixed setting.

  /usr/bin/python3 tools/cl_ease_reference.py RATINGS.csv OUT_PREFIX [k E M L h T lam_rel beta seed]

Reads userId,movieId,rating,timestamp (all rows are training data), clusters the unit rows E times with
scikit-learn's KMeans (seeds seed, seed+1, ...; n_init 1), and writes OUT_PREFIX.json plus OUT_PREFIX_B.f32:
every clustering's labels, every cluster's list (top L by count desc, movieId asc), size and local EASE
matrix (little-endian float32 at BOffset, row-major), every user's movies oldest first, mix and top 10.
No cluster is dissolved (min cluster size 0): fixClusters is checked elsewhere. The top 10 are computed
from the float32-rounded matrices, as the product serves them.
"""
import json
import sys

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.preprocessing import normalize


def main():
    path, out = sys.argv[1], sys.argv[2]
    k, E, M, L = (int(v) for v in (sys.argv[3:7] if len(sys.argv) > 6 else (6, 3, 5, 30)))
    h, T, lam_rel, beta = (float(v) for v in (sys.argv[7:11] if len(sys.argv) > 10 else (3, 0.1, 0.5, 0.1)))
    seed = int(sys.argv[11]) if len(sys.argv) > 11 else 0
    df = pd.read_csv(path).drop_duplicates(['userId', 'movieId'])
    df = df.sort_values(['userId', 'timestamp', 'movieId'], kind='mergesort').reset_index(drop=True)
    users = np.sort(df.userId.unique())
    movies = np.sort(df.movieId.unique())
    ui = np.searchsorted(users, df.userId.to_numpy())
    mi = np.searchsorted(movies, df.movieId.to_numpy())
    n = df.groupby('userId').userId.transform('size').to_numpy()
    age = (n - 1 - df.groupby('userId').cumcount().to_numpy()).astype(np.float64)
    shape = (len(users), len(movies))
    X = sp.csr_matrix((np.ones(len(df)), (ui, mi)), shape=shape)
    X.sort_indices()
    P = sp.csr_matrix((age + 1.0, (ui, mi)), shape=shape)
    P.sort_indices()
    P.data -= 1.0
    U = normalize(X, norm='l2', axis=1)

    clusters, labels_out = [], []
    for e in range(E):
        labels = KMeans(n_clusters=k, init='k-means++', n_init=1, max_iter=300, tol=1e-4,
                        random_state=seed + e).fit(U).labels_.astype(np.int64)
        labels_out.append(labels.tolist())
        for j in sorted(set(labels.tolist())):
            rows = np.nonzero(labels == j)[0]
            counts = np.asarray(X[rows].sum(0)).ravel()
            cols = np.nonzero(counts)[0]
            order = cols[np.lexsort((movies[cols], -counts[cols]))][:L]
            centre = np.asarray(U[rows].sum(0)).ravel()
            centre /= max(np.linalg.norm(centre), 1e-300)
            clusters.append({'id': e * k + j, 'part': e, 'cols': order, 'counts': counts[order],
                             'size': float(len(rows)), 'centre': centre})

    Xc = X.tocsc()
    for c in clusters:
        Xl = Xc[:, c['cols']]
        G = (Xl.T @ Xl).toarray()
        lam = lam_rel * float(np.mean(np.diag(G)))
        if lam <= 0:
            lam = 1.0
        G[np.diag_indices_from(G)] += lam
        Pm = np.linalg.inv(G)
        B = -Pm / np.diag(Pm)[None, :]
        B[np.diag_indices_from(B)] = 0.0
        c['B'] = B.astype(np.float32).astype(np.float64)

    W = X.astype(np.float64).copy()
    if h > 0:
        W.data = np.power(0.5, P.data / h)
    R = normalize(W, norm='l2', axis=1)
    mix = np.zeros((len(users), len(clusters)))
    for e in range(E):
        idx = np.array([i for i, c in enumerate(clusters) if c['part'] == e])
        C = np.vstack([clusters[i]['centre'] for i in idx])
        cos = np.asarray(R @ C.T)
        m = min(M, len(idx))
        order = np.lexsort((np.tile(np.arange(len(idx)), (len(users), 1)), -cos), axis=1)[:, :m]
        cs = np.take_along_axis(cos, order, 1)
        w = np.exp((cs - cs[:, :1]) / T)
        w /= w.sum(1, keepdims=True) * E
        sub = np.zeros((len(users), len(idx)))
        np.put_along_axis(sub, order, w, 1)
        mix[:, idx] = sub

    def recommend_one(row):
        a, b = X.indptr[row], X.indptr[row + 1]
        cols = X.indices[a:b]
        in_order = movies[cols[np.argsort(-P.data[a:b], kind='stable')]].tolist()
        nmov = len(in_order)
        rho = {mv: (0.5 ** ((nmov - 1 - j) / h) if h else 1.0) for j, mv in enumerate(in_order)}
        seen = set(in_order)
        score = {}
        for ci in np.nonzero(mix[row] > 0)[0]:
            c, w = clusters[ci], mix[row, ci]
            ids = movies[c['cols']]
            s = np.zeros(len(ids))
            for j, mv in enumerate(ids):
                if mv in rho:
                    s += rho[mv] * c['B'][j]
            for j, mv in enumerate(ids):
                if mv in seen:
                    continue
                score[int(mv)] = score.get(int(mv), 0.0) + w * (beta * c['counts'][j] / c['size'] + s[j])
        return in_order, sorted(score, key=lambda mv: (-score[mv], mv))[:10]

    offsets, off = [], 0
    for c in clusters:
        offsets.append(off)
        off += len(c['cols']) ** 2
    dump = {
        'params': {'k': k, 'E': E, 'M': M, 'L': L, 'h': h, 'T': T, 'lam_rel': lam_rel, 'beta': beta, 'seed': seed},
        'labels': labels_out,
        'clusters': [{'id': int(c['id']), 'size': c['size'], 'movieIds': movies[c['cols']].tolist(),
                      'counts': c['counts'].astype(float).tolist(), 'BOffset': o} for c, o in zip(clusters, offsets)],
        'users': [],
    }
    for r in range(len(users)):
        in_order, top = recommend_one(r)
        nz = np.nonzero(mix[r] > 0)[0]
        dump['users'].append({'userId': int(users[r]), 'moviesOldestFirst': in_order,
                              'mix': [[int(clusters[c]['id']), float(mix[r, c])] for c in nz], 'expectedTop10': top})
    np.concatenate([c['B'].astype('<f4').ravel() for c in clusters]).tofile(out + '_B.f32')
    with open(out + '.json', 'w') as f:
        json.dump(dump, f, separators=(',', ':'))
    print(f'wrote {out}.json and {out}_B.f32: {len(clusters)} clusters, {len(users)} users')


if __name__ == '__main__':
    main()
