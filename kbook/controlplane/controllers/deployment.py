"""The Deployment controller (``pkg/controller/deployment``: ``deployment_controller.go``,
``sync.go``, ``rolling.go``, ``recreate.go``, ``progress.go``).

A Deployment owns ReplicaSets named ``<deployment>-<pod-template-hash>``; the one whose
template equals the Deployment's (ignoring the hash label) is the new one, the others are
old. A rolling update grows the new ReplicaSet while ``Σ spec.replicas <= desired + maxSurge``
and shrinks old ones while ``Σ available >= desired - maxUnavailable``; Recreate scales
old ones to 0, waits for their pods to go, then creates the new one. The ReplicaSet
controller does the pods.

The Deployment's ``deployment.kubernetes.io/revision`` annotation is written with
``UpdateStatus``, together with the Progressing condition, as upstream does: the status
strategy of Deployments keeps the request's annotations and never bumps
``metadata.generation`` (a plain update would: annotation changes bump it), so a Deployment
stays at generation 1 through its first rollout.

The informer caches can be a step behind the controller's own writes (the key is queued by
a ReplicaSet event before the Deployment's last status write reached the cache); a write
from such a stale copy fails with Conflict and the key is requeued with the rate limiter
and synced again from the fresh cache. That is routine, so it is not logged (upstream logs
it only at ``-v=2``); other sync errors are logged as ``SyncError``.

Simplified: the ReplicaFailure condition is not copied from ReplicaSets; ``rollbackTo``
(extensions/v1beta1) is absent.
"""

from __future__ import annotations

import simpy

from kbook.api import Deployment, DeploymentStatus, ObjectMeta, Pod, ReplicaSet, ReplicaSetSpec
from kbook.controlplane.apiserver.types import API, AlreadyExists, APIError, Conflict
from kbook.controlplane.controllers import deployment_util as du
from kbook.controlplane.controllers.base import QueueController
from kbook.controlplane.controllers.controller_utils import (
    claim_objects,
    controller_ref,
    copy_fields,
    deep_copy,
    new_controller_ref,
    shallow_copy,
)
from kbook.controlplane.controllers.informer import EventHandler, InformerFactory
from kbook.controlplane.controllers.timeutil import parse_time
from kbook.eventlog import EventLog

__all__ = ["DeploymentController", "calculate_status"]

MAX_RETRIES = 15  # deployment_controller.go maxRetries


def _by_creation(rss: list[ReplicaSet]) -> list[ReplicaSet]:
    """``ReplicaSetsByCreationTimestamp``: oldest first, then by name."""
    return sorted(rss, key=lambda rs: (parse_time(rs.metadata.creation_timestamp) or 0.0, rs.metadata.name))


def _active(rss: list[ReplicaSet]) -> list[ReplicaSet]:
    """``FilterActiveReplicaSets``: spec.replicas > 0."""
    return [rs for rs in rss if rs is not None and (rs.spec.replicas or 0) > 0]


def calculate_status(all_rss: list[ReplicaSet], new_rs: ReplicaSet | None, d: Deployment) -> DeploymentStatus:
    """``calculateStatus`` (sync.go): sums over the ReplicaSets, and the Available condition."""
    rss = [rs for rs in all_rss if rs is not None]
    available = sum(rs.status.available_replicas for rs in rss)
    total = sum(rs.spec.replicas or 0 for rs in rss)
    return DeploymentStatus(
        observed_generation=d.metadata.generation,
        replicas=sum(rs.status.replicas for rs in rss),
        updated_replicas=new_rs.status.replicas if new_rs is not None else 0,
        ready_replicas=sum(rs.status.ready_replicas for rs in rss),
        available_replicas=available,
        unavailable_replicas=max(total - available, 0),
        collision_count=d.status.collision_count,
        conditions=[shallow_copy(c) for c in d.status.conditions],  # values of strings in Go: a shallow copy
    )


class DeploymentController(QueueController):
    """``DeploymentController``: ``start()`` it; it shares ``informers`` when given."""

    name = "deployment-controller"
    max_retries = MAX_RETRIES
    quiet_errors = (Conflict,)  # a write from a cache a step behind: requeued, not logged

    def __init__(self, env: simpy.Environment, api: API, *, informers: InformerFactory | None = None,
                 log: EventLog | None = None):
        super().__init__(env, api, informers=informers, log=log)
        self.d_informer = self.informers.informer("Deployment")
        self.rs_informer = self.informers.informer("ReplicaSet")
        self.pod_informer = self.informers.informer("Pod")
        self.d_informer.add_event_handler(EventHandler(self.enqueue, lambda old, cur: self.enqueue(cur), self.enqueue))
        self.rs_informer.add_event_handler(EventHandler(self._rs_changed, lambda old, cur: self._rs_changed(cur, old),
                                                        self._rs_changed))
        self.pod_informer.add_event_handler(EventHandler(on_delete=self._pod_deleted))
        self._last_split: tuple | None = None  # _find_new_and_old's last (d, rs_list, new, old)

    # -- event handlers ------------------------------------------------------------------

    def _owner(self, obj: ReplicaSet) -> Deployment | None:
        ref = controller_ref(obj)
        if ref is None or ref.kind != "Deployment":
            return None
        d = self.d_informer.indexer.get(f"{obj.metadata.namespace}/{ref.name}")
        return d if d is not None and d.metadata.uid == ref.uid else None

    def _rs_changed(self, rs: ReplicaSet, old: ReplicaSet | None = None) -> None:
        """add/update/deleteReplicaSet: the owner, a former owner, or for an orphan every
        Deployment whose selector matches it."""
        owners = [self._owner(rs)] + ([self._owner(old)] if old is not None else [])
        for d in owners:
            if d is not None:
                self.enqueue(d)
        if controller_ref(rs) is None:
            for d in self.d_informer.indexer.list(rs.metadata.namespace):
                if d.spec.selector is not None and not d.spec.selector.is_empty() \
                        and d.spec.selector.matches(rs.metadata.labels):
                    self.enqueue(d)

    def _pod_deleted(self, pod: Pod) -> None:
        """``deletePod``: Recreate waits for old pods to be gone."""
        ref = controller_ref(pod)
        if ref is None or ref.kind != "ReplicaSet":
            return
        rs = self.rs_informer.indexer.get(f"{pod.metadata.namespace}/{ref.name}")
        d = self._owner(rs) if rs is not None else None
        if d is not None and d.spec.strategy.type == "Recreate":
            self.enqueue(d)

    # -- sync ------------------------------------------------------------------------------

    def sync(self, key: str) -> None:
        """``syncDeployment``."""
        cached = self.d_informer.indexer.get(key)
        if cached is None:
            return
        d = copy_fields(cached, "metadata", "status")  # DeepCopy; the spec is never changed here
        if d.spec.selector is None or d.spec.selector.is_empty():
            self.record("SelectingAll", key, "This deployment is selecting all pods. A non-empty selector is required.")
            if d.status.observed_generation < d.metadata.generation:
                d.status.observed_generation = d.metadata.generation
                self._write_status(d)
            return
        rs_list = claim_objects(self.api, d, d.spec.selector,
                                self.rs_informer.indexer.list(d.metadata.namespace),
                                d.metadata.deletion_timestamp is not None)
        if d.metadata.deletion_timestamp is not None:
            new_rs, old_rss = self._get_all(d, rs_list, create=False)
            self._sync_deployment_status(old_rss + [new_rs], new_rs, d)
            return
        self._check_paused_conditions(d)
        if d.spec.paused or self._is_scaling_event(d, rs_list):
            self._sync_scale(d, rs_list)
        elif d.spec.strategy.type == "Recreate":
            self._rollout_recreate(d, rs_list)
        else:
            self._rollout_rolling(d, rs_list)

    def _write_status(self, d: Deployment) -> None:
        d.metadata.resource_version = self.api.update_status(d).metadata.resource_version

    # -- new and old ReplicaSets (sync.go) ----------------------------------------------------

    def _get_all(self, d: Deployment, rs_list: list[ReplicaSet],
                 create: bool) -> tuple[ReplicaSet | None, list[ReplicaSet]]:
        """``getAllReplicaSetsAndSyncRevision``: the new ReplicaSet (made if ``create``) and the old."""
        existing, old = self._find_new_and_old(d, rs_list)
        return self._get_new_replica_set(d, existing, old, create), old

    def _find_new_and_old(self, d: Deployment, rs_list: list[ReplicaSet]) -> tuple[ReplicaSet | None, list[ReplicaSet]]:
        """``FindNewReplicaSet`` (the oldest with the Deployment's template) and
        ``FindOldReplicaSets``. One sync asks several times with the same list and Deployment
        (its template unchanged), so the last answer is kept for that pair."""
        last = self._last_split
        if last is not None and last[0] is d and last[1] is rs_list:
            return last[2], list(last[3])
        ordered = _by_creation(rs_list)
        existing = next((rs for rs in ordered if du.equal_ignore_hash(rs.spec.template, d.spec.template)), None)
        old = [rs for rs in ordered if rs is not existing]
        self._last_split = (d, rs_list, existing, old)
        return existing, list(old)

    @staticmethod
    def _set_revision(d: Deployment, rev: str) -> bool:
        """``SetDeploymentRevision``: True if the annotation changed (the caller writes it
        with the status)."""
        if d.metadata.annotations.get(du.REVISION_ANNOTATION) == rev:
            return False
        d.metadata.annotations[du.REVISION_ANNOTATION] = rev
        return True

    def _get_new_replica_set(self, d: Deployment, existing: ReplicaSet | None, old: list[ReplicaSet],
                             create: bool) -> ReplicaSet | None:
        """``getNewReplicaSet``."""
        new_revision = str(max((du.revision(rs) for rs in old), default=0) + 1)
        now = self.env.now
        if existing is not None:
            # SetNewReplicaSetAnnotations(exists=true) on a copy of the annotations: the
            # ReplicaSet is copied only if it has to be written
            annotations = dict(existing.metadata.annotations)
            annotations_updated = du.sync_new_annotations(d, annotations, new_revision)
            if annotations_updated or existing.spec.min_ready_seconds != d.spec.min_ready_seconds:
                rs = deep_copy(existing)
                rs.metadata.annotations = annotations
                rs.spec.min_ready_seconds = d.spec.min_ready_seconds
                return self.api.update(rs)
            needs_update = self._set_revision(d, annotations.get(du.REVISION_ANNOTATION, ""))
            if d.spec.progress_deadline_seconds is not None and du.get_condition(d.status, "Progressing") is None:
                du.set_condition(d.status, du.new_condition("Progressing", "True", "FoundNewReplicaSet",
                                                            f'Found new replica set "{existing.metadata.name}"', now))
                needs_update = True
            if needs_update:
                self._write_status(d)
            return existing
        if not create:
            return None
        template = deep_copy(d.spec.template)
        pod_hash = du.compute_hash(template, d.status.collision_count)
        template.metadata.labels[du.DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY] = pod_hash
        selector = deep_copy(d.spec.selector)
        selector.match_labels[du.DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY] = pod_hash
        new_rs = ReplicaSet(
            metadata=ObjectMeta(name=f"{d.metadata.name}-{pod_hash}", namespace=d.metadata.namespace,
                                owner_references=[new_controller_ref(d)], labels=dict(template.metadata.labels)),
            spec=ReplicaSetSpec(replicas=0, min_ready_seconds=d.spec.min_ready_seconds, selector=selector,
                                template=template),
        )
        new_rs.spec.replicas = du.new_rs_new_replicas(d, old + [new_rs], new_rs)
        du.set_new_replica_set_annotations(d, new_rs, new_revision, exists=False)
        try:
            created = self.api.create(new_rs)
        except AlreadyExists:
            found = self.api.get("ReplicaSet", new_rs.metadata.name, d.metadata.namespace)
            ref = controller_ref(found)
            if ref is not None and ref.uid == d.metadata.uid and du.equal_ignore_hash(d.spec.template,
                                                                                       found.spec.template):
                return found
            d.status.collision_count = (d.status.collision_count or 0) + 1  # a hash collision
            self._write_status(d)
            raise
        except APIError as err:
            if d.spec.progress_deadline_seconds is not None:
                du.set_condition(d.status, du.new_condition(
                    "Progressing", "False", "ReplicaSetCreateError",
                    f'Failed to create new replica set "{new_rs.metadata.name}": {err}', now))
                self._write_status(d)
            raise
        if new_rs.spec.replicas:
            self.record("ScalingReplicaSet", d.key,
                        f"Scaled up replica set {created.metadata.name} from 0 to {new_rs.spec.replicas}")
        needs_update = self._set_revision(d, new_revision)
        if d.spec.progress_deadline_seconds is not None:
            du.set_condition(d.status, du.new_condition("Progressing", "True", "NewReplicaSetCreated",
                                                        f'Created new replica set "{created.metadata.name}"', now))
            needs_update = True
        if needs_update:
            self._write_status(d)
        return created

    def _scale_rs(self, rs: ReplicaSet, new_scale: int, d: Deployment) -> tuple[bool, ReplicaSet]:
        """``scaleReplicaSetAndRecordEvent``: set spec.replicas and the replica annotations."""
        old_scale = rs.spec.replicas or 0
        if old_scale == new_scale:
            return False, rs
        desired = d.spec.replicas or 0
        scaled = deep_copy(rs)
        scaled.spec.replicas = new_scale
        du.set_replicas_annotations(scaled, desired, desired + du.max_surge(d))
        scaled = self.api.update(scaled)
        direction = "up" if new_scale > old_scale else "down"
        self.record("ScalingReplicaSet", d.key,
                    f"Scaled {direction} replica set {rs.metadata.name} from {old_scale} to {new_scale}")
        return True, scaled

    # -- scaling (sync.go) -------------------------------------------------------------------

    def _is_scaling_event(self, d: Deployment, rs_list: list[ReplicaSet]) -> bool:
        """``isScalingEvent``: an active ReplicaSet's desired-replicas annotation differs."""
        new_rs, old = self._get_all(d, rs_list, create=False)
        for rs in _active(old + [new_rs]):
            desired = rs.metadata.annotations.get(du.DESIRED_REPLICAS_ANNOTATION)
            if desired is not None and desired != str(d.spec.replicas or 0):
                return True
        return False

    def _sync_scale(self, d: Deployment, rs_list: list[ReplicaSet]) -> None:
        """``sync``: scale (proportionally while a rollout is under way), clean up if paused."""
        new_rs, old = self._get_all(d, rs_list, create=False)
        self._scale(d, new_rs, old)
        if d.spec.paused:
            self._cleanup(old, d)
        self._sync_deployment_status(old + [new_rs], new_rs, d)

    def _scale(self, d: Deployment, new_rs: ReplicaSet | None, old: list[ReplicaSet]) -> None:
        """``scale``: one active ReplicaSet takes all; otherwise share the change in proportion
        to each ReplicaSet's size (``GetProportion``), leftovers to the largest."""
        desired = d.spec.replicas or 0
        active = _active(old + [new_rs])
        if len(active) <= 1:
            target = active[0] if active else (new_rs or (_by_creation(old)[-1] if old else None))
            if target is not None and target.spec.replicas != desired:
                self._scale_rs(target, desired, d)
            return
        if (new_rs is not None and new_rs.spec.replicas == desired and new_rs.status.available_replicas == desired
                and new_rs.metadata.annotations.get(du.DESIRED_REPLICAS_ANNOTATION) == str(desired)):
            for rs in _active(old):  # IsSaturated: old ones go to 0
                self._scale_rs(rs, 0, d)
            return
        if d.spec.strategy.type != "RollingUpdate":
            return
        allowed = desired + du.max_surge(d) if desired > 0 else 0
        to_add = allowed - sum(rs.spec.replicas or 0 for rs in active)
        if to_add > 0:  # ReplicaSetsBySizeNewer
            active.sort(key=lambda rs: (-(rs.spec.replicas or 0), -(parse_time(rs.metadata.creation_timestamp) or 0)))
        elif to_add < 0:  # ReplicaSetsBySizeOlder
            active.sort(key=lambda rs: (-(rs.spec.replicas or 0), parse_time(rs.metadata.creation_timestamp) or 0))
        added, sizes = 0, {}
        for rs in active:
            proportion = self._proportion(rs, d, to_add, added)
            sizes[rs.metadata.name] = (rs.spec.replicas or 0) + proportion
            added += proportion
        for i, rs in enumerate(active):
            if i == 0 and to_add != 0:
                sizes[rs.metadata.name] = max(sizes[rs.metadata.name] + to_add - added, 0)
            self._scale_rs(rs, sizes[rs.metadata.name], d)

    @staticmethod
    def _proportion(rs: ReplicaSet, d: Deployment, to_add: int, added: int) -> int:
        """``GetProportion`` / ``getReplicaSetFraction``."""
        size = rs.spec.replicas or 0
        if size == 0 or to_add == 0 or to_add == added:
            return 0
        desired = d.spec.replicas or 0
        if desired == 0:
            fraction = -size
        else:
            try:
                annotated = int(rs.metadata.annotations[du.MAX_REPLICAS_ANNOTATION])
            except (KeyError, ValueError):
                annotated = d.status.replicas
            fraction = int(round(size * (desired + du.max_surge(d)) / annotated)) - size if annotated else 0
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    def _cleanup(self, old: list[ReplicaSet], d: Deployment) -> None:
        """``cleanupDeployment``: delete the oldest revisions beyond revisionHistoryLimit."""
        limit = d.spec.revision_history_limit
        if limit is None:
            return
        alive = [rs for rs in old if rs.metadata.deletion_timestamp is None]
        for rs in sorted(alive, key=lambda rs: (du.revision(rs), rs.metadata.name))[:max(len(alive) - limit, 0)]:
            if rs.status.replicas or rs.spec.replicas or rs.metadata.generation > rs.status.observed_generation:
                continue
            self.api.delete("ReplicaSet", rs.metadata.name, rs.metadata.namespace)
            self.record("DeletedReplicaSet", d.key, rs.metadata.name)

    # -- rolling.go ----------------------------------------------------------------------------

    def _rollout_rolling(self, d: Deployment, rs_list: list[ReplicaSet]) -> None:
        new_rs, old = self._get_all(d, rs_list, create=True)
        all_rss = old + [new_rs]
        if self._reconcile_new(all_rss, new_rs, d) or self._reconcile_old(all_rss, _active(old), new_rs, d):
            self._sync_rollout_status(all_rss, new_rs, d)
            return
        if du.deployment_complete(d, d.status):
            self._cleanup(old, d)
        self._sync_rollout_status(all_rss, new_rs, d)

    def _reconcile_new(self, all_rss: list[ReplicaSet], new_rs: ReplicaSet, d: Deployment) -> bool:
        """``reconcileNewReplicaSet``."""
        desired = d.spec.replicas or 0
        if new_rs.spec.replicas == desired:
            return False
        if (new_rs.spec.replicas or 0) > desired:
            return self._scale_rs(new_rs, desired, d)[0]
        return self._scale_rs(new_rs, du.new_rs_new_replicas(d, all_rss, new_rs), d)[0]

    def _reconcile_old(self, all_rss: list[ReplicaSet], old: list[ReplicaSet], new_rs: ReplicaSet,
                       d: Deployment) -> bool:
        """``reconcileOldReplicaSets``: first drop unhealthy old replicas, then scale old ones
        down as far as ``desired - maxUnavailable`` available pods allow."""
        if sum(rs.spec.replicas or 0 for rs in old) == 0:
            return False
        min_available = (d.spec.replicas or 0) - du.max_unavailable(d)
        new_unavailable = (new_rs.spec.replicas or 0) - new_rs.status.available_replicas
        max_scaled_down = sum(rs.spec.replicas or 0 for rs in all_rss) - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        old, cleaned = self._cleanup_unhealthy(old, d, max_scaled_down)
        scaled = self._scale_down_old(old + [new_rs], old, d)
        return cleaned + scaled > 0

    def _cleanup_unhealthy(self, old: list[ReplicaSet], d: Deployment,
                           max_cleanup: int) -> tuple[list[ReplicaSet], int]:
        """``cleanupUnhealthyReplicas``: oldest first, remove replicas that are not available."""
        old = _by_creation(old)
        total = 0
        for i, rs in enumerate(old):
            if total >= max_cleanup:
                break
            replicas = rs.spec.replicas or 0
            if replicas == 0 or replicas == rs.status.available_replicas:
                continue
            count = min(max_cleanup - total, replicas - rs.status.available_replicas)
            old[i] = self._scale_rs(rs, replicas - count, d)[1]
            total += count
        return old, total

    def _scale_down_old(self, all_rss: list[ReplicaSet], old: list[ReplicaSet], d: Deployment) -> int:
        """``scaleDownOldReplicaSetsForRollingUpdate``."""
        min_available = (d.spec.replicas or 0) - du.max_unavailable(d)
        available = sum(rs.status.available_replicas for rs in all_rss if rs is not None)
        if available <= min_available:
            return 0
        total, target = 0, available - min_available
        for rs in _by_creation(old):
            if total >= target:
                break
            replicas = rs.spec.replicas or 0
            if replicas == 0:
                continue
            count = min(replicas, target - total)
            self._scale_rs(rs, replicas - count, d)
            total += count
        return total

    # -- recreate.go ---------------------------------------------------------------------------

    def _rollout_recreate(self, d: Deployment, rs_list: list[ReplicaSet]) -> None:
        new_rs, old = self._get_all(d, rs_list, create=False)
        scaled_down = False
        for rs in _active(old):
            scaled_down |= self._scale_rs(rs, 0, d)[0]
        if scaled_down or self._old_pods_running(new_rs, old):
            self._sync_rollout_status(old + [new_rs], new_rs, d)
            return
        if new_rs is None:
            new_rs, old = self._get_all(d, rs_list, create=True)
        self._scale_rs(new_rs, d.spec.replicas or 0, d)
        if du.deployment_complete(d, d.status):
            self._cleanup(old, d)
        self._sync_rollout_status(old + [new_rs], new_rs, d)

    def _old_pods_running(self, new_rs: ReplicaSet | None, old: list[ReplicaSet]) -> bool:
        """``oldPodsRunning``: an old ReplicaSet reports pods, or has a pod not Succeeded/Failed."""
        if sum(rs.status.replicas for rs in old) > 0:
            return True
        for rs in old:
            if new_rs is not None and rs.metadata.uid == new_rs.metadata.uid:
                continue
            for pod in self.pod_informer.indexer.by_owner(rs.metadata.uid):
                if pod.status.phase not in ("Succeeded", "Failed"):
                    return True
        return False

    # -- status (sync.go, progress.go) -------------------------------------------------------------

    def _with_available_condition(self, status: DeploymentStatus, d: Deployment) -> DeploymentStatus:
        if status.available_replicas >= (d.spec.replicas or 0) - du.max_unavailable(d):
            cond = du.new_condition("Available", "True", "MinimumReplicasAvailable",
                                    "Deployment has minimum availability.", self.env.now)
        else:
            cond = du.new_condition("Available", "False", "MinimumReplicasUnavailable",
                                    "Deployment does not have minimum availability.", self.env.now)
        du.set_condition(status, cond)
        return status

    def _sync_deployment_status(self, all_rss: list[ReplicaSet], new_rs: ReplicaSet | None, d: Deployment) -> None:
        status = self._with_available_condition(calculate_status(all_rss, new_rs, d), d)
        if status != d.status:
            d.status = status
            self._write_status(d)

    def _check_paused_conditions(self, d: Deployment) -> None:
        """``checkPausedConditions``: Progressing=Unknown DeploymentPaused / DeploymentResumed."""
        if d.spec.progress_deadline_seconds is None:
            return
        cond = du.get_condition(d.status, "Progressing")
        if cond is not None and cond.reason == "ProgressDeadlineExceeded":
            return
        paused_cond = cond is not None and cond.reason == "DeploymentPaused"
        if d.spec.paused == paused_cond:
            return
        reason, message = ("DeploymentPaused", "Deployment is paused") if d.spec.paused else \
            ("DeploymentResumed", "Deployment is resumed")
        du.set_condition(d.status, du.new_condition("Progressing", "Unknown", reason, message, self.env.now))
        self._write_status(d)

    def _sync_rollout_status(self, all_rss: list[ReplicaSet], new_rs: ReplicaSet | None, d: Deployment) -> None:
        """``syncRolloutStatus``: the Progressing condition, and a requeue for the deadline."""
        now = self.env.now
        status = self._with_available_condition(calculate_status(all_rss, new_rs, d), d)
        has_deadline = d.spec.progress_deadline_seconds is not None
        if not has_deadline:
            du.remove_condition(status, "Progressing")
        current = du.get_condition(d.status, "Progressing")
        complete = (status.replicas == status.updated_replicas and current is not None
                    and current.reason == "NewReplicaSetAvailable")
        what = f'ReplicaSet "{new_rs.metadata.name}"' if new_rs is not None else f'Deployment "{d.metadata.name}"'
        if has_deadline and not complete:
            if du.deployment_complete(d, status):
                du.set_condition(status, du.new_condition("Progressing", "True", "NewReplicaSetAvailable",
                                                          f"{what} has successfully progressed.", now))
            elif du.deployment_progressing(d, status):
                cond = du.new_condition("Progressing", "True", "ReplicaSetUpdated", f"{what} is progressing.", now)
                if current is not None:
                    if current.status == "True":
                        cond.last_transition_time = current.last_transition_time
                    du.remove_condition(status, "Progressing")
                du.set_condition(status, cond)
            elif du.deployment_timed_out(d, status, now):
                du.set_condition(status, du.new_condition("Progressing", "False", "ProgressDeadlineExceeded",
                                                          f"{what} has timed out progressing.", now))
        if status == d.status:
            self._requeue_stuck(d, status)
            return
        d.status = status
        self._write_status(d)

    def _requeue_stuck(self, d: Deployment, status: DeploymentStatus) -> None:
        """``requeueStuckDeployment``: check again when the progress deadline would pass."""
        cond = du.get_condition(d.status, "Progressing")
        if d.spec.progress_deadline_seconds is None or cond is None:
            return
        if du.deployment_complete(d, status) or cond.reason == "ProgressDeadlineExceeded":
            return
        after = (parse_time(cond.last_update_time) or 0.0) + d.spec.progress_deadline_seconds - self.env.now
        if after < 1:
            self.queue.add_rate_limited(d.key)
        else:
            self.queue.add_after(d.key, after + 1)

