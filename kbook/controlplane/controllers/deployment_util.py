"""The Deployment controller's pure arithmetic (``pkg/controller/deployment/util/deployment_util.go``
and ``ComputeHash`` in ``pkg/controller/controller_utils.go``): surge and unavailability
fenceposts, how far the new ReplicaSet may grow, the pod-template hash, revisions and
conditions. Functions of their inputs, so they can be checked without a cluster."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import operator
import struct

from kbook.api import (
    Deployment,
    DeploymentCondition,
    DeploymentStatus,
    IntOrString,
    ObjectMeta,
    PodTemplateSpec,
    ReplicaSet,
)
from kbook.api.codec import encode
from kbook.controlplane.controllers.controller_utils import semantic_deep_equal
from kbook.controlplane.controllers.timeutil import parse_time, rfc3339

__all__ = [
    "DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY",
    "REVISION_ANNOTATION",
    "REVISION_HISTORY_ANNOTATION",
    "DESIRED_REPLICAS_ANNOTATION",
    "MAX_REPLICAS_ANNOTATION",
    "scaled_value",
    "resolve_fenceposts",
    "max_surge",
    "max_unavailable",
    "new_rs_new_replicas",
    "compute_hash",
    "equal_ignore_hash",
    "revision",
    "set_new_replica_set_annotations",
    "sync_new_annotations",
    "set_replicas_annotations",
    "replicas_annotations_need_update",
    "deployment_complete",
    "deployment_progressing",
    "deployment_timed_out",
    "new_condition",
    "set_condition",
    "get_condition",
    "remove_condition",
]

DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY = "pod-template-hash"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
_NOT_COPIED = {REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, DESIRED_REPLICAS_ANNOTATION,
               MAX_REPLICAS_ANNOTATION, "kubectl.kubernetes.io/last-applied-configuration"}
_SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"  # rand.SafeEncodeString


def scaled_value(value: IntOrString | None, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent`` (an unset value is 0)."""
    if value is None:
        return 0
    if value.is_int:
        return int(value.value)
    text = str(value.value)
    if not text.endswith("%") or not text[:-1].lstrip("-").isdigit():
        raise ValueError(f'invalid value for IntOrString: invalid value "{text}"')
    scaled = int(text[:-1]) * total / 100
    return math.ceil(scaled) if round_up else math.floor(scaled)


@functools.lru_cache(maxsize=256)  # a Deployment's strategy is the same sync after sync
def resolve_fenceposts(surge: IntOrString | None, unavailable: IntOrString | None, desired: int) -> tuple[int, int]:
    """``ResolveFenceposts``: surge rounds up, unavailable down; both 0 makes unavailable 1."""
    s, u = scaled_value(surge, desired, True), scaled_value(unavailable, desired, False)
    return (s, 1) if s == 0 and u == 0 else (s, u)


def _is_rolling(d: Deployment) -> bool:
    return d.spec.strategy.type == "RollingUpdate" and d.spec.strategy.rolling_update is not None


def max_surge(d: Deployment) -> int:
    if not _is_rolling(d):
        return 0
    ru = d.spec.strategy.rolling_update
    return resolve_fenceposts(ru.max_surge, ru.max_unavailable, d.spec.replicas or 0)[0]


def max_unavailable(d: Deployment) -> int:
    """``MaxUnavailable``: at most the desired replicas; 0 when not rolling or scaled to 0."""
    replicas = d.spec.replicas or 0
    if not _is_rolling(d) or replicas == 0:
        return 0
    ru = d.spec.strategy.rolling_update
    return min(resolve_fenceposts(ru.max_surge, ru.max_unavailable, replicas)[1], replicas)


def new_rs_new_replicas(d: Deployment, all_rss: list[ReplicaSet], new_rs: ReplicaSet) -> int:
    """``NewRSNewReplicas``: grow the new ReplicaSet up to ``desired + maxSurge`` pods in all;
    Recreate jumps straight to ``desired``."""
    desired = d.spec.replicas or 0
    if d.spec.strategy.type != "RollingUpdate":
        return desired
    current = sum(rs.spec.replicas or 0 for rs in all_rss)
    max_total = desired + scaled_value(d.spec.strategy.rolling_update.max_surge, desired, True)
    new = new_rs.spec.replicas or 0
    if current >= max_total:
        return new
    return new + min(max_total - current, desired - new)


def _fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def compute_hash(template: PodTemplateSpec, collision_count: int | None) -> str:
    """``controller.ComputeHash``: fnv32a, printed in decimal, then ``SafeEncodeString``.
    Upstream hashes a ``spew`` dump of the Go struct; this hashes the template's canonical
    JSON, so the values differ from a real cluster's but are just as stable."""
    data = json.dumps(encode(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += struct.pack("<I", collision_count & 0xFFFFFFFF)
    return "".join(_SAFE_ALPHANUMS[int(c) % len(_SAFE_ALPHANUMS)] for c in str(_fnv32a(data)))


def equal_ignore_hash(a: PodTemplateSpec, b: PodTemplateSpec) -> bool:
    """``EqualIgnoreHash``: ``Semantic.DeepEqual`` of the templates once the pod-template-hash
    label is dropped. Upstream deletes the label from copies; this compares in place."""
    if not semantic_deep_equal(a.spec, b.spec):
        return False
    am, bm = a.metadata, b.metadata
    if not semantic_deep_equal(_without_hash(am.labels), _without_hash(bm.labels)):
        return False
    meta_a, meta_b = _meta_but_labels(am), _meta_but_labels(bm)
    return meta_a == meta_b or semantic_deep_equal(list(meta_a), list(meta_b))


_meta_but_labels = operator.attrgetter(*(f.name for f in dataclasses.fields(ObjectMeta) if f.name != "labels"))


def _without_hash(labels: dict[str, str]) -> dict[str, str]:
    if DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY not in labels:
        return labels
    return {k: v for k, v in labels.items() if k != DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY}


def revision(obj: Deployment | ReplicaSet) -> int:
    """``Revision``: the revision annotation (0 when absent or unparsable)."""
    return _revision(obj.metadata.annotations)


def _revision(ann: dict[str, str]) -> int:
    try:
        return int(ann.get(REVISION_ANNOTATION, "0"))
    except ValueError:
        return 0


def set_replicas_annotations(rs: ReplicaSet, desired: int, max_replicas: int) -> bool:
    changed = replicas_annotations_need_update(rs, desired, max_replicas)
    ann = rs.metadata.annotations
    ann[DESIRED_REPLICAS_ANNOTATION], ann[MAX_REPLICAS_ANNOTATION] = str(desired), str(max_replicas)
    return changed


def replicas_annotations_need_update(rs: ReplicaSet, desired: int, max_replicas: int) -> bool:
    ann = rs.metadata.annotations
    return ann.get(DESIRED_REPLICAS_ANNOTATION) != str(desired) or ann.get(MAX_REPLICAS_ANNOTATION) != str(max_replicas)


def set_new_replica_set_annotations(d: Deployment, rs: ReplicaSet, new_revision: str, exists: bool) -> bool:
    """``SetNewReplicaSetAnnotations``: copy the Deployment's annotations, raise the revision
    (keeping the old one in revision-history on a rollback), and on creation the replica
    annotations."""
    changed = sync_new_annotations(d, rs.metadata.annotations, new_revision)
    if not exists and set_replicas_annotations(rs, d.spec.replicas or 0, (d.spec.replicas or 0) + max_surge(d)):
        changed = True
    return changed


def sync_new_annotations(d: Deployment, ann: dict[str, str], new_revision: str) -> bool:
    """What ``SetNewReplicaSetAnnotations`` does to an existing new ReplicaSet, on its
    annotations ``ann``: True if they changed."""
    changed = False
    for k, v in d.metadata.annotations.items():
        if k not in _NOT_COPIED and ann.get(k) != v:
            ann[k], changed = v, True
    old = ann.get(REVISION_ANNOTATION)
    if _revision(ann) < int(new_revision):
        ann[REVISION_ANNOTATION], changed = new_revision, True
        if old is not None:
            history = ann.get(REVISION_HISTORY_ANNOTATION, "")
            ann[REVISION_HISTORY_ANNOTATION] = f"{history},{old}" if history else old
    return changed


def deployment_complete(d: Deployment, status: DeploymentStatus) -> bool:
    """``DeploymentComplete``: every desired replica updated and available, no old ones left."""
    desired = d.spec.replicas or 0
    return (status.updated_replicas == desired and status.replicas == desired
            and status.available_replicas == desired and status.observed_generation >= d.metadata.generation)


def deployment_progressing(d: Deployment, status: DeploymentStatus) -> bool:
    """``DeploymentProgressing``: more updated/ready/available pods or fewer old ones."""
    old = d.status
    return (status.updated_replicas > old.updated_replicas
            or status.replicas - status.updated_replicas < old.replicas - old.updated_replicas
            or status.ready_replicas > old.ready_replicas
            or status.available_replicas > old.available_replicas)


def deployment_timed_out(d: Deployment, status: DeploymentStatus, now: float) -> bool:
    """``DeploymentTimedOut``: Progressing last updated more than progressDeadlineSeconds ago."""
    if d.spec.progress_deadline_seconds is None:
        return False
    cond = get_condition(status, "Progressing")
    if cond is None or cond.reason == "NewReplicaSetAvailable":
        return False
    if cond.reason == "ProgressDeadlineExceeded":
        return True
    last = parse_time(cond.last_update_time)
    return last is not None and last + d.spec.progress_deadline_seconds < now


def get_condition(status: DeploymentStatus, ctype: str) -> DeploymentCondition | None:
    for c in status.conditions:
        if c.type == ctype:
            return c
    return None


def remove_condition(status: DeploymentStatus, ctype: str) -> None:
    status.conditions = [c for c in status.conditions if c.type != ctype]


def new_condition(ctype: str, status: str, reason: str, message: str, now: float) -> DeploymentCondition:
    t = rfc3339(now)
    return DeploymentCondition(ctype, status, t, t, reason, message)


def set_condition(status: DeploymentStatus, cond: DeploymentCondition) -> None:
    """``SetDeploymentCondition``: same status and reason is a no-op; same status keeps the
    transition time."""
    cur = get_condition(status, cond.type)
    if cur is not None and cur.status == cond.status and cur.reason == cond.reason:
        return
    if cur is not None and cur.status == cond.status:
        cond.last_transition_time = cur.last_transition_time
    status.conditions = [c for c in status.conditions if c.type != cond.type] + [cond]
