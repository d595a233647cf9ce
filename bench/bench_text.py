"""Speed of the text engine per answer, on one core.

usage: OMP_NUM_THREADS=1 .venv/bin/python bench/bench_text.py [--rounds N] [--model-per-call K]

Grades every labelled answer (graders/engines/text/eval/*.jsonl) `rounds` times as a new
answer (the answer-embedding memo is cleared before each call) with the engine as it runs in a
worker: model loaded once, rubric example embeddings computed once. Baseline, in the same run:
the same answers with the rubric's example phrases re-embedded on every call (no example cache).
With --model-per-call K, also K calls that rebuild the model (the per-request anti-pattern; the
imports are warm by then, so a cold process pays the "model load" line on top).
Prints median and p95 per answer, the ratio baseline/engine, model load time and the RSS."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graders.engines.text import embedding  # noqa: E402
from graders.engines.text.eval.evaluate import grader, rows  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--model-per-call", type=int, default=0)
    args = ap.parse_args()

    rss_before = rss_mb()
    load_ms = timed(embedding.load_model)
    import torch

    print(f"model load {load_ms:.0f} ms; torch threads {torch.get_num_threads()}; "
          f"RSS {rss_before:.0f} MB before, {rss_mb():.0f} MB after loading")
    answers = rows()
    for r in answers:  # build graders and their example embeddings once, as a worker does
        grader(r.item, "clauses").vectors()

    def engine(r) -> float:
        embedding._answers.clear()
        return timed(lambda: grader(r.item, "clauses").assess(r.answer))

    def no_example_cache(r) -> float:
        embedding._answers.clear()
        g = grader(r.item, "clauses")

        def run():
            g._vectors = None
            embedding._examples.clear()
            g._vectors = dict(_embed_fresh(g))
            g.assess(r.answer)
        return timed(run)

    def _embed_fresh(g):
        matrix = embedding.encode_uncached(g.rubric.example_texts)
        start = len(g.rubric.references)
        yield "@references", matrix[:start]
        for signal in g.rubric.signals:
            yield signal.id, matrix[start:start + len(signal.examples)]
            start += len(signal.examples)

    fast, slow = [], []
    for _ in range(args.rounds):
        for r in answers:  # interleaved so both see the same machine load
            fast.append(engine(r))
            slow.append(no_example_cache(r))
    for r in answers:  # leave the graders with their cached vectors
        grader(r.item, "clauses")._vectors = None
    med_fast, med_slow = statistics.median(fast), statistics.median(slow)
    print(f"engine (model once, example embeddings cached): {len(fast)} answers, "
          f"median {med_fast:.1f} ms, p95 {percentile(fast, 0.95):.1f} ms")
    print(f"baseline (example phrases re-embedded per call): median {med_slow:.1f} ms, "
          f"p95 {percentile(slow, 0.95):.1f} ms")
    print(f"ratio baseline/engine (median): {med_slow / med_fast:.1f}x")
    if args.model_per_call:
        per_call = []
        for r in answers[: args.model_per_call]:
            def fresh():
                model = embedding._load_uncached()
                embedding.encode_uncached([str(r.answer)], model)
            per_call.append(timed(fresh))
        print(f"model rebuilt per call (imports already warm): median {statistics.median(per_call):.0f} ms "
              f"({statistics.median(per_call) / med_fast:.0f}x the engine)")
    print(f"RSS after the run {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
