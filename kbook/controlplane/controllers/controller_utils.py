"""What the controllers share, from ``pkg/controller/controller_utils.go``,
``controller_ref_manager.go`` and ``pkg/api/v1/pod/util.go``: pod readiness and
availability, controller references and adoption, expectations, slow-start batches and the
order in which a ReplicaSet picks pods to delete (``ActivePodsWithRanks``)."""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, TypeVar

from kbook.api import KubeObject, LabelSelector, LabelSelectorRequirement, OwnerReference, Pod, PodCondition
from kbook.api.model import KubeModel
from kbook.controlplane.apiserver.types import API, APIError, NotFound
from kbook.controlplane.controllers.timeutil import parse_time

__all__ = [
    "SLOW_START_INITIAL_BATCH_SIZE",
    "EXPECTATIONS_TIMEOUT",
    "POD_DELETION_COST",
    "deep_copy",
    "copy_fields",
    "shallow_copy",
    "semantic_deep_equal",
    "label_selector_as_selector",
    "controller_ref",
    "new_controller_ref",
    "is_pod_active",
    "is_pod_ready",
    "pod_ready_time",
    "is_pod_available",
    "ControllerExpectations",
    "slow_start_batch",
    "claim_objects",
    "rank_pods_for_deletion",
]

SLOW_START_INITIAL_BATCH_SIZE = 1
EXPECTATIONS_TIMEOUT = 300.0  # ExpectationsTimeout = 5 * time.Minute
POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
LOGARITHMIC_SCALE_DOWN = True  # feature gate LogarithmicScaleDown (beta, on by default)

T = TypeVar("T", bound=KubeObject)
M = TypeVar("M", bound=KubeModel)


def deep_copy(obj: T) -> T:
    """``DeepCopy``: informer caches are shared, so change only a copy."""
    return obj.__deepcopy__({}) if isinstance(obj, KubeModel) else copy.deepcopy(obj)


def shallow_copy(obj: M) -> M:
    """A new model whose fields are ``obj``'s (as ``copy.copy``, without its generic protocol)."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    return new


def copy_fields(obj: T, *names: str) -> T:
    """``DeepCopy`` for a controller that changes only the fields ``names`` (e.g. ``status``):
    those are deep copies, the others stay shared with ``obj``, read-only as the cache is."""
    new = shallow_copy(obj)
    for name in names:
        setattr(new, name, deep_copy(getattr(obj, name)))
    return new


def semantic_deep_equal(a: Any, b: Any) -> bool:
    """``apiequality.Semantic.DeepEqual``: structural equality where quantities compare by
    value (``Quantity.Cmp``) and an empty list or map equals an unset one."""
    if a == b:  # models compare field by field, quantities by value
        return True
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        if not a and not b:
            return True
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(semantic_deep_equal(x, y) for x, y in zip(a, b))
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(semantic_deep_equal(v, b[k]) for k, v in a.items())
        return False
    if isinstance(a, KubeModel) and type(a) is type(b):
        return all(semantic_deep_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return False


def label_selector_as_selector(selector: LabelSelector) -> Callable[[Mapping[str, str]], bool]:
    """``metav1.LabelSelectorAsSelector``, then ``Selector.Matches``: the requirements are
    checked once (a ``SelectorError`` if invalid), not once per object matched. Matchers are
    kept by the selector's content, so a selector seen before is not checked again."""
    return _compiled_selector(tuple(selector.match_labels.items()),
                              tuple((e.key, e.operator, tuple(e.values)) for e in selector.match_expressions))


@functools.lru_cache(maxsize=256)
def _compiled_selector(match_labels: tuple[tuple[str, str], ...],
                       expressions: tuple[tuple[str, str, tuple[str, ...]], ...]) -> Callable[[Mapping[str, str]], bool]:
    """The matcher of a selector's content (an invalid one raises, and is not kept)."""
    requirements = LabelSelector(dict(match_labels), [LabelSelectorRequirement(key, op, list(values))
                                                      for key, op, values in expressions]).requirements()
    if not expressions:  # matchLabels only: each an "=" requirement
        wanted = {req.key: req.values[0] for req in requirements}.items()
        return lambda labels: wanted <= labels.items()
    return lambda labels: all(req.matches(labels) for req in requirements)


def controller_ref(obj: KubeObject) -> OwnerReference | None:
    """``metav1.GetControllerOf``."""
    return next((ref for ref in obj.metadata.owner_references if ref.controller), None)


def new_controller_ref(owner: KubeObject) -> OwnerReference:
    """``metav1.NewControllerRef``: controller and blockOwnerDeletion both true."""
    return OwnerReference(api_version=owner.API_VERSION, kind=owner.KIND, name=owner.metadata.name,
                          uid=owner.metadata.uid, controller=True, block_owner_deletion=True)


def is_pod_active(pod: Pod) -> bool:
    """``IsPodActive``: not Succeeded/Failed and not being deleted."""
    return pod.status.phase not in ("Succeeded", "Failed") and pod.metadata.deletion_timestamp is None


def _ready_condition(pod: Pod) -> PodCondition | None:
    return next((c for c in pod.status.conditions if c.type == "Ready"), None)


def is_pod_ready(pod: Pod) -> bool:
    cond = _ready_condition(pod)
    return cond is not None and cond.status == "True"


def pod_ready_time(pod: Pod) -> float | None:
    """When the pod last became Ready (simulated seconds), if it is Ready."""
    cond = _ready_condition(pod)
    return parse_time(cond.last_transition_time) if cond is not None and cond.status == "True" else None


def is_pod_available(pod: Pod, min_ready_seconds: int, now: float) -> bool:
    """``IsPodAvailable``: Ready for at least ``minReadySeconds``."""
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds == 0:
        return True
    since = pod_ready_time(pod)
    return since is not None and since + min_ready_seconds <= now


class ControllerExpectations:
    """``UIDTrackingControllerExpectations``: per controller key, how many creations are still
    to be seen and which pod keys' deletions; a sync waits until they are seen or 5 min pass."""

    @dataclass
    class _Record:
        add: int
        deletes: set[str]
        timestamp: float

    def __init__(self, clock: Callable[[], float]):
        self._clock = clock
        self._records: dict[str, ControllerExpectations._Record] = {}

    def satisfied(self, key: str) -> bool:
        """``SatisfiedExpectations``: fulfilled, expired, or never set."""
        rec = self._records.get(key)
        if rec is None:
            return True
        if rec.add <= 0 and not rec.deletes:
            return True
        return self._clock() - rec.timestamp > EXPECTATIONS_TIMEOUT

    def expect_creations(self, key: str, count: int) -> None:
        self._records[key] = self._Record(count, set(), self._clock())

    def expect_deletions(self, key: str, pod_keys: list[str]) -> None:
        self._records[key] = self._Record(0, set(pod_keys), self._clock())

    def creation_observed(self, key: str) -> None:
        rec = self._records.get(key)
        if rec is not None:
            rec.add -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        rec = self._records.get(key)
        if rec is not None:
            rec.deletes.discard(pod_key)

    def delete(self, key: str) -> None:
        self._records.pop(key, None)


def slow_start_batch(count: int, initial_batch_size: int,
                     fn: Callable[[], None]) -> tuple[int, list[int], APIError | None]:
    """``slowStartBatch``: call ``fn`` ``count`` times in batches of 1, 2, 4, ...; a batch with
    a failure (an exception) is finished but no further batch starts. Returns the successes,
    the batch sizes used and the first error."""
    successes, sizes = 0, []
    error: APIError | None = None
    remaining, batch = count, min(count, initial_batch_size)
    while batch > 0:
        sizes.append(batch)
        for _ in range(batch):
            try:
                fn()
                successes += 1
            except APIError as err:  # any failed call ends the slow start (errCh)
                error = error or err
        if error is not None:
            break
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes, sizes, error


def claim_objects(api: API, owner: KubeObject, selector: LabelSelector, candidates: list[T],
                  owner_is_deleting: bool) -> list[T]:
    """``BaseControllerRefManager.ClaimObject``: keep what ``owner`` controls and still matches,
    adopt matching orphans (not while ``owner`` is being deleted), release what no longer
    matches. Adopting and releasing write the ownerReferences (an update)."""
    claimed: list[T] = []
    uid = owner.metadata.uid
    selector_matches = label_selector_as_selector(selector)
    for obj in candidates:
        ref = controller_ref(obj)
        matches = selector_matches(obj.metadata.labels)
        if ref is not None:
            if ref.uid != uid:
                continue
            if matches or owner_is_deleting:
                claimed.append(obj)
                continue
            if obj.metadata.deletion_timestamp is None:
                _write_owner_refs(api, obj, [r for r in obj.metadata.owner_references if r.uid != uid])
            continue
        if owner_is_deleting or not matches or obj.metadata.deletion_timestamp is not None:
            continue
        claimed.append(_write_owner_refs(api, obj, [*obj.metadata.owner_references, new_controller_ref(owner)]))
    return claimed


def _write_owner_refs(api: API, obj: T, refs: list[OwnerReference]) -> T:
    """Adopt/release: ``NotFound`` means the object is gone, which is fine for a release."""
    updated = deep_copy(obj)
    updated.metadata.owner_references = refs
    try:
        return api.update(updated)
    except NotFound:
        return obj


def _deletion_cost(pod: Pod) -> int:
    try:
        return int(pod.metadata.annotations.get(POD_DELETION_COST, "0"))
    except ValueError:
        return 0


def _max_restarts(pod: Pod) -> int:
    return max((int(s.get("restartCount", 0)) for s in pod.status.container_statuses if isinstance(s, dict)),
               default=0)


def _log_rank(t: float, now: float) -> int:
    """``logarithmicRankDiff``'s bucket: floor(log2(age in ns)), -1 for a zero age."""
    d = int(round((now - t) * 1e9))
    return -1 if d <= 0 else int(math.floor(math.log2(d)))


def _time_less(t1: float | None, t2: float | None, uid1: str, uid2: str, now: float) -> bool:
    """Newer (or unset) first; on the log2 scale with UID tie-break under LogarithmicScaleDown."""
    if t1 is None or t2 is None or not LOGARITHMIC_SCALE_DOWN:
        return t1 is None or (t2 is not None and t1 > t2)  # afterOrZero
    diff = _log_rank(t1, now) - _log_rank(t2, now)
    return uid1 < uid2 if diff == 0 else diff < 0


def rank_pods_for_deletion(pods: list[Pod], ranks: list[int], now: float) -> list[Pod]:
    """Sort by ``ActivePodsWithRanks.Less``: the pods to delete first come first."""
    phase_order = {"Pending": 0, "Unknown": 1, "Running": 2}

    def less(a: tuple[Pod, int], b: tuple[Pod, int]) -> bool:
        (p, rp), (q, rq) = a, b
        if p.spec.node_name != q.spec.node_name and (not p.spec.node_name or not q.spec.node_name):
            return not p.spec.node_name  # 1. unassigned first
        op, oq = phase_order.get(p.status.phase, 0), phase_order.get(q.status.phase, 0)
        if op != oq:
            return op < oq  # 2. Pending < Unknown < Running
        if is_pod_ready(p) != is_pod_ready(q):
            return not is_pod_ready(p)  # 3. not ready first
        cp, cq = _deletion_cost(p), _deletion_cost(q)
        if cp != cq:
            return cp < cq  # 4. lower deletion cost first
        if rp != rq:
            return rp > rq  # 5. more co-located related pods first
        if is_pod_ready(p) and is_pod_ready(q):  # 6. ready for less time first
            tp, tq = pod_ready_time(p), pod_ready_time(q)
            if tp != tq:
                return _time_less(tp, tq, p.metadata.uid, q.metadata.uid, now)
        mp, mq = _max_restarts(p), _max_restarts(q)
        if mp != mq:
            return mp > mq  # 7. more restarts first
        tp, tq = parse_time(p.metadata.creation_timestamp), parse_time(q.metadata.creation_timestamp)
        if tp != tq:
            return _time_less(tp, tq, p.metadata.uid, q.metadata.uid, now)  # 8. newer first
        return False

    def cmp(a: tuple[Pod, int], b: tuple[Pod, int]) -> int:
        return -1 if less(a, b) else (1 if less(b, a) else 0)

    return [p for p, _ in sorted(zip(pods, ranks), key=functools.cmp_to_key(cmp))]
