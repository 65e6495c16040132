"""How much strict decoding, defaulting and validation cost on top of parsing the YAML.

Loads a generated manifest of many Deployments, Services and HPAs with ``kbook.api.loads``
and, as the baseline in the same process, with PyYAML's libyaml loader alone; prints objects
per second for both and their ratio. Run: ``.venv/bin/python benchmarks/manifests.py [N]``.
"""

from __future__ import annotations

import sys
import time

import yaml

from kbook import api

TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app-{i}, namespace: bench, labels: {{app: app-{i}}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: app-{i}}}}}
  template:
    metadata: {{labels: {{app: app-{i}}}}}
    spec:
      containers:
        - name: app
          image: registry.example.com/bench/app:{i}.0
          ports: [{{containerPort: 8080}}]
          resources:
            requests: {{cpu: {cpu}m, memory: {mem}Mi}}
            limits: {{cpu: "1", memory: 1Gi}}
---
apiVersion: v1
kind: Service
metadata: {{name: app-{i}, namespace: bench}}
spec:
  selector: {{app: app-{i}}}
  ports: [{{port: 80, targetPort: 8080}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: app-{i}, namespace: bench}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: app-{i}}}
  minReplicas: 1
  maxReplicas: 10
  metrics: [{{type: Resource, resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 70}}}}}}]
"""


def manifest(apps: int) -> str:
    return "---\n".join(TEMPLATE.format(i=i, replicas=1 + i % 5, cpu=100 + i % 900, mem=64 + i % 512) for i in range(apps))


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(apps: int = 300) -> None:
    text = manifest(apps)
    objects = 3 * apps
    assert len(api.loads(text)) == objects
    baseline = best_of(3, lambda: list(yaml.load_all(text, Loader=yaml.CSafeLoader)))
    kbook = best_of(3, lambda: api.loads(text))
    print(f"manifest: {objects} objects, {len(text):,} bytes")
    print(f"yaml.load_all with CSafeLoader (baseline): {objects / baseline:,.0f} objects/s")
    print(f"kbook.api.loads (decode, default, validate): {objects / kbook:,.0f} objects/s")
    print(f"ratio kbook / baseline time: {kbook / baseline:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
