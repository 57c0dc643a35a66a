"""Time the Appendix A exports of a 40-outcome framework in every format.

Run: .venv/bin/python bench/bench_export.py [--outcomes N] [--repeat N]

The framework is tests/export/snapshots.large(): the example snapshot's outcomes replicated
to N, with consistent ranks, weights and money. Each format is written to memory --repeat
times after one warm-up export of the small example (imports, fonts: timed and printed apart);
the median wall time is printed with CPU time and the output size, then the sums and the
PDF/DOCX ratio. Every run gets a snapshot of its own (a different title, so a different hash):
Typst memoises layout within a process, and the same snapshot twice would time the cache.
Targets on a 2-core machine: all formats together under 3 s; the PDF under 1 s and at most
twice the DOCX's time.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.export.snapshots

from codesign.export import FORMATS, export  # noqa: E402
from tests.export.snapshots import example, large, with_hash  # noqa: E402

TARGET_SECONDS = 3.0
PDF_TARGET_SECONDS = 1.0
PDF_DOCX_TARGET_RATIO = 2.0


def time_format(fmt: str, outcomes: int, repeat: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds (CPU shows how much of the wall time was waiting for a busy machine)."""
    wall, cpu, size = [], [], 0
    for run in range(repeat):
        fresh = large(outcomes)
        fresh["framework"]["title"] = f"{fresh['framework']['title']} ({fmt} run {run + 1})"
        snapshot, sha = with_hash(fresh)
        buf = io.BytesIO()
        start, start_cpu = time.perf_counter(), time.process_time()
        export(snapshot, sha, fmt, buf)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        size = len(buf.getvalue())
    return statistics.median(wall), statistics.median(cpu), size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outcomes", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    warm, warm_sha = with_hash(example())
    first: dict[str, float] = {}
    for fmt in FORMATS:  # imports, fonts and template loading: once per process, not what we measure
        start = time.perf_counter()
        export(warm, warm_sha, fmt, io.BytesIO())
        first[fmt] = time.perf_counter() - start
    print("first export in this process (imports, fonts), the 3-outcome example: "
          + ", ".join(f"{fmt} {seconds * 1000:.0f} ms" for fmt, seconds in first.items()))
    total = total_cpu = 0.0
    walls: dict[str, float] = {}
    print(f"{args.outcomes}-outcome framework, median of {args.repeat} runs")
    print(f"  {'':<5} {'wall':>8}     {'cpu':>8}     {'size':>8}")
    for fmt in FORMATS:
        seconds, cpu, size = time_format(fmt, args.outcomes, args.repeat)
        walls[fmt] = seconds
        total, total_cpu = total + seconds, total_cpu + cpu
        print(f"  {fmt:<5} {seconds * 1000:8.0f} ms  {cpu * 1000:8.0f} ms  {size / 1024:8.0f} KiB")
    verdict = "within" if total < TARGET_SECONDS else "OVER"
    print(f"  total {total * 1000:8.0f} ms  {total_cpu * 1000:8.0f} ms  ({verdict} the {TARGET_SECONDS:.0f} s target)")
    ratio = walls["pdf"] / walls["docx"]
    print(f"  pdf {walls['pdf']:.2f} s ({'within' if walls['pdf'] < PDF_TARGET_SECONDS else 'OVER'} the "
          f"{PDF_TARGET_SECONDS:.0f} s target); pdf/docx {ratio:.2f} "
          f"({'within' if ratio <= PDF_DOCX_TARGET_RATIO else 'OVER'} the {PDF_DOCX_TARGET_RATIO:.0f}x target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
