"""SynthPed generation speed: images per second for the default world at the default size (target: >= 500 on 2 cores).

Writes the chosen formats of the default-scale world into a temporary folder with `workers` processes and prints the
wall-clock rate, the rate per CPU-second used (which does not depend on how busy a shared machine is) and their ratios to
the 500 images/s target, all measured in this run.

    python benchmarks/synth_bench.py                      # the whole default world, 2 workers
    python benchmarks/synth_bench.py --formats mask1k regdb --workers 1
"""
import argparse, resource, shutil, tempfile, time
from pathlib import Path

from reidbook.synth import FORMATS, synthesize

TARGET = 500.0  # images per second on 2 cores

def cpu_seconds() -> float:
    "CPU time (user + system) of this process and of its finished children."
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--formats', nargs='+', default=list(FORMATS), choices=list(FORMATS))
    ap.add_argument('--scale', default='default', choices=['tiny', 'default', 'large'])
    ap.add_argument('--workers', type=int, default=2)
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix='synth-bench-'))
    try:
        t0, c0 = time.perf_counter(), cpu_seconds()
        manifest = synthesize(out, scale=args.scale, formats=args.formats, workers=args.workers)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    n = sum(c['images'] for c in manifest['formats'].values())
    rate, per_cpu = n / wall, n / cpu
    print(f"{n} images ({', '.join(args.formats)}), scale {args.scale}, {args.workers} workers")
    print(f"wall clock     : {wall:7.1f} s  -> {rate:7.0f} images/s   ratio to target {rate / TARGET:.2f}")
    print(f"CPU time       : {cpu:7.1f} s  -> {per_cpu:7.0f} images per CPU-second")
    print(f"2 idle cores   : {2 * per_cpu:7.0f} images/s (2 x per CPU-second)  ratio to target {2 * per_cpu / TARGET:.2f}")

if __name__ == '__main__':
    main()
