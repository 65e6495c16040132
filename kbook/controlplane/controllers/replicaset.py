"""The ReplicaSet controller (``pkg/controller/replicaset/replica_set.go``).

Level-triggered: each sync counts the active pods the ReplicaSet controls (adopting matching
orphans, releasing pods that stopped matching), creates or deletes the difference (at most
``BurstReplicas`` per sync, creations in slow-start batches 1, 2, 4, ...), waits for the
informer to show those writes (expectations), and writes the status.
"""

from __future__ import annotations

from collections import Counter

import simpy

from kbook.api import (
    LabelSelector,
    ObjectMeta,
    Pod,
    ReplicaSet,
    ReplicaSetCondition,
    ReplicaSetStatus,
)
from kbook.controlplane.apiserver.types import API, APIError, NotFound
from kbook.controlplane.controllers.base import QueueController
from kbook.controlplane.controllers.controller_utils import (
    SLOW_START_INITIAL_BATCH_SIZE,
    ControllerExpectations,
    claim_objects,
    controller_ref,
    deep_copy,
    is_pod_active,
    is_pod_available,
    is_pod_ready,
    new_controller_ref,
    rank_pods_for_deletion,
    shallow_copy,
    slow_start_batch,
)
from kbook.controlplane.controllers.informer import EventHandler, InformerFactory
from kbook.controlplane.controllers.timeutil import rfc3339
from kbook.eventlog import EventLog

__all__ = ["BURST_REPLICAS", "ReplicaSetController", "pod_from_template", "calculate_status"]

BURST_REPLICAS = 500  # replicaset.BurstReplicas
ORPHANS_INDEX = "orphans"  # pod informer index: namespace of each pod without a controller


def _orphan_namespace(pod: Pod) -> list[str]:
    return [pod.metadata.namespace] if controller_ref(pod) is None else []


def pod_from_template(rs: ReplicaSet) -> Pod:
    """``GetPodFromTemplate``: the template's labels, annotations and spec, ``generateName``
    ``<rs>-`` and a controller reference to the ReplicaSet."""
    template = rs.spec.template
    return Pod(
        metadata=ObjectMeta(
            generate_name=f"{rs.metadata.name}-",
            namespace=rs.metadata.namespace,
            labels=dict(template.metadata.labels),
            annotations=dict(template.metadata.annotations),
            finalizers=list(template.metadata.finalizers),
            owner_references=[new_controller_ref(rs)],
        ),
        spec=deep_copy(template.spec),
    )


def calculate_status(rs: ReplicaSet, pods: list[Pod], error: APIError | None, now: float) -> ReplicaSetStatus:
    """``calculateStatus``: counts of the controlled active pods, and the ReplicaFailure
    condition while creating or deleting fails."""
    template_labels = rs.spec.template.metadata.labels
    labeled = sum(all(p.metadata.labels.get(k) == v for k, v in template_labels.items()) for p in pods)
    ready = sum(is_pod_ready(p) for p in pods)
    available = sum(is_pod_available(p, rs.spec.min_ready_seconds, now) for p in pods)
    conditions = list(rs.status.conditions)
    failure = next((c for c in conditions if c.type == "ReplicaFailure"), None)
    if error is not None and failure is None:
        reason = "FailedCreate" if len(pods) < (rs.spec.replicas or 0) else "FailedDelete"
        conditions.append(ReplicaSetCondition("ReplicaFailure", "True", rfc3339(now), reason, str(error)))
    elif error is None and failure is not None:
        conditions.remove(failure)
    return ReplicaSetStatus(replicas=len(pods), fully_labeled_replicas=labeled, ready_replicas=ready,
                            available_replicas=available, observed_generation=rs.metadata.generation,
                            conditions=conditions)


class ReplicaSetController(QueueController):
    """``ReplicaSetController``: ``start()`` it; it shares ``informers`` when given."""

    name = "replicaset-controller"

    def __init__(self, env: simpy.Environment, api: API, *, informers: InformerFactory | None = None,
                 log: EventLog | None = None, burst_replicas: int = BURST_REPLICAS):
        super().__init__(env, api, informers=informers, log=log)
        self.burst_replicas = burst_replicas
        self.expectations = ControllerExpectations(lambda: env.now)
        self.rs_informer = self.informers.informer("ReplicaSet")
        self.pod_informer = self.informers.informer("Pod")
        self.pod_informer.indexer.add_index(ORPHANS_INDEX, _orphan_namespace)
        self.rs_informer.add_event_handler(EventHandler(self.enqueue, self._update_rs, self._delete_rs))
        self.pod_informer.add_event_handler(EventHandler(self._add_pod, self._update_pod, self._delete_pod))

    # -- event handlers ------------------------------------------------------------------

    def _update_rs(self, old: ReplicaSet, cur: ReplicaSet) -> None:
        self.enqueue(cur)

    def _delete_rs(self, rs: ReplicaSet) -> None:
        self.expectations.delete(rs.key)
        self.enqueue(rs)

    def _resolve(self, namespace: str, ref) -> ReplicaSet | None:
        """``resolveControllerRef``: the cached ReplicaSet a controller reference names."""
        if ref is None or ref.kind != "ReplicaSet":
            return None
        rs = self.rs_informer.indexer.get(f"{namespace}/{ref.name}")
        return rs if rs is not None and rs.metadata.uid == ref.uid else None

    def _matching(self, pod: Pod) -> list[ReplicaSet]:
        """``getPodReplicaSets``: ReplicaSets whose selector matches an orphan pod."""
        return [rs for rs in self.rs_informer.indexer.list(pod.metadata.namespace)
                if rs.spec.selector is not None and not rs.spec.selector.is_empty()
                and rs.spec.selector.matches(pod.metadata.labels)]

    def _add_pod(self, pod: Pod) -> None:
        if pod.metadata.deletion_timestamp is not None:
            self._delete_pod(pod)
            return
        ref = controller_ref(pod)
        if ref is not None:
            rs = self._resolve(pod.metadata.namespace, ref)
            if rs is not None:
                self.expectations.creation_observed(rs.key)
                self.enqueue(rs)
            return
        for rs in self._matching(pod):
            self.enqueue(rs)

    def _update_pod(self, old: Pod, cur: Pod) -> None:
        if cur.metadata.resource_version == old.metadata.resource_version:
            return  # a resync
        labels_changed = cur.metadata.labels != old.metadata.labels
        if cur.metadata.deletion_timestamp is not None:
            self._delete_pod(cur)
            if labels_changed:
                self._delete_pod(old)
            return
        cur_ref, old_ref = controller_ref(cur), controller_ref(old)
        ref_changed = (cur_ref and cur_ref.uid) != (old_ref and old_ref.uid)
        if ref_changed and (old_rs := self._resolve(old.metadata.namespace, old_ref)) is not None:
            self.enqueue(old_rs)
        if cur_ref is not None:
            rs = self._resolve(cur.metadata.namespace, cur_ref)
            if rs is not None:
                self.enqueue(rs)
                if not is_pod_ready(old) and is_pod_ready(cur) and rs.spec.min_ready_seconds > 0:
                    self.queue.add_after(rs.key, rs.spec.min_ready_seconds + 1)
            return
        if labels_changed or ref_changed:
            for rs in self._matching(cur):
                self.enqueue(rs)

    def _delete_pod(self, pod: Pod) -> None:
        rs = self._resolve(pod.metadata.namespace, controller_ref(pod))
        if rs is not None:
            self.expectations.deletion_observed(rs.key, pod.key)
            self.enqueue(rs)

    # -- sync ------------------------------------------------------------------------------

    def sync(self, key: str) -> None:
        """``syncReplicaSet``."""
        rs = self.rs_informer.indexer.get(key)
        if rs is None:
            self.expectations.delete(key)
            return
        needs_sync = self.expectations.satisfied(key)
        deleting = rs.metadata.deletion_timestamp is not None
        active = [p for p in self._claim_candidates(rs) if is_pod_active(p)]
        pods = claim_objects(self.api, rs, rs.spec.selector or LabelSelector(), active, deleting)
        error = self._manage_replicas(pods, rs) if needs_sync and not deleting else None
        status = calculate_status(rs, pods, error, self.env.now)
        self._update_status(rs, status)
        if error is not None:
            raise error
        min_ready = rs.spec.min_ready_seconds
        if min_ready > 0 and status.ready_replicas == rs.spec.replicas != status.available_replicas:
            self.queue.add_after(key, min_ready)

    def _claim_candidates(self, rs: ReplicaSet) -> list[Pod]:
        """The namespace's pods that ``claim_objects`` acts on, in key order, found through
        the informer's indexes instead of a walk over every pod: those with a controller
        reference to ``rs`` and the orphans (it skips the pods of other controllers)."""
        indexer, namespace = self.pod_informer.indexer, rs.metadata.namespace
        pods = {p.key: p for p in indexer.by_owner(rs.metadata.uid)
                if p.metadata.namespace == namespace and (ref := controller_ref(p)) is not None
                and ref.uid == rs.metadata.uid}
        pods.update((p.key, p) for p in indexer.by_index(ORPHANS_INDEX, namespace))
        return [pods[key] for key in sorted(pods)]

    def _manage_replicas(self, pods: list[Pod], rs: ReplicaSet) -> APIError | None:
        """``manageReplicas``: create or delete the difference, at most ``burst_replicas``."""
        key = rs.key
        diff = len(pods) - (rs.spec.replicas or 0)
        if diff < 0:
            count = min(-diff, self.burst_replicas)
            self.expectations.expect_creations(key, count)
            successes, sizes, error = slow_start_batch(count, SLOW_START_INITIAL_BATCH_SIZE,
                                                       lambda: self._create_pod(rs))
            self.record("SlowStartBatches", key, " ".join(map(str, sizes)))
            for _ in range(count - successes):  # never created: no event will come for them
                self.expectations.creation_observed(key)
            return error
        if diff > 0:
            count = min(diff, self.burst_replicas)
            victims = self._pods_to_delete(pods, self._related_pods(rs), count)
            self.expectations.expect_deletions(key, [p.key for p in victims])
            error = None
            for pod in victims:
                try:
                    self.api.delete("Pod", pod.metadata.name, pod.metadata.namespace)
                    self.record("SuccessfulDelete", key, f"Deleted pod: {pod.metadata.name}")
                except APIError as err:
                    self.expectations.deletion_observed(key, pod.key)
                    if not isinstance(err, NotFound):
                        self.record("FailedDelete", key, str(err))
                        error = error or err
            return error
        return None

    def _create_pod(self, rs: ReplicaSet) -> None:
        try:
            pod = self.api.create(pod_from_template(rs))
        except APIError as err:
            self.record("FailedCreate", rs.key, str(err))
            raise
        self.record("SuccessfulCreate", rs.key, f"Created pod: {pod.metadata.name}")

    def _related_pods(self, rs: ReplicaSet) -> list[Pod]:
        """``getIndirectlyRelatedPods``: pods of every ReplicaSet with the same controller
        (all ReplicaSets of one Deployment), or of this one if it has none."""
        ref = controller_ref(rs)
        related = [rs] if ref is None else [
            r for r in self.rs_informer.indexer.by_owner(ref.uid)
            if (c := controller_ref(r)) is not None and c.uid == ref.uid
        ]
        pods: dict[str, Pod] = {}
        for r in related:
            for pod in self.pod_informer.indexer.by_owner(r.metadata.uid):
                if (c := controller_ref(pod)) is not None and c.uid == r.metadata.uid:
                    pods[pod.metadata.uid] = pod
        return list(pods.values())

    def _pods_to_delete(self, pods: list[Pod], related: list[Pod], count: int) -> list[Pod]:
        """``getPodsToDelete``: rank by co-located related pods, sort, take the first."""
        if count < len(pods):
            on_node = Counter(p.spec.node_name for p in related if is_pod_active(p))
            pods = rank_pods_for_deletion(pods, [on_node[p.spec.node_name] for p in pods], self.env.now)
        return pods[:count]

    def _update_status(self, rs: ReplicaSet, status: ReplicaSetStatus) -> None:
        """``updateReplicaSetStatus``: write only a changed status; one retry on a fresh copy."""
        if rs.status == status:
            return
        updated = shallow_copy(rs)  # DeepCopy; only the status is replaced (the API copies it)
        for attempt in range(2):
            updated.status = status
            try:
                self.api.update_status(updated)
                return
            except APIError:
                if attempt == 1:
                    raise
                updated = self.api.get("ReplicaSet", rs.metadata.name, rs.metadata.namespace)
