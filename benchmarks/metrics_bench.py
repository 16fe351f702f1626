"""Speed and memory of `reidbook.metrics.evaluate_rank` on a Market-1501-sized problem.

Prints, measured in the same run, time(evaluate_rank) / time(np.argsort(distmat, axis=1)) (target: at most 0.5), the
peak memory evaluate_rank adds (target: below 1 GB), and its agreement with a plain per-query numpy loop of the
torchreid/fast-reid algorithm (protocols-reference.md A.1, with a stable argsort).

    python benchmarks/metrics_bench.py [--runs 5] [--seed 0] [--no-reference]
"""
from __future__ import annotations
import argparse, multiprocessing, threading, time, tracemalloc

import numpy as np
import psutil  # installed with ipykernel

from reidbook.metrics import compute_distance, evaluate_rank


def market_like_problem(seed: int = 0, n_query: int = 3368, n_gallery: int = 15913, n_ids: int = 750,
                        n_distractors: int = 2793, n_cams: int = 6, dim: int = 64, noise: float = 1.1):
    """Market-1501's sizes: 750 query ids, gallery = the same ids + pid-0 distractors (751 ids), 6 cameras, float32;
    the noise level gives metrics in the range of protocols-reference.md A.4's problem (R1 0.57, mAP 0.29)."""
    rng = np.random.default_rng(seed)
    n_real = n_gallery - n_distractors
    g_pids = np.concatenate([np.arange(1, n_ids + 1), rng.integers(1, n_ids + 1, n_real - n_ids),
                             np.zeros(n_distractors, dtype=np.int64)])
    q_pids = np.concatenate([np.arange(1, n_ids + 1), rng.integers(1, n_ids + 1, n_query - n_ids)])
    centers = rng.standard_normal((n_ids + 1, dim)).astype(np.float32)
    def features(pids):
        f = centers[pids] + noise * rng.standard_normal((len(pids), dim)).astype(np.float32)
        f[pids == 0] = rng.standard_normal(((pids == 0).sum(), dim))  # distractors: nobody in particular
        return f
    distmat = compute_distance(features(q_pids), features(g_pids), 'euclidean')
    return distmat, q_pids, g_pids, rng.integers(0, n_cams, n_query), rng.integers(0, n_cams, n_gallery)


def reference_eval(distmat, q_pids, g_pids, q_camids, g_camids, max_rank: int = 50):
    "A.1 one query at a time (stable argsort), as torchreid's eval_market1501 with fast-reid's mINP."
    cmcs, aps, inps = [], [], []
    for q in range(len(distmat)):
        order = np.argsort(distmat[q], kind='stable')
        keep = ~((g_pids[order] == q_pids[q]) & (g_camids[order] == q_camids[q]))
        raw = (g_pids[order] == q_pids[q])[keep].astype(np.int64)
        if not raw.any(): continue
        cum = raw.cumsum()
        cmcs.append(np.concatenate([cum.clip(max=1), np.ones(max_rank)])[:max_rank])
        aps.append((cum / np.arange(1, len(raw) + 1) * raw).sum() / raw.sum())
        last = np.nonzero(raw)[0].max()
        inps.append(cum[last] / (last + 1))
    return np.mean(cmcs, 0), np.array(aps), np.array(inps)


def peak_rss_during(fn, interval: float = 0.001):
    "Run `fn()`; return (its result, peak resident memory above the starting level, in bytes, sampled every ms)."
    proc, peak, done = psutil.Process(), [0], threading.Event()
    base = proc.memory_info().rss
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss - base)
            time.sleep(interval)
    t = threading.Thread(target=sample); t.start()
    try: out = fn()
    finally: done.set(); t.join()
    return out, max(peak[0], proc.memory_info().rss - base)


def memory_probe(seed: int) -> tuple[int, int]:
    """In a fresh process (nothing freed before that the allocator could reuse): peak resident memory added by the first
    evaluate_rank call, and numpy's peak allocations during it (tracemalloc sees numpy, not torch)."""
    d, qp, gp, qc, gc = market_like_problem(seed)
    _, rss = peak_rss_during(lambda: evaluate_rank(d, qp, gp, qc, gc))
    tracemalloc.start()
    evaluate_rank(d, qp, gp, qc, gc)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return rss, traced


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--runs', type=int, default=5, help='timed runs of each (interleaved)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--no-reference', action='store_true', help='skip the (slow) per-query reference loop')
    args = ap.parse_args()
    d, qp, gp, qc, gc = market_like_problem(args.seed)
    print(f"problem: {d.shape[0]} queries x {d.shape[1]} gallery, {len(np.unique(gp))} gallery ids "
          f"({(gp == 0).sum()} pid-0 distractors), {len(np.unique(gc))} cameras, {d.dtype}")
    evaluate_rank(d, qp, gp, qc, gc)  # warm-up
    t_eval, t_sort = [], []
    for i in range(args.runs):
        t = time.perf_counter(); np.argsort(d, axis=1); t_sort.append(time.perf_counter() - t)
        t = time.perf_counter(); r = evaluate_rank(d, qp, gp, qc, gc); t_eval.append(time.perf_counter() - t)
        print(f"run {i}: evaluate_rank {t_eval[-1]:.3f} s, np.argsort {t_sort[-1]:.3f} s, "
              f"ratio {t_eval[-1] / t_sort[-1]:.3f}")
    ratios = np.array(t_eval) / np.array(t_sort)
    print(f"ratio evaluate_rank / argsort: median over runs {np.median(ratios):.3f}, "
          f"min/min {min(t_eval) / min(t_sort):.3f}  (target <= 0.5)")
    print(f"metrics: R1 {r['cmc'][0]:.4f}  R5 {r['cmc'][4]:.4f}  mAP {r['mAP']:.6f}  mINP {r['mINP']:.6f}  "
          f"valid queries {r['num_valid']}")
    with multiprocessing.get_context('spawn').Pool(1) as pool: rss, traced = pool.apply(memory_probe, (args.seed,))
    print(f"peak extra memory of evaluate_rank (fresh process): {rss / 2**20:.1f} MiB resident (psutil, sampled every "
          f"ms), {traced / 2**20:.1f} MiB numpy (tracemalloc); the distmat itself is {d.nbytes / 2**20:.0f} MiB  "
          f"(target < 1024 MiB)")
    if not args.no_reference:
        t = time.perf_counter(); cmc, aps, inps = reference_eval(d, qp, gp, qc, gc)
        print(f"per-query numpy loop: {time.perf_counter() - t:.1f} s; max |difference|: "
              f"CMC {np.abs(r['cmc'] - cmc).max():.1e}, AP {np.abs(r['all_AP'] - aps).max():.1e}, "
              f"INP {np.abs(r['all_INP'] - inps).max():.1e}, valid queries {r['num_valid']} vs {len(aps)}")


if __name__ == '__main__':
    main()
