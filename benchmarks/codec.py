"""What deep copying, encoding and decoding one API object costs.

Runs the HPA benchmark's cluster (data/autoscaling/) for a few simulated minutes and
takes a running Pod, the Deployment and the HorizontalPodAutoscaler from it, with their
status. For each it times ``copy.deepcopy`` of the object (the generated ``DeepCopy``),
``dump`` (the wire form the API server stores) and ``decode_object`` of that wire form
(strict decoding, as the API server reads an object back from etcd), and, as the baseline
in the same process, ``copy.deepcopy`` of the wire form: a plain tree of dicts, lists and
strings of the same shape. Prints microseconds per operation and the ratio to the
baseline. Run: ``python benchmarks/codec.py``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kbook.api import Deployment, HorizontalPodAutoscaler, dump, load_file
from kbook.api.codec import decode_object
from kbook.cluster import Cluster, NodePool

DATA = Path(__file__).resolve().parents[1] / "data" / "autoscaling"


def per_op(fn: Callable[[], Any], rounds: int = 20) -> float:
    """Microseconds per call of ``fn``: the best of ``rounds`` rounds of about 20 ms."""
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.02:
        fn()
        n += 1
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def objects() -> list[Any]:
    """A running Pod, its Deployment and the HPA, after ten simulated minutes."""
    objs = [o for f in ("deployment.yaml", "hpa.yaml") for o in load_file(DATA / f)
            if isinstance(o, (Deployment, HorizontalPodAutoscaler))]
    cluster = Cluster(nodes=NodePool(count=1, cpu="16", memory="64Gi"), seed=0, metric_resolution=15.0)
    cluster.apply(objs)
    cluster.run(until=600.0)
    return [cluster.pods()[0], cluster.get("Deployment", "web"), cluster.get("HorizontalPodAutoscaler", "web")]


def main() -> None:
    print(f"{'object':<24}{'operation':<12}{'us/op':>8}{'baseline us':>13}{'ratio':>7}")
    for obj in objects():
        wire = dump(obj)
        assert decode_object(type(obj), wire, []) == obj
        baseline = per_op(lambda: copy.deepcopy(wire))
        for name, fn in [("deep copy", lambda: copy.deepcopy(obj)), ("encode", lambda: dump(obj)),
                         ("decode", lambda: decode_object(type(obj), wire, []))]:
            us = per_op(fn)
            print(f"{obj.KIND:<24}{name:<12}{us:>8.1f}{baseline:>13.1f}{us / baseline:>7.2f}")
    print("baseline: copy.deepcopy of the object's wire form (plain dicts and lists)")


if __name__ == "__main__":
    main()
