"""The chosen procedure end to end, per K-means seed: select (k, T) on the INNER split (carved from
TRAIN), fit on the outer TRAIN with the chosen settings, score on the outer TEST. Ensemble of E=2
spherical K-means clusterings, M=5 nearest clusters per clustering, softmax(cos / T) weights.
Usage: final_procedure.py RATINGS [seeds]"""
import sys, json
import numpy as np
from common import inner_split, outer_split, topn_from_scores, Q
from taste import fit_predict

path = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/datasets/ml-latest-small/ratings.csv'
seeds = range(int(sys.argv[2]) if len(sys.argv) > 2 else 5)
KS = [20, 30, 50, 80]
TS = [0.1, 0.2, 0.4]
inner, outer = inner_split(path), outer_split(path)
KS = [k for k in KS if k * 8 <= len(inner.user_ids)] or [max(2, len(inner.user_ids) // 8)]

def ens(split, k, T, seed, E=2, M=5):
    return sum(fit_predict(split, k=k, seed=seed * 100 + e, M=M, T=T, n_init=2) for e in range(E))

for name, f in [('pop', Q.model_pop), ('itemknn', Q.model_itemknn), ('seed', Q.model_seed)]:
    m = Q.score(f(outer)[0], outer)
    print(f"outer {name:<8} ndcg {m['ndcg@10']:.4f} p {m['precision@10']:.4f} r {m['recall@10']:.4f} hr {m['hitrate@10']:.4f} cov {m['coverage@10']:.4f}", flush=True)
res = []
for s in seeds:
    best = None
    for k in KS:
        for T in TS:
            v = Q.score(topn_from_scores(inner, ens(inner, k, T, s)), inner)['ndcg@10']
            if best is None or v > best[0]:
                best = (v, k, T)
    m = Q.score(topn_from_scores(outer, ens(outer, best[1], best[2], s)), outer)
    res.append(m)
    print(f"seed {s}: chose k={best[1]} T={best[2]} (inner {best[0]:.4f}) -> outer ndcg {m['ndcg@10']:.4f} p {m['precision@10']:.4f} r {m['recall@10']:.4f} hr {m['hitrate@10']:.4f} cov {m['coverage@10']:.4f}", flush=True)
for key in ['precision@10', 'recall@10', 'ndcg@10', 'hitrate@10', 'coverage@10']:
    a = np.array([m[key] for m in res])
    print(f"  {key:<13} {a.mean():.4f} ± {a.std(ddof=1) if len(a) > 1 else 0:.4f}")
