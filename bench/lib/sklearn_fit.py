"""scikit-learn's KMeans on the same binary user x movie matrix as movierec's (rows = users by ascending id,
columns = movies by ascending id, duplicates collapsed to 1), loaded from the ratings CSV with pandas.
Only the fit is timed. Prints one JSON line.

    python3 bench/lib/sklearn_fit.py RATINGS.csv K N_INIT
"""
import json
import resource
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn
from sklearn.cluster import KMeans


def main():
    path, k, n_init = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    t0 = time.perf_counter()
    df = pd.read_csv(path, usecols=["userId", "movieId"], dtype={"userId": np.int64, "movieId": np.int64})
    users, rows = np.unique(df["userId"].to_numpy(), return_inverse=True)
    movies, cols = np.unique(df["movieId"].to_numpy(), return_inverse=True)
    del df
    x = sp.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(len(users), len(movies)))
    x.sum_duplicates()
    x.data[:] = 1.0
    load_seconds = time.perf_counter() - t0
    t = time.perf_counter()
    c = time.process_time()  # CPU of all threads
    km = KMeans(n_clusters=k, n_init=n_init, init="k-means++", max_iter=300, tol=1e-4, random_state=0).fit(x)
    fit_seconds = time.perf_counter() - t
    fit_cpu_seconds = time.process_time() - c
    print(json.dumps({
        "version": sklearn.__version__,
        "loadSeconds": load_seconds,
        "fitSeconds": fit_seconds,
        "fitCpuSeconds": fit_cpu_seconds,
        "inertia": float(km.inertia_),
        "iterations": int(km.n_iter_),
        "nnz": int(x.nnz),
        "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    main()
