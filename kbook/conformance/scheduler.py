"""The scheduler checkers for the plugin kinds: a case's pod and nodes become kbook
objects, the plugin runs as the Go test drives it, and the result is compared.

Kinds: ``score`` (PreScore if ``run_prescore``, Score per node, NormalizeScore if
``apply_normalize_score``), ``filter`` (PreFilter, then Filter on the one node; a PreFilter
``Skip`` means the framework skips Filter), ``default_normalize_score``,
``broken_linear_function``, ``queue_sort_less`` and ``normalized_image_name``.

Units (the file's ``schema``): ``cpu_milli`` millicores, ``memory_bytes``,
``ephemeral_storage_bytes``, ``pods`` and extended resources as plain numbers. A request
key that is absent is not requested. Any other field of a pod or node is decoded as its
Kubernetes wire form, so a field kbook does not know is a difference, never ignored.
Cases from newer upstream (``k8s_version`` not v1.28) run with
:data:`~kbook.scheduler.plugins.feature.NEWER_UPSTREAM`; ``expected_latest`` is checked
that way too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from kbook.api import Node, Pod
from kbook.api.codec import decode_object
from kbook.conformance.runner import CHECKERS, Case, CaseError, guarded
from kbook.scheduler.config import ConfigError
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.plugins import (
    imagelocality, nodeaffinity, nodename, nodeports, nodeunschedulable, tainttoleration,
)
from kbook.scheduler.plugins.feature import NEWER_UPSTREAM, V1_28, Features
from kbook.scheduler.plugins.helper import FunctionShapePoint, build_broken_linear_function, default_normalize_score
from kbook.scheduler.plugins.noderesources import balanced_allocation, fit
from kbook.scheduler.plugins.queuesort import PrioritySort
from kbook.scheduler.snapshot import Snapshot, normalized_image_name
from kbook.scheduler.status import Code, Status, code_of
from kbook.scheduler.types import NodeInfo, NodeScore, PodInfo, QueuedPodInfo, pod_resource_request

__all__ = ["PLUGINS", "build_pod", "build_node", "check_score", "check_filter"]

# The schema's unit keys -> resource names (values are millicores for cpu, units otherwise).
_UNIT_KEYS = {"cpu_milli": "cpu", "memory_bytes": "memory", "ephemeral_storage_bytes": "ephemeral-storage"}
_META_KEYS = ("name", "namespace", "labels", "annotations", "uid")

# plugin name -> factory(args, handle, features)
PLUGINS: dict[str, Callable[[dict[str, Any], Any, Features], Any]] = {
    fit.NAME: fit.new,
    balanced_allocation.NAME: balanced_allocation.new,
    imagelocality.NAME: imagelocality.new,
    tainttoleration.NAME: lambda args, handle, features: tainttoleration.new(args, handle),
    nodeaffinity.NAME: lambda args, handle, features: nodeaffinity.new(args, handle),
    nodename.NAME: lambda args, handle, features: nodename.new(args, handle),
    nodeunschedulable.NAME: lambda args, handle, features: nodeunschedulable.new(args, handle),
    nodeports.NAME: lambda args, handle, features: nodeports.new(args, handle),
}


@dataclass
class _Handle:
    """What the checked plugins use of ``framework.Handle``: the snapshot."""

    snapshot: Snapshot


def _resources(values: dict[str, Any]) -> dict[str, str]:
    """Schema units -> a wire ``ResourceList`` (``"1500m"`` for cpu)."""
    out = {}
    for key, value in values.items():
        name = _UNIT_KEYS.get(key, key)
        out[name] = f"{value}m" if name == "cpu" else str(value)
    return out


def _port(p: Any) -> Any:
    """A container port: wire form, or node_ports_test.go's ``"PROTO/IP/PORT"`` host port."""
    if isinstance(p, str) and p.count("/") == 2:
        protocol, ip, port = p.split("/")
        return {"protocol": protocol, "hostIP": ip, "hostPort": int(port)}
    return p


def _container(c: dict[str, Any]) -> dict[str, Any]:
    wire = {k: v for k, v in c.items() if k not in ("requests", "limits", "hostPorts")}
    resources = {k: _resources(c[k]) for k in ("requests", "limits") if k in c}
    if resources:
        wire["resources"] = resources
    ports = list(c.get("ports") or []) + list(c.get("hostPorts") or [])
    if ports:
        wire["ports"] = [_port(p) for p in ports]
    return wire


def _decode(cls: type, wire: dict[str, Any], what: str) -> Any:
    errors: list[str] = []
    obj = decode_object(cls, wire, errors)
    if errors:
        raise CaseError(f"{what}: " + "; ".join(errors))
    return obj


def build_pod(p: dict[str, Any], what: str = "pod") -> Pod:
    """A vector's pod: metadata keys, containers with schema-unit requests and host ports
    (``hostPorts`` of a container or of the pod), the rest of ``spec`` in wire form
    (``nodeName``, ``nodeSelector``, ``affinity``, ``tolerations``, ``overhead``, ...)."""
    spec = {k: v for k, v in p.items() if k not in _META_KEYS and k != "hostPorts"}
    if p.get("hostPorts"):  # pod-level host ports: the first container's
        containers = [dict(c) for c in spec.get("containers") or [{}]]
        containers[0]["hostPorts"] = list(containers[0].get("hostPorts") or []) + list(p["hostPorts"])
        spec["containers"] = containers
    for key in ("containers", "initContainers"):
        if key in spec:
            spec[key] = [_container(c) for c in spec[key]]
    if "overhead" in spec:
        spec["overhead"] = _resources(spec["overhead"])
    meta = {k: p[k] for k in _META_KEYS if k in p}
    return _decode(Pod, {"metadata": meta, "spec": spec}, what)


_NODE_KEYS = {"name", "labels", "allocatable", "capacity", "images", "taints", "unschedulable", "pods"}


def build_node(n: dict[str, Any], what: str = "node") -> Node:
    """A vector's node: name, labels, allocatable (schema units), images, taints, unschedulable."""
    unknown = sorted(set(n) - _NODE_KEYS)
    if unknown:
        raise CaseError(f"{what}: unknown field(s) {', '.join(unknown)}")
    status = {k: _resources(n[k]) for k in ("allocatable", "capacity") if k in n}
    if "images" in n:
        status["images"] = n["images"]
    spec = {k: n[k] for k in ("taints", "unschedulable") if k in n}
    meta = {k: n[k] for k in ("name", "labels") if k in n}
    return _decode(Node, {"metadata": meta, "spec": spec, "status": status}, what)


def _features(case: Case) -> Features:
    return V1_28 if str(case.data.get("k8s_version", "v1.28")).startswith("v1.28") else NEWER_UPSTREAM


def _new_plugin(case: Case, handle: Any, features: Features,
                expected: dict[str, Any]) -> tuple[Any, list[str]]:
    """The case's plugin built from its args; (None, differences) when it cannot be, or
    (None, []) when it must not be and is not (``expected.config_error``)."""
    data = case.data
    factory = PLUGINS.get(data.get("plugin", ""))
    if factory is None:
        return None, [f"unknown plugin {data.get('plugin')!r} for kind {case.kind!r}"]
    args = dict(data.get("args") or {})
    strategy = data.get("strategy")
    if strategy is not None:
        given = (args.get("scoringStrategy") or {}).get("type")
        if given is None:
            args["scoringStrategy"] = {**(args.get("scoringStrategy") or {}), "type": strategy}
        elif given != strategy:
            return None, [f"strategy {strategy!r} but args say {given!r}"]
    want_error = expected.get("config_error")
    try:
        plugin = factory(args, handle, features)
    except ConfigError as e:
        if want_error is None:
            return None, [f"plugin args refused: {e}"]
        return None, [] if want_error in str(e) else [f"config error {str(e)!r} does not name {want_error!r}"]
    if want_error is not None:
        return None, [f"args accepted, want a config error naming {want_error!r}"]
    return plugin, []


def _status_diff(what: str, got: Status | None, code: str, reasons: list[str] | None) -> list[str]:
    got_code, got_reasons = str(code_of(got)), (got.reasons if got is not None else [])
    if got_code != code or (reasons is not None and got_reasons != reasons):
        return [f"{what}: got {got_code} {got_reasons}, want {code} {reasons if reasons is not None else ''}".rstrip()]
    return []


def check_score(case: Case) -> list[str]:
    """A ``score`` case: scores per node in node order (after NormalizeScore when asked),
    the Score status code, PreScore's status where the case gives it, and
    ``expected_latest`` under newer upstream."""
    diffs = _score_diffs(case, _features(case), case.data.get("expected") or {}, "")
    if "expected_latest" in case.data:
        diffs += _score_diffs(case, NEWER_UPSTREAM, case.data["expected_latest"], " (newer upstream)")
    return diffs


def _score_diffs(case: Case, features: Features, expected: dict[str, Any], where: str) -> list[str]:
    data = case.data
    pod = build_pod(data.get("pod") or {})
    nodes = [build_node(n, f"nodes[{i}]") for i, n in enumerate(data.get("nodes") or [])]
    bound = [build_pod(p, f"nodes[{i}].pods[{j}]")
             for i, n in enumerate(data.get("nodes") or []) for j, p in enumerate(n.get("pods") or [])]
    snapshot = Snapshot.of(nodes, bound)
    plugin, diffs = _new_plugin(case, _Handle(snapshot), features, expected)
    if plugin is None:
        return diffs
    if not hasattr(plugin, "score"):
        return [f"{plugin.name} has no Score"]
    if "scores" not in expected and "prescore_status" not in expected:
        return [f"the case{where} expects neither scores nor a PreScore status"]
    state = CycleState()
    if data.get("run_prescore") and hasattr(plugin, "pre_score"):  # ImageLocality has none
        status = plugin.pre_score(state, pod, snapshot.node_info_list)
        if "prescore_status" in expected:
            diffs += _status_diff(f"PreScore{where}", status, expected["prescore_status"], None)
        elif code_of(status) not in (Code.SUCCESS, Code.SKIP):
            diffs.append(f"PreScore{where} returned {code_of(status)}: {status}")
    if "scores" not in expected:
        return diffs
    want_code = expected.get("status", "Success")
    scores = []
    for info in snapshot.node_info_list:
        score, status = plugin.score(state, pod, info)
        diffs += _status_diff(f"Score({info.name}){where}", status, want_code, None)
        scores.append(NodeScore(info.name, score))
    if data.get("apply_normalize_score"):
        if not hasattr(plugin, "normalize_score"):
            return diffs + [f"{plugin.name} has no NormalizeScore"]
        plugin.normalize_score(state, pod, scores)
    got = [(s.name, s.score) for s in scores]
    want = [(s["node"], s["score"]) for s in expected["scores"]]
    if got != want:
        diffs.append(f"scores{where} {got} != {want}")
    return diffs


def _run_filter(case: Case, features: Features,
                expected: dict[str, Any]) -> tuple[Any, NodeInfo, Pod, list[Status | None], list[str]]:
    """PreFilter then Filter on the case's node: (plugin, node info, pod, the statuses the
    case may mean, differences). A PreFilter ``Skip`` means no Filter (the framework's
    rule); after a PreFilter rejection, which the framework reports, the Go tests still
    run Filter: either status is accepted. ``prefilter_status`` is checked where given."""
    data = case.data
    pod = build_pod(data.get("pod") or {})
    n = data.get("node") or {}
    node_info = NodeInfo(build_node(n), [build_pod(p, f"node.pods[{j}]") for j, p in enumerate(n.get("pods") or [])])
    plugin, diffs = _new_plugin(case, _Handle(Snapshot([node_info])), features, expected)
    if plugin is None:
        return None, node_info, pod, [], diffs
    if not hasattr(plugin, "filter"):
        return plugin, node_info, pod, [], [f"{plugin.name} has no Filter"]
    state = CycleState()
    outcomes: list[Status | None] = []
    if hasattr(plugin, "pre_filter"):
        _, status = plugin.pre_filter(state, pod)
        if "prefilter_status" in expected:
            diffs += _status_diff("PreFilter", status, expected["prefilter_status"], None)
        if code_of(status) == Code.SKIP:
            return plugin, node_info, pod, [None], diffs
        if status is not None and status.is_rejected():
            outcomes.append(status)
        elif code_of(status) != Code.SUCCESS:
            return plugin, node_info, pod, [], diffs + [f"PreFilter returned {code_of(status)}: {status}"]
    outcomes.append(plugin.filter(state, pod, node_info))
    return plugin, node_info, pod, outcomes, diffs


def _filter_diff(outcomes: list[Status | None], want: dict[str, Any], what: str) -> list[str]:
    code, reasons = want.get("code", "Success"), list(want.get("reasons") or [])
    per_outcome = [_status_diff(what, s, code, reasons) for s in outcomes]
    return [] if any(not d for d in per_outcome) else per_outcome[-1]


def check_filter(case: Case) -> list[str]:
    """A ``filter`` case: the status code and reasons, NodeResourcesFit's insufficient
    resources where given, and ``expected_latest`` under newer upstream."""
    expected = case.data.get("expected") or {}
    plugin, node_info, pod, outcomes, diffs = _run_filter(case, _features(case), expected)
    if plugin is None or diffs:
        return diffs
    diffs += _filter_diff(outcomes, expected, "Filter")
    if "insufficient_resources" in expected:
        if not isinstance(plugin, fit.Fit):
            return diffs + [f"insufficient_resources given for {plugin.name}"]
        got = [{"resource": r.resource_name, "reason": r.reason, "requested": r.requested, "used": r.used,
                "capacity": r.capacity}
               for r in fit.fits_request(pod_resource_request(pod), node_info, plugin.ignored_resources,
                                         plugin.ignored_resource_groups)]
        if got != expected["insufficient_resources"]:
            diffs.append(f"insufficient resources {got} != {expected['insufficient_resources']}")
    if "expected_latest" in case.data:
        latest = case.data["expected_latest"]
        _, _, _, outcomes, latest_diffs = _run_filter(case, NEWER_UPSTREAM, latest)
        diffs += latest_diffs or _filter_diff(outcomes, latest, "Filter (newer upstream)")
    return diffs


def check_default_normalize_score(case: Case) -> list[str]:
    """``DefaultNormalizeScore`` over plain scores."""
    data = case.data
    scores = [NodeScore(f"node{i}", s) for i, s in enumerate(data["scores"])]
    default_normalize_score(data["max_priority"], data["reverse"], scores)
    got, want = [s.score for s in scores], data["expected"]["scores"]
    return [] if got == want else [f"scores {got} != {want}"]


def check_broken_linear_function(case: Case) -> list[str]:
    """``BuildBrokenLinearFunction`` on the raw shape points, at each probe."""
    f = build_broken_linear_function([FunctionShapePoint(p["utilization"], p["score"]) for p in case.data["points"]])
    return [f"f({e['p']}) = {f(e['p'])}, want {e['value']}" for e in case.data["expected"] if f(e["p"]) != e["value"]]


def check_queue_sort_less(case: Case) -> list[str]:
    """PrioritySort's ``Less`` on two queued pods (``priority`` and other pod fields,
    ``timestamp`` in seconds)."""
    if case.data.get("plugin") != PrioritySort.name:
        return [f"unknown queue sort plugin {case.data.get('plugin')!r}"]

    def queued(p: dict[str, Any], name: str) -> QueuedPodInfo:
        pod = build_pod({"name": name, **{k: v for k, v in p.items() if k != "timestamp" and v is not None}})
        timestamp = p.get("timestamp", 0)  # seconds; "ZERO" is Go's zero time, before any other
        return QueuedPodInfo(PodInfo(pod), timestamp=float("-inf") if timestamp == "ZERO" else float(timestamp))

    got = PrioritySort().less(queued(case.data["p1"], "p1"), queued(case.data["p2"], "p2"))
    want = case.data["expected"]["less"]
    return [] if got == want else [f"less = {got}, want {want}"]


def check_normalized_image_name(case: Case) -> list[str]:
    """ImageLocality's ``normalizedImageName``."""
    got = normalized_image_name(case.data["input"])
    return [] if got == case.data["expected"] else [f"{got!r} != {case.data['expected']!r}"]


CHECKERS["scheduler"].update({
    "score": guarded(check_score),
    "filter": guarded(check_filter),
    "default_normalize_score": check_default_normalize_score,
    "broken_linear_function": check_broken_linear_function,
    "queue_sort_less": guarded(check_queue_sort_less),
    "normalized_image_name": check_normalized_image_name,
})
