"""The scheduler cache (``pkg/scheduler/internal/cache/cache.go``, ``node_tree.go``): the
nodes and the pods bound or assumed on them, kept up to date by informer events, and the
incremental ``UpdateSnapshot`` that refreshes a cycle's :class:`Snapshot` from it.

Nodes are listed zone by zone, round robin (``nodeTree``), so consecutive nodes of the
list sit in different zones and a sample of the list spreads over zones. Every change to
a node's pods or to the node bumps its ``NodeInfo.generation``; ``update_snapshot`` copies
only the NodeInfos newer than the snapshot, keeping the snapshot's objects (the lists
hold them) and recording what changed for the array engine.

Assumed pods do not expire here: kbook binds explicitly, so a binding either finishes
(and the informer's add confirms the pod) or fails and the pod is forgotten.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from kbook.api import Node, Pod
from kbook.errors import KbookError
from kbook.scheduler.snapshot import Snapshot
from kbook.scheduler.types import ImageStateSummary, NodeInfo, PodInfo

__all__ = [
    "LABEL_TOPOLOGY_ZONE",
    "LABEL_TOPOLOGY_REGION",
    "LABEL_FAILURE_DOMAIN_BETA_ZONE",
    "LABEL_FAILURE_DOMAIN_BETA_REGION",
    "CacheError",
    "get_zone_key",
    "NodeTree",
    "Cache",
]

LABEL_TOPOLOGY_ZONE = "topology.kubernetes.io/zone"
LABEL_TOPOLOGY_REGION = "topology.kubernetes.io/region"
LABEL_FAILURE_DOMAIN_BETA_ZONE = "failure-domain.beta.kubernetes.io/zone"
LABEL_FAILURE_DOMAIN_BETA_REGION = "failure-domain.beta.kubernetes.io/region"


class CacheError(KbookError):
    """An informer event the cache cannot apply (upstream logs these and goes on)."""


def get_zone_key(node: Node) -> str:
    """``GetZoneKey`` (component-helpers/node/topology): ``region:\\x00:zone`` from the GA
    labels, else the beta ones; ``""`` when the node has neither region nor zone."""
    labels = node.metadata.labels
    zone = labels[LABEL_TOPOLOGY_ZONE] if LABEL_TOPOLOGY_ZONE in labels else labels.get(
        LABEL_FAILURE_DOMAIN_BETA_ZONE, "")
    region = labels[LABEL_TOPOLOGY_REGION] if LABEL_TOPOLOGY_REGION in labels else labels.get(
        LABEL_FAILURE_DOMAIN_BETA_REGION, "")
    if not region and not zone:
        return ""
    return region + ":\x00:" + zone


class NodeTree:
    """``nodeTree``: node names per zone, zones in the order first seen."""

    def __init__(self, nodes: list[Node] | None = None) -> None:
        self.tree: dict[str, list[str]] = {}
        self.zones: list[str] = []
        self.num_nodes = 0
        for n in nodes or ():
            self.add_node(n)

    def add_node(self, node: Node) -> None:
        """``addNode``: a node already in its zone is not added twice."""
        zone = get_zone_key(node)
        names = self.tree.get(zone)
        if names is None:
            self.zones.append(zone)
            self.tree[zone] = [node.metadata.name]
        elif node.metadata.name in names:
            return
        else:
            names.append(node.metadata.name)
        self.num_nodes += 1

    def remove_node(self, node: Node) -> None:
        """``removeNode``; raises :class:`CacheError` when the node is not in its zone."""
        zone = get_zone_key(node)
        names = self.tree.get(zone)
        if names is not None and node.metadata.name in names:
            names.remove(node.metadata.name)
            if not names:
                del self.tree[zone]
                self.zones.remove(zone)
            self.num_nodes -= 1
            return
        raise CacheError(f'node "{node.metadata.name}" in group "{zone}" was not found')

    def update_node(self, old: Node | None, new: Node) -> None:
        """``updateNode``: only a change of zone moves the node."""
        old_zone = get_zone_key(old) if old is not None else ""
        if old_zone == get_zone_key(new):
            return
        if old is not None:
            try:
                self.remove_node(old)
            except CacheError:
                pass  # upstream ignores whether the old node was there
        self.add_node(new)

    def list(self) -> list[str]:
        """``list``: the first node of each zone, then the second of each, and so on."""
        out: list[str] = []
        i = 0
        while len(out) < self.num_nodes:
            took = False
            for zone in self.zones:
                names = self.tree[zone]
                if i < len(names):
                    out.append(names[i])
                    took = True
            if not took:
                break
            i += 1
        return out


@dataclass
class _ImageState:
    """``imageState``: an image name's size and the nodes that list it."""

    size: int
    nodes: set[str]


def _pod_key(pod: Pod) -> str:
    """``GetPodKey``: the uid (the namespace/name when a test pod has none)."""
    return pod.metadata.uid or pod.key


def _kobj(pod: Pod) -> str:
    return pod.key


def _assign(dst: NodeInfo, src: NodeInfo) -> None:
    """``*existing = *clone``: the snapshot keeps its NodeInfo object."""
    for slot in NodeInfo.__slots__:
        setattr(dst, slot, getattr(src, slot))


class Cache:
    """``cacheImpl``: NodeInfos by name, most recently updated last, the node tree, image
    states across nodes, pod states and the set of assumed pods."""

    def __init__(self) -> None:
        self._nodes: OrderedDict[str, NodeInfo] = OrderedDict()
        self.node_tree = NodeTree()
        self._image_states: dict[str, _ImageState] = {}
        self._dirty_images: set[str] = set()
        self._pod_states: dict[str, Pod] = {}
        self._assumed: set[str] = set()
        self._binding_finished: set[str] = set()

    # -- nodes --------------------------------------------------------------------------

    def _touch(self, name: str) -> None:
        """``moveNodeInfoToHead``."""
        self._nodes.move_to_end(name)

    def _node_info(self, name: str) -> NodeInfo:
        info = self._nodes.get(name)
        if info is None:
            info = NodeInfo()
            self._nodes[name] = info
        return info

    def add_node(self, node: Node) -> NodeInfo:
        """``AddNode``; returns a copy of the node's NodeInfo."""
        name = node.metadata.name
        existing = self._nodes.get(name)
        if existing is not None:
            self._remove_node_image_states(existing.node)
        info = self._node_info(name)
        self.node_tree.add_node(node)
        self._add_node_image_states(node)
        info.set_node(node)
        self._touch(name)
        return info.clone()

    def update_node(self, old: Node | None, new: Node) -> NodeInfo:
        """``UpdateNode``; returns a copy of the node's NodeInfo."""
        name = new.metadata.name
        existing = self._nodes.get(name)
        if existing is None:
            info = self._node_info(name)
            self.node_tree.add_node(new)
        else:
            info = existing
            self._remove_node_image_states(existing.node)
        self.node_tree.update_node(old, new)
        self._add_node_image_states(new)
        info.set_node(new)
        self._touch(name)
        return info.clone()

    def remove_node(self, node: Node) -> None:
        """``RemoveNode``: the node leaves the tree at once; its NodeInfo stays as a ghost
        (no node, skipped by snapshots) until the deletions of its pods arrive."""
        name = node.metadata.name
        info = self._nodes.get(name)
        if info is None:
            raise CacheError(f"node {name} is not found")
        info.node = None
        if not info.pods:
            del self._nodes[name]
        self.node_tree.remove_node(node)
        self._remove_node_image_states(node)

    def _add_node_image_states(self, node: Node) -> None:
        """``addNodeImageStates``: every name of every image on the node."""
        for image in node.status.images:
            for name in image.names:
                state = self._image_states.get(name)
                if state is None:
                    self._image_states[name] = _ImageState(image.size_bytes, {node.metadata.name})
                else:
                    state.nodes.add(node.metadata.name)
                self._dirty_images.add(name)

    def _remove_node_image_states(self, node: Node | None) -> None:
        """``removeNodeImageStates``: an image no node lists any more is forgotten."""
        if node is None:
            return
        for image in node.status.images:
            for name in image.names:
                state = self._image_states.get(name)
                if state is not None:
                    state.nodes.discard(node.metadata.name)
                    if not state.nodes:
                        del self._image_states[name]
                    self._dirty_images.add(name)

    def _image_summaries(self, node: Node) -> dict[str, ImageStateSummary]:
        """The node's ImageStates: each name's size and how many nodes list it now."""
        out: dict[str, ImageStateSummary] = {}
        for image in node.status.images:
            for name in image.names:
                state = self._image_states.get(name)
                if state is not None and name not in out:
                    out[name] = ImageStateSummary(state.size, len(state.nodes))
        return out

    # -- pods ---------------------------------------------------------------------------

    def _add_pod(self, pod: Pod, assume: bool) -> None:
        """``addPod``."""
        key = _pod_key(pod)
        self._node_info(pod.spec.node_name).add_pod(PodInfo(pod))
        self._touch(pod.spec.node_name)
        self._pod_states[key] = pod
        if assume:
            self._assumed.add(key)

    def _remove_pod(self, pod: Pod) -> None:
        """``removePod``: a NodeInfo left without node and pods is dropped."""
        key = _pod_key(pod)
        info = self._nodes.get(pod.spec.node_name)
        if info is not None:
            if not info.remove_pod(pod):
                raise CacheError(f"no corresponding pod {pod.metadata.name} in pods of node {info.name}")
            if not info.pods and info.node is None:
                del self._nodes[pod.spec.node_name]
            else:
                self._touch(pod.spec.node_name)
        self._pod_states.pop(key, None)
        self._assumed.discard(key)
        self._binding_finished.discard(key)

    def _update_pod(self, old: Pod, new: Pod) -> None:
        self._remove_pod(old)
        self._add_pod(new, False)

    def assume_pod(self, pod: Pod) -> None:
        """``AssumePod``: count the pod on ``spec.nodeName`` before it is bound."""
        key = _pod_key(pod)
        if key in self._pod_states:
            raise CacheError(f"pod {key}({_kobj(pod)}) is in the cache, so can't be assumed")
        self._add_pod(pod, True)

    def finish_binding(self, pod: Pod) -> None:
        """``FinishBinding``: the binding was sent (with no expiry, nothing else changes)."""
        key = _pod_key(pod)
        if key in self._pod_states and key in self._assumed:
            self._binding_finished.add(key)

    def forget_pod(self, pod: Pod) -> None:
        """``ForgetPod``: undo ``assume_pod`` after a failed Reserve, Permit or binding."""
        key = _pod_key(pod)
        current = self._pod_states.get(key)
        if current is not None and current.spec.node_name != pod.spec.node_name:
            raise CacheError(f"pod {key}({_kobj(pod)}) was assumed on {pod.spec.node_name} "
                             f"but assigned to {current.spec.node_name}")
        if current is not None and key in self._assumed:
            self._remove_pod(pod)
            return
        raise CacheError(f"pod {key}({_kobj(pod)}) wasn't assumed so cannot be forgotten")

    def add_pod(self, pod: Pod) -> None:
        """``AddPod``: an assumed pod is confirmed (and updated to the added version);
        a pod not in the cache is added; adding twice is an error."""
        key = _pod_key(pod)
        current = self._pod_states.get(key)
        if current is not None and key in self._assumed:
            self._update_pod(current, pod)
        elif current is None:
            self._add_pod(pod, False)
        else:
            raise CacheError(f"pod {key}({_kobj(pod)}) was already in added state")

    def update_pod(self, old: Pod, new: Pod) -> None:
        """``UpdatePod``: only added (not assumed) pods, on the same node."""
        key = _pod_key(old)
        current = self._pod_states.get(key)
        if current is None:
            raise CacheError(f"pod {key}({_kobj(old)}) is not added to scheduler cache, so cannot be updated")
        if key in self._assumed:
            raise CacheError(f"assumed pod {key}({_kobj(old)}) should not be updated")
        if current.spec.node_name != new.spec.node_name:
            raise CacheError(f"pod {key}({_kobj(old)}) updated on a different node than previously added to; "
                             "scheduler cache is corrupted")
        self._update_pod(old, new)

    def remove_pod(self, pod: Pod) -> None:
        """``RemovePod``: removes the cached version of the pod."""
        key = _pod_key(pod)
        current = self._pod_states.get(key)
        if current is None:
            raise CacheError(f"pod {key}({_kobj(pod)}) is not found in scheduler cache, so cannot be removed from it")
        if current.spec.node_name != pod.spec.node_name and pod.spec.node_name:
            raise CacheError(f"pod {key}({_kobj(pod)}) was added to a different node than it was assumed; "
                             "scheduler cache is corrupted")
        self._remove_pod(current)

    def is_assumed_pod(self, pod: Pod) -> bool:
        """``IsAssumedPod``."""
        return _pod_key(pod) in self._assumed

    def get_pod(self, pod: Pod) -> Pod:
        """``GetPod``: the cached version; raises :class:`CacheError` when absent."""
        key = _pod_key(pod)
        current = self._pod_states.get(key)
        if current is None:
            raise CacheError(f"pod {key}({_kobj(pod)}) does not exist in scheduler cache")
        return current

    def node_count(self) -> int:
        """``NodeCount``: NodeInfos in the cache, ghosts included."""
        return len(self._nodes)

    def pod_count(self) -> int:
        """``PodCount``."""
        return sum(len(info.pods) for info in self._nodes.values())

    def node_info(self, name: str) -> NodeInfo:
        """``GetNode``: a copy of a node's NodeInfo; raises :class:`CacheError`."""
        info = self._nodes.get(name)
        if info is None:
            raise CacheError(f"node {name} does not exist in scheduler cache")
        return info.clone()

    # -- snapshots ----------------------------------------------------------------------

    def update_snapshot(self, snapshot: Snapshot) -> None:
        """``UpdateSnapshot``: copy the NodeInfos updated since the snapshot's generation
        into it (keeping its objects), drop deleted nodes, rebuild the lists when nodes
        came or went (or a node gained or lost pods with (anti-)affinity). Records
        ``snapshot.changed`` (the NodeInfos refreshed, image counts included) and
        ``snapshot.list_changed``. Raises :class:`CacheError` when the snapshot and the
        tree disagree (after repairing the snapshot for the next cycle).

        ``snapshot.changed`` and ``snapshot.list_changed`` accumulate over updates until
        :meth:`Snapshot.take_changes` takes them, so a consumer misses nothing when the
        snapshot is refreshed between its cycles (e.g. to explain a placement)."""
        update_all = False
        update_affinity = False
        changed: dict[str, NodeInfo] = {}
        for info in reversed(self._nodes.values()):
            if info.generation <= snapshot.generation:
                break
            if info.node is None:
                continue
            existing = snapshot.node_info_map.get(info.name)
            if existing is None:
                update_all = True
                existing = NodeInfo()
                snapshot.node_info_map[info.name] = existing
            clone = info.clone()
            clone.image_states = self._image_summaries(info.node)
            if (bool(existing.pods_with_affinity) != bool(clone.pods_with_affinity)
                    or bool(existing.pods_with_required_anti_affinity) != bool(clone.pods_with_required_anti_affinity)):
                update_affinity = True
            _assign(existing, clone)
            changed[info.name] = existing
        if self._nodes:
            snapshot.generation = max(snapshot.generation, next(reversed(self._nodes.values())).generation)
        if self._dirty_images:
            for name, existing in snapshot.node_info_map.items():
                if name in changed or existing.node is None:
                    continue
                if any(n in self._dirty_images for image in existing.node.status.images for n in image.names):
                    existing.image_states = self._image_summaries(existing.node)
                    changed[name] = existing
            self._dirty_images.clear()
        if len(snapshot.node_info_map) > self.node_tree.num_nodes:
            self._remove_deleted_nodes_from_snapshot(snapshot)
            update_all = True
        if update_all or update_affinity:
            self._update_snapshot_lists(snapshot, update_all)
        pending = {id(info): info for info in snapshot.changed}
        pending.update((id(info), info) for info in changed.values())
        snapshot.changed = [info for info in pending.values() if snapshot.node_info_map.get(info.name) is info]
        snapshot.list_changed = snapshot.list_changed or update_all
        if len(snapshot.node_info_list) != self.node_tree.num_nodes:
            msg = (f"snapshot state is not consistent, length of NodeInfoList={len(snapshot.node_info_list)} not "
                   f"equal to length of nodes in tree={self.node_tree.num_nodes} , length of "
                   f"NodeInfoMap={len(snapshot.node_info_map)}, length of nodes in cache={len(self._nodes)}, "
                   "trying to recover")
            self._update_snapshot_lists(snapshot, True)
            snapshot.list_changed = True
            raise CacheError(msg)

    def _remove_deleted_nodes_from_snapshot(self, snapshot: Snapshot) -> None:
        """``removeDeletedNodesFromSnapshot``."""
        to_delete = len(snapshot.node_info_map) - self.node_tree.num_nodes
        for name in list(snapshot.node_info_map):
            if to_delete <= 0:
                break
            info = self._nodes.get(name)
            if info is None or info.node is None:
                del snapshot.node_info_map[name]
                to_delete -= 1

    def _update_snapshot_lists(self, snapshot: Snapshot, update_all: bool) -> None:
        """``updateNodeInfoSnapshotList``: the node list in node-tree order (when nodes
        came or went) and the lists of nodes with pods with (anti-)affinity."""
        if update_all:
            snapshot.node_info_list = [snapshot.node_info_map[name] for name in self.node_tree.list()
                                       if name in snapshot.node_info_map]
        snapshot.have_pods_with_affinity_list = [n for n in snapshot.node_info_list if n.pods_with_affinity]
        snapshot.have_pods_with_required_anti_affinity_list = [
            n for n in snapshot.node_info_list if n.pods_with_required_anti_affinity]
