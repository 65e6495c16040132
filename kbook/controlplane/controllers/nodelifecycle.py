"""The node lifecycle controller (``pkg/controller/nodelifecycle/node_lifecycle_controller.go``).

Every ``node-monitor-period`` it checks each node's heartbeat: the Ready condition's
``lastHeartbeatTime`` and the node Lease's ``renewTime`` (namespace ``kube-node-lease``).
When neither moved for ``node-monitor-grace-period`` it sets Ready (and the pressure
conditions) to Unknown, ``NodeStatusUnknown`` / ``Kubelet stopped posting node status.``,
marks the node's pods not Ready, and on the next pass queues the NoExecute taint
``node.kubernetes.io/unreachable`` (``not-ready`` for Ready=False) through a per-zone
rate-limited queue (``RateLimitedTimedQueue``, tried every 100 ms). Ready=True removes both.
Zone states follow ``ComputeZoneState``; when every zone is fully disrupted the controller
stops tainting and removes the taints ("master disruption mode").

Apart from that, every node add and update puts the node's name on ``nodeUpdateQueue``,
whose worker keeps the NoSchedule taints in step with the node's conditions and
``spec.unschedulable`` (``doNoScheduleTaintingPass``, ``nodeConditionToTaintKeyStatusMap``):
``not-ready`` / ``unreachable`` for Ready False / Unknown, ``memory-pressure``,
``disk-pressure``, ``pid-pressure``, ``network-unavailable`` for those conditions True, and
``unschedulable`` for a cordoned node. This is what keeps the scheduler off nodes that are
not ready: a Node is created with ``not-ready:NoSchedule`` (admission), and this pass
removes it once the node is Ready. As upstream, a failed pass is not retried until the
node changes again.

Simplified: a node first seen without a Ready condition is timed from when the controller
first saw it (upstream: its creationTimestamp); pods added to an already not-ready node are
not marked not Ready by the pod handler; the zone key is region + zone labels, with no
``exclude-disruption`` label handling.
"""

from __future__ import annotations

from dataclasses import dataclass

import simpy

from kbook.api import Node, NodeCondition, Taint
from kbook.controlplane.apiserver.types import API, APIError, NotFound
from kbook.controlplane.controllers.controller_utils import deep_copy
from kbook.controlplane.controllers.informer import EventHandler, InformerFactory
from kbook.controlplane.controllers.timeutil import parse_time, rfc3339
from kbook.controlplane.controllers.workqueue import RateLimitingQueue, TokenBucket
from kbook.eventlog import EventLog

__all__ = [
    "NodeLifecycleController",
    "NODE_MONITOR_PERIOD",
    "NODE_MONITOR_GRACE_PERIOD",
    "NODE_STARTUP_GRACE_PERIOD",
    "TAINT_UNREACHABLE",
    "TAINT_NOT_READY",
    "TAINT_MEMORY_PRESSURE",
    "TAINT_DISK_PRESSURE",
    "TAINT_NETWORK_UNAVAILABLE",
    "TAINT_PID_PRESSURE",
    "TAINT_UNSCHEDULABLE",
    "NODE_CONDITION_TO_TAINT_KEY_STATUS",
    "swap_node_controller_taint",
    "NAMESPACE_NODE_LEASE",
    "compute_zone_state",
]

NODE_MONITOR_PERIOD = 5.0  # --node-monitor-period
NODE_MONITOR_GRACE_PERIOD = 50.0  # --node-monitor-grace-period (40 s before v1.32)
NODE_STARTUP_GRACE_PERIOD = 60.0  # --node-startup-grace-period
NODE_EVICTION_PERIOD = 0.1  # scheduler.NodeEvictionPeriod
EVICTION_LIMITER_QPS = 0.1  # --node-eviction-rate
SECONDARY_EVICTION_LIMITER_QPS = 0.01  # --secondary-node-eviction-rate
LARGE_CLUSTER_THRESHOLD = 50  # --large-cluster-size-threshold
UNHEALTHY_ZONE_THRESHOLD = 0.55  # --unhealthy-zone-threshold
NAMESPACE_NODE_LEASE = "kube-node-lease"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"  # v1.TaintNodeUnreachable
TAINT_NOT_READY = "node.kubernetes.io/not-ready"  # v1.TaintNodeNotReady
TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
TAINT_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"
TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
NO_SCHEDULE, NO_EXECUTE = "NoSchedule", "NoExecute"
# nodeConditionToTaintKeyStatusMap: condition type -> {condition status: NoSchedule taint key}
NODE_CONDITION_TO_TAINT_KEY_STATUS = {
    "Ready": {"False": TAINT_NOT_READY, "Unknown": TAINT_UNREACHABLE},
    "MemoryPressure": {"True": TAINT_MEMORY_PRESSURE},
    "DiskPressure": {"True": TAINT_DISK_PRESSURE},
    "NetworkUnavailable": {"True": TAINT_NETWORK_UNAVAILABLE},
    "PIDPressure": {"True": TAINT_PID_PRESSURE},
}
# taintKeyToNodeConditionMap: the keys of the taints that mirror a condition
_CONDITION_TAINT_KEYS = frozenset(k for by_status in NODE_CONDITION_TO_TAINT_KEY_STATUS.values()
                                  for k in by_status.values())
_STATUS_TAINT = {"False": TAINT_NOT_READY, "Unknown": TAINT_UNREACHABLE}
_WATCHED_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
INITIAL, NORMAL, FULL_DISRUPTION, PARTIAL_DISRUPTION = "Initial", "Normal", "FullDisruption", "PartialDisruption"


def compute_zone_state(ready_statuses: list[str | None]) -> tuple[int, str]:
    """``ComputeZoneState``: (not-ready count, Normal / PartialDisruption / FullDisruption)."""
    ready = sum(s == "True" for s in ready_statuses)
    not_ready = len(ready_statuses) - ready
    if ready == 0 and not_ready > 0:
        return not_ready, FULL_DISRUPTION
    if not_ready > 2 and not_ready / len(ready_statuses) >= UNHEALTHY_ZONE_THRESHOLD:
        return not_ready, PARTIAL_DISRUPTION
    return not_ready, NORMAL


def zone_key(node: Node) -> str:
    """``GetZoneKey``: region and zone from the topology labels."""
    labels = node.metadata.labels
    region = labels.get("topology.kubernetes.io/region", "")
    zone = labels.get("topology.kubernetes.io/zone", "")
    return f"{region}:\x00:{zone}" if region or zone else ""


@dataclass
class _Health:
    """``nodeHealthData``."""

    probe_timestamp: float
    ready_transition_timestamp: float
    heartbeat: str | None
    transition: str | None
    renew_time: float | None


class _TaintQueue:
    """``RateLimitedTimedQueue`` for one zone: a unique FIFO of node names and a token bucket
    (burst 1); a name stays known until removed, so it is queued once per outage."""

    def __init__(self, qps: float, clock):
        self.queue: list[str] = []
        self.known: set[str] = set()
        self._clock = clock
        self.swap_limiter(qps)

    def swap_limiter(self, qps: float) -> None:
        self.qps = qps
        self.limiter = TokenBucket(qps, 1, self._clock)

    def add(self, name: str) -> None:
        if name not in self.known:
            self.known.add(name)
            self.queue.append(name)

    def remove(self, name: str) -> None:
        self.known.discard(name)
        if name in self.queue:
            self.queue.remove(name)


class NodeLifecycleController:
    """``nodelifecycle.Controller``. ``start()`` registers the monitor and taint processes."""

    name = "node-lifecycle-controller"

    def __init__(self, env: simpy.Environment, api: API, *, informers: InformerFactory | None = None,
                 log: EventLog | None = None, node_monitor_period: float = NODE_MONITOR_PERIOD,
                 node_monitor_grace_period: float = NODE_MONITOR_GRACE_PERIOD,
                 node_startup_grace_period: float = NODE_STARTUP_GRACE_PERIOD):
        self.env, self.api, self.log = env, api, log
        self.informers = informers or InformerFactory(env, api, log=log)
        self._own_informers = informers is None
        self.node_monitor_period = node_monitor_period
        self.node_monitor_grace_period = node_monitor_grace_period
        self.node_startup_grace_period = node_startup_grace_period
        self.node_informer = self.informers.informer("Node")
        self.lease_informer = self.informers.informer("Lease", NAMESPACE_NODE_LEASE)
        self.pod_informer = self.informers.informer("Pod")
        self.pod_informer.indexer.add_index("nodeName", lambda p: [p.spec.node_name] if p.spec.node_name else [])
        self.health: dict[str, _Health] = {}
        self.zone_states: dict[str, str] = {}
        self.taint_queues: dict[str, _TaintQueue] = {}
        self.node_update_queue = RateLimitingQueue(env, name="node_lifecycle_controller")
        self.node_informer.add_event_handler(EventHandler(
            on_add=lambda node: self.node_update_queue.add(node.metadata.name),
            on_update=lambda _, node: self.node_update_queue.add(node.metadata.name)))
        self._running = False
        self._wake = env.event()

    def start(self) -> None:
        if self._own_informers:
            self.informers.start()
        self._running = True
        self.env.process(self._monitor_loop())
        self.env.process(self._taint_loop())
        self.env.process(self._node_processing_worker())

    def stop(self) -> None:
        self._running = False
        self.node_update_queue.shut_down()
        if not self._wake.triggered:
            self._wake.succeed()
        if self._own_informers:
            self.informers.stop()

    def record(self, verb: str, obj: str, detail: str = "") -> None:
        if self.log is not None:
            self.log.record(self.env.now, self.name, verb, obj, detail)

    def _monitor_loop(self):
        while not self.informers.has_synced():
            if not self._running:
                return
            yield self.env.timeout(0.1)
        while self._running:
            self.monitor_node_health()
            yield self.env.timeout(self.node_monitor_period)

    def _taint_loop(self):
        """Every 100 ms while a zone queue holds nodes; asleep (no events) otherwise."""
        while self._running:
            if any(q.queue for q in self.taint_queues.values()):
                self._do_no_execute_tainting_pass()
                yield self.env.timeout(NODE_EVICTION_PERIOD)
            else:
                self._wake = self.env.event()
                yield self._wake

    def _node_processing_worker(self):
        """``doNodeProcessingPassWorker``: once the caches have synced, one NoSchedule pass
        per queued node name. The passes take no simulated time, so one worker does what
        upstream's eight do, and it works through every name queued by the time it runs in
        that one step (as the informer applies its events), not one name per step."""
        while not self.informers.has_synced():
            if not self._running:
                return
            yield self.env.timeout(0.1)
        while True:
            name = yield self.node_update_queue.get()
            if name is None:
                return
            self._node_processing_pass(name)
            while len(self.node_update_queue):  # the names queued meanwhile, in this step
                self._node_processing_pass(self.node_update_queue.get().value)

    def _node_processing_pass(self, name: str) -> None:
        try:
            self.do_no_schedule_tainting_pass(name)
        finally:
            self.node_update_queue.done(name)

    def do_no_schedule_tainting_pass(self, name: str) -> None:
        """``doNoScheduleTaintingPass``: the NoSchedule taints the node's conditions and
        ``spec.unschedulable`` call for, against the condition and unschedulable taints it
        has (``TaintSetDiff``), swapped in with ``SwapNodeControllerTaint``."""
        node = self.node_informer.indexer.get(name)
        if node is None:
            return
        want = []
        for cond in node.status.conditions:
            key = NODE_CONDITION_TO_TAINT_KEY_STATUS.get(cond.type, {}).get(cond.status)
            if key is not None:
                want.append(Taint(key=key, effect=NO_SCHEDULE))
        if node.spec.unschedulable:
            want.append(Taint(key=TAINT_UNSCHEDULABLE, effect=NO_SCHEDULE))
        have = [t for t in node.spec.taints
                if t.effect == NO_SCHEDULE and (t.key == TAINT_UNSCHEDULABLE or t.key in _CONDITION_TAINT_KEYS)]
        add = [t for t in want if not _taint_exists(have, t)]
        remove = [t for t in have if not _taint_exists(want, t)]
        if not add and not remove:
            return
        try:
            written = swap_node_controller_taint(self.api, name, add, remove, self.env.now)
        except APIError as err:
            self.record("TaintUpdateFailed", name, str(err))
            return
        if written is not None and add:
            self.record("TaintNoSchedule", name, ",".join(t.key for t in add))
        if written is not None and remove:
            self.record("RemoveTaintNoSchedule", name, ",".join(t.key for t in remove))

    def _queue_taint(self, queue: _TaintQueue, name: str) -> None:
        queue.add(name)
        if not self._wake.triggered:
            self._wake.succeed()

    # -- monitorNodeHealth ----------------------------------------------------------------

    def monitor_node_health(self) -> None:
        nodes = self.node_informer.indexer.list()
        for name in set(self.health) - {n.metadata.name for n in nodes}:
            del self.health[name]
        zone_conditions: dict[str, list[str | None]] = {}
        for node in nodes:
            zone = zone_key(node)
            if zone not in self.taint_queues:
                self.taint_queues[zone] = _TaintQueue(EVICTION_LIMITER_QPS, lambda: self.env.now)
                self.zone_states[zone] = INITIAL
            try:
                observed, current = self._try_update_node_health(node)
            except APIError as err:
                self.record("UpdateNodeHealthFailed", node.metadata.name, str(err))
                continue
            zone_conditions.setdefault(zone, []).append(current.status if current else None)
            if current is None:
                continue
            self._process_taint_based_eviction(node, observed.status)
            if current.status != "True" and observed.status == "True":
                self.record("NodeNotReady", node.metadata.name,
                            f"Node {node.metadata.name} status is now: NodeNotReady")
                self._mark_pods_not_ready(node.metadata.name)
        self._handle_disruption(zone_conditions, nodes)

    def _try_update_node_health(self, node: Node) -> tuple[NodeCondition, NodeCondition | None]:
        """``tryUpdateNodeHealth``: refresh the probe time on a new heartbeat or Lease renewal;
        past the grace period set the conditions to Unknown. Returns the Ready condition as
        observed and as it is now. ``node`` is the informer's: upstream's loop deep-copies
        every node, this copies it only to rewrite its conditions."""
        now = self.env.now
        name = node.metadata.name
        current = _condition(node, "Ready")
        if current is None:
            observed = NodeCondition(type="Ready", status="Unknown")
            grace = self.node_startup_grace_period
        else:
            observed = current  # the cached node is not changed: no copy needed
            grace = self.node_monitor_grace_period
        health = self.health.get(name)
        beat = current.last_heartbeat_time if current else None
        transition = current.last_transition_time if current else None
        if health is None or (current is not None and health.heartbeat is None):
            health = _Health(now, now, beat, transition, None)
        elif current is not None and beat != health.heartbeat:
            ready_transition = now if transition != health.transition else health.ready_transition_timestamp
            health = _Health(now, ready_transition, beat, transition, health.renew_time)
        lease = self.lease_informer.indexer.get(f"{NAMESPACE_NODE_LEASE}/{name}")
        renew = parse_time(lease.spec.renew_time) if lease is not None else None
        if renew is not None and (health.renew_time is None or health.renew_time < renew):
            health.renew_time = renew
            health.probe_timestamp = now
        self.health[name] = health
        if now <= health.probe_timestamp + grace:
            return observed, current
        node = deep_copy(node)
        changed = False
        for ctype in _WATCHED_CONDITIONS:
            cond = _condition(node, ctype)
            if cond is None:
                node.status.conditions.append(NodeCondition(
                    type=ctype, status="Unknown", reason="NodeStatusNeverUpdated",
                    message="Kubelet never posted node status.", last_heartbeat_time=node.metadata.creation_timestamp,
                    last_transition_time=rfc3339(now)))
                changed = True
            elif cond.status != "Unknown":
                cond.status, cond.reason = "Unknown", "NodeStatusUnknown"
                cond.message = "Kubelet stopped posting node status."
                cond.last_transition_time = rfc3339(now)
                changed = True
        current = _condition(node, "Ready")
        if changed and current != observed:
            self.api.update_status(node)
            self.record("NodeStatusUnknown", name,
                        f"Ready=Unknown after {now - health.probe_timestamp:g}s without a heartbeat")
            health.ready_transition_timestamp = now
        return observed, current

    def _mark_pods_not_ready(self, node_name: str) -> None:
        """``MarkPodsNotReady``: set each pod's Ready condition to False."""
        for cached in self.pod_informer.indexer.by_index("nodeName", node_name):
            pod = deep_copy(cached)
            cond = next((c for c in pod.status.conditions if c.type == "Ready"), None)
            if cond is None or cond.status == "False":
                continue
            cond.status, cond.last_transition_time = "False", rfc3339(self.env.now)
            try:
                self.api.update_status(pod)
            except APIError as err:
                self.record("MarkPodNotReadyFailed", pod.key, str(err))

    # -- NoExecute taints ---------------------------------------------------------------------

    def _process_taint_based_eviction(self, node: Node, observed_status: str) -> None:
        """``processTaintBaseEviction``: swap at once if the other taint is there, else queue."""
        name = node.metadata.name
        queue = self.taint_queues[zone_key(node)]
        if observed_status in _STATUS_TAINT:
            want = _STATUS_TAINT[observed_status]
            other = TAINT_UNREACHABLE if want == TAINT_NOT_READY else TAINT_NOT_READY
            if _has_taint(node, other):
                self._swap_taints(node, want, other)
            else:
                if not _has_taint(node, want):
                    queue.remove(name)
                self._queue_taint(queue, name)
        elif observed_status == "True":
            self._mark_reachable(node)

    def _mark_reachable(self, node: Node) -> None:
        """``markNodeAsReachable``: remove both taints and forget the queued tainting."""
        self.taint_queues[zone_key(node)].remove(node.metadata.name)
        if _has_taint(node, TAINT_UNREACHABLE) or _has_taint(node, TAINT_NOT_READY):
            self._swap_taints(node, None, TAINT_UNREACHABLE, TAINT_NOT_READY)

    def _swap_taints(self, node: Node, add: str | None, *remove: str) -> bool:
        """``SwapNodeControllerTaint`` with NoExecute taints; False if the update failed."""
        try:
            written = swap_node_controller_taint(
                self.api, node.metadata.name, [Taint(key=add, effect=NO_EXECUTE)] if add else [],
                [Taint(key=key, effect=NO_EXECUTE) for key in remove], self.env.now)
        except APIError as err:
            self.record("TaintUpdateFailed", node.metadata.name, str(err))
            return False
        if written is not None:
            self.record("Taint" if add else "RemoveTaint", node.metadata.name, add or ",".join(remove))
        return True

    def _do_no_execute_tainting_pass(self) -> None:
        """``doNoExecuteTaintingPass``: each zone's queue, as its rate limiter allows."""
        for queue in self.taint_queues.values():
            while queue.queue:
                if not queue.limiter.try_accept():
                    break
                name = queue.queue.pop(0)
                node = self.node_informer.indexer.get(name)
                cond = _condition(node, "Ready") if node is not None else None
                if cond is None or cond.status not in _STATUS_TAINT:
                    continue
                want = _STATUS_TAINT[cond.status]
                other = TAINT_UNREACHABLE if want == TAINT_NOT_READY else TAINT_NOT_READY
                if not self._swap_taints(node, want, other):
                    queue.queue.append(name)

    # -- zones ----------------------------------------------------------------------------------

    def _handle_disruption(self, zone_conditions: dict[str, list[str | None]], nodes: list[Node]) -> None:
        """``handleDisruption``: per-zone taint rates; stop and untaint all when every zone is
        fully disrupted; on leaving that mode restart every node's grace period."""
        new_states = {zone: compute_zone_state(conds)[1] for zone, conds in zone_conditions.items()}
        if new_states == self.zone_states and FULL_DISRUPTION not in new_states.values():
            return  # no zone changed state: upstream's loops below would change nothing
        for zone in [z for z in self.zone_states if z not in zone_conditions]:
            del self.zone_states[zone]
        all_are_full = bool(new_states) and all(s == FULL_DISRUPTION for s in new_states.values())
        all_were_full = bool(self.zone_states) and all(s == FULL_DISRUPTION for s in self.zone_states.values())
        if all_are_full and all_were_full:
            return
        if all_are_full:
            self.record("MasterDisruptionMode", "", "all nodes are not Ready: no taints, no evictions")
            for node in nodes:
                self._mark_reachable(node)
            for zone in self.zone_states:
                self.taint_queues[zone].swap_limiter(0.0)
                self.zone_states[zone] = FULL_DISRUPTION
            return
        if all_were_full:
            self.record("MasterDisruptionModeExit", "", "some nodes are Ready again")
            for health in self.health.values():
                health.probe_timestamp = health.ready_transition_timestamp = self.env.now
        for zone, state in new_states.items():
            if self.zone_states.get(zone) != state or all_were_full:
                self.taint_queues[zone].swap_limiter(self._zone_qps(len(zone_conditions[zone]), state))
                self.zone_states[zone] = state

    @staticmethod
    def _zone_qps(size: int, state: str) -> float:
        """``setLimiterInZone``: Normal and FullDisruption at the eviction rate; partial
        disruption at the secondary rate, or 0 in a small zone."""
        if state == PARTIAL_DISRUPTION:
            return SECONDARY_EVICTION_LIMITER_QPS if size > LARGE_CLUSTER_THRESHOLD else 0.0
        return EVICTION_LIMITER_QPS


def _condition(node: Node, ctype: str) -> NodeCondition | None:
    return next((c for c in node.status.conditions if c.type == ctype), None)


def _has_taint(node: Node, key: str) -> bool:
    return any(t.key == key and t.effect == NO_EXECUTE for t in node.spec.taints)


def _taint_exists(taints: list[Taint], taint: Taint) -> bool:
    """``TaintExists``: a taint with the same key and effect (``MatchTaint``)."""
    return any(t.key == taint.key and t.effect == taint.effect for t in taints)


def swap_node_controller_taint(api: API, name: str, add: list[Taint], remove: list[Taint],
                               now: float) -> Node | None:
    """``SwapNodeControllerTaint``: on a fresh copy of node ``name``, append each taint of
    ``add`` that it lacks (same key and effect), stamped ``timeAdded=now``, and drop those
    matching ``remove``. One update (upstream makes one for the additions and one for the
    removals). Returns the updated node, or None when nothing changed or the node is gone;
    a failed update raises its APIError."""
    try:
        fresh = api.get("Node", name)
    except NotFound:
        return None
    taints = [t for t in fresh.spec.taints if not _taint_exists(remove, t)]
    for taint in add:
        if not _taint_exists(taints, taint):
            taints.append(Taint(key=taint.key, value=taint.value, effect=taint.effect, time_added=rfc3339(now)))
    if taints == fresh.spec.taints:
        return None
    fresh.spec.taints = taints
    return api.update(fresh)

