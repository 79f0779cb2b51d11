"""Grid of taste-model settings on the INNER validation split (carved from TRAIN), then the chosen
settings once on the outer test. Usage: run_grid.py RATINGS [stage]"""
import sys, json, time, itertools
import numpy as np
from common import inner_split, outer_split, topn_from_scores, Q
from taste import fit_predict

path = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/datasets/ml-latest-small/ratings.csv'
stage = sys.argv[2] if len(sys.argv) > 2 else 'a'
which = sys.argv[3] if len(sys.argv) > 3 else 'inner'
sp_ = inner_split(path) if which == 'inner' else outer_split(path)
print(f'{which}: users {len(sp_.user_ids)} train {len(sp_.train)} test {len(sp_.test)}', flush=True)

def ev(**kw):
    t = time.time()
    S = fit_predict(sp_, **kw)
    m = Q.score(topn_from_scores(sp_, S), sp_)
    print(f"{json.dumps(kw):<110} ndcg {m['ndcg@10']:.4f} p {m['precision@10']:.4f} hr {m['hitrate@10']:.4f} cov {m['coverage@10']:.4f} {time.time()-t:.1f}s", flush=True)
    return m

for name, f in [('pop', Q.model_pop), ('itemknn', Q.model_itemknn), ('seed', Q.model_seed)]:
    if stage == 'a':
        m = Q.score(f(sp_)[0], sp_)
        print(f"{name:<110} ndcg {m['ndcg@10']:.4f} p {m['precision@10']:.4f} hr {m['hitrate@10']:.4f} cov {m['coverage@10']:.4f}", flush=True)

if stage == 'a':
    for weight, norm in [('none', False), ('none', True), ('idf', True), ('sqrtidf', True)]:
        for k in [15, 30, 50]:
            ev(k=k, weight=weight, norm=norm, M=1)
            ev(k=k, weight=weight, norm=norm, M=3, T=0.05)

def ev_seeds(seeds=(0, 1, 2), quiet=False, **kw):
    ms = []
    for sd in seeds:
        S = fit_predict(sp_, seed=sd, **kw)
        ms.append(Q.score(topn_from_scores(sp_, S), sp_))
    nd = np.array([m['ndcg@10'] for m in ms]); cv = np.array([m['coverage@10'] for m in ms])
    print(f"{json.dumps(kw):<100} ndcg {nd.mean():.4f}±{nd.std(ddof=1):.4f} cov {cv.mean():.4f}", flush=True)
    return nd.mean()

if stage == 'b':
    for k in [15, 20, 30, 50, 80]:
        ev_seeds(k=k, M=1)
        for M in [2, 3, 5, 8]:
            for T in [0.02, 0.05, 0.1]:
                ev_seeds(k=k, M=M, T=T)
if stage == 'c':
    for k in [20, 30, 50]:
        for M in [3, 5]:
            for wmode, T in [('rank', 1), ('sim', 0.1), ('sim', 0.25)]:
                ev_seeds(k=k, M=M, T=T, wmode=wmode)
            for alpha in [0.1, 0.2, 0.4]:
                ev_seeds(k=k, M=M, T=0.05, alpha=alpha)
            for beta in [0.05, 0.2]:
                ev_seeds(k=k, M=M, T=0.05, beta=beta)
if stage == 'd':
    for k in [20, 30, 50]:
        for M in [5, 8]:
            for T in [0.1, 0.2, 0.4]:
                ev_seeds(k=k, M=M, T=T)
                ev_seeds(k=k, M=M, T=T, profile='soft')
if stage == 'e':
    for k in [20, 30, 50]:
        for M in [3, 5]:
            ev_seeds(k=k, M=M, T=0.1, L=100)
            ev_seeds(k=k, M=M, T=0.1, L=300)
            ev_seeds(k=k, M=M, T=0.1, weight='idf')
            ev_seeds(k=k, M=M, T=0.1, n_init=1)
            ev_seeds(k=k, M=M, T=0.1, min_size=0)
            ev_seeds(k=k, M=M, T=0.1, min_size=15)
def ev_ens(ks, seeds=(0, 1, 2), **kw):
    ms = []
    for sd in seeds:
        S = sum(fit_predict(sp_, k=k, seed=sd * 100 + i, **kw) for i, k in enumerate(ks))
        ms.append(Q.score(topn_from_scores(sp_, S), sp_))
    nd = np.array([m['ndcg@10'] for m in ms]); cv = np.array([m['coverage@10'] for m in ms])
    print(f"ens {ks} {json.dumps(kw):<90} ndcg {nd.mean():.4f}±{nd.std(ddof=1):.4f} cov {cv.mean():.4f}", flush=True)

if stage == 'f':
    for k, M, T in [(80, 10, 0.2), (80, 10, 0.4), (80, 5, 0.4), (50, 5, 0.4), (50, 10, 0.4), (30, 5, 0.4)]:
        ev_seeds(k=k, M=M, T=T)
        ev_seeds(k=k, M=M, T=T, shrink=5)
        ev_seeds(k=k, M=M, T=T, shrink=20)
if stage == 'g':
    ev_ens([30, 30, 30], M=5, T=0.2)
    ev_ens([20, 30, 50], M=5, T=0.2)
    ev_ens([50, 50], M=5, T=0.4)
    ev_ens([30, 50], M=5, T=0.2)
if stage == 'h':
    for k in [20, 30, 50, 80]:
        for T in [0.1, 0.2, 0.4]:
            ev_ens([k, k], M=5, T=T)
if stage == 'i':
    for k in [30, 50, 80]:
        for E in [1, 2, 3, 4]:
            ev_ens([k] * E, M=5, T=0.2)
if stage == 'j':
    for k in [30, 50]:
        ev_ens([k, k], M=5, T=0.2)
        for hl in [5, 10, 20, 50]:
            ev_ens([k, k], M=5, T=0.2, recency=hl)
            ev_ens([k, k], M=5, T=0.2, recency=hl, recency_floor=0.3)
        ev_ens([k, k], M=5, T=0.2, recency=20, recency_cluster=True)
if stage == 'k':
    for k in [20, 50, 80]:
        for hl in [1, 2, 3, 5]:
            for T in [0.1, 0.2, 0.4]:
                ev_ens([k, k], M=5, T=T, recency=hl)
if stage == 'l':
    for k in [80, 120]:
        for hl in [2, 3]:
            for T in [0.05, 0.1]:
                ev_ens([k, k], M=5, T=T, recency=hl)
    ev_ens([80, 80], M=8, T=0.1, recency=2)
    ev_ens([80, 80], M=3, T=0.1, recency=2)
    ev_ens([80, 80, 80], M=5, T=0.1, recency=2)
