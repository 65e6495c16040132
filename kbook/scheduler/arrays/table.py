"""The node table: numpy arrays over a Snapshot's ``node_info_list`` (same order), with what
the default plugins read from a NodeInfo -- allocatable and requested resources, the
non-zero requests, pod counts, the unschedulable flag, taints, host ports -- plus label and
image columns built on demand, and the pods indexed by label (:class:`PodIndex`).

It is refreshed row by row from the NodeInfos that changed since the last cycle, and
rebuilt when the list of nodes changes (``cache.Snapshot`` keeps the order otherwise).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from kbook.api import Node, Taint
from kbook.scheduler.arrays.columns import ImageColumn, LabelColumn
from kbook.scheduler.arrays.podindex import PodIndex
from kbook.scheduler.types import NodeInfo, PodInfo

__all__ = ["NodeTable", "TaintTable"]

_FILTER_EFFECTS = ("NoSchedule", "NoExecute")  # DoNotScheduleTaintsFilterFunc
_PREFER_NO_SCHEDULE = "PreferNoSchedule"


class TaintTable:
    """Every distinct taint (key, value, effect) gets an id; per node, the ids of its
    NoSchedule/NoExecute taints and of its PreferNoSchedule taints, in the node's order,
    as padded 2-D arrays (``-1`` pads)."""

    def __init__(self) -> None:
        self.taints: list[Taint] = []
        self._id: dict[tuple[str, str, str], int] = {}
        self.rows_hard: list[tuple[int, ...]] = []
        self.rows_prefer: list[tuple[int, ...]] = []
        self._hard: np.ndarray | None = None
        self._prefer: np.ndarray | None = None

    def reset(self, n: int) -> None:
        self.rows_hard = [()] * n
        self.rows_prefer = [()] * n
        self._hard = self._prefer = None

    def set(self, i: int, taints: Sequence[Taint]) -> None:
        hard, prefer = [], []
        for t in taints:
            if t.effect in _FILTER_EFFECTS:
                hard.append(self._id_of(t))
            elif t.effect == _PREFER_NO_SCHEDULE:
                prefer.append(self._id_of(t))
        hard_t, prefer_t = tuple(hard), tuple(prefer)
        if hard_t != self.rows_hard[i]:
            self.rows_hard[i] = hard_t
            self._hard = None
        if prefer_t != self.rows_prefer[i]:
            self.rows_prefer[i] = prefer_t
            self._prefer = None

    def _id_of(self, t: Taint) -> int:
        key = (t.key, t.value, t.effect)
        tid = self._id.get(key)
        if tid is None:
            tid = self._id[key] = len(self.taints)
            self.taints.append(Taint(key=t.key, value=t.value, effect=t.effect))
        return tid

    @staticmethod
    def _padded(rows: list[tuple[int, ...]]) -> np.ndarray:
        width = max((len(r) for r in rows), default=0)
        out = np.full((len(rows), width), -1, dtype=np.int64)
        for i, r in enumerate(rows):
            if r:
                out[i, :len(r)] = r
        return out

    @property
    def hard(self) -> np.ndarray:
        """(nodes x slots) ids of NoSchedule/NoExecute taints, -1 padded."""
        if self._hard is None:
            self._hard = self._padded(self.rows_hard)
        return self._hard

    @property
    def prefer(self) -> np.ndarray:
        """(nodes x slots) ids of PreferNoSchedule taints, -1 padded."""
        if self._prefer is None:
            self._prefer = self._padded(self.rows_prefer)
        return self._prefer


class NodeTable:
    """Arrays over the nodes of the snapshot, indexed like ``node_info_list``."""

    def __init__(self) -> None:
        self.infos: list[NodeInfo] = []
        self.names: list[str] = []
        self.index: dict[str, int] = {}
        self.n = 0
        self.taints = TaintTable()
        self._seen_pods: list[list[PodInfo]] = []
        self.pods = PodIndex(self._seen_pods)
        self._seen_nodes: list[Node | None] = []
        self._seen_images: list[object] = []
        self.labels: dict[str, LabelColumn] = {}
        self.images: dict[str, ImageColumn] = {}
        self.scalar_alloc: dict[str, np.ndarray] = {}
        self.scalar_req: dict[str, np.ndarray] = {}
        self.port_rows: set[int] = set()
        self._alloc(0)

    def _alloc(self, n: int) -> None:
        z = lambda: np.zeros(n, dtype=np.int64)  # noqa: E731
        self.alloc_cpu, self.alloc_mem, self.alloc_eph, self.alloc_pods = z(), z(), z(), z()
        self.req_cpu, self.req_mem, self.req_eph = z(), z(), z()
        self.nz_cpu, self.nz_mem = z(), z()
        self.num_pods = z()
        # what is left (allocatable - requested), what NodeResourcesFit compares requests with
        self.free_cpu, self.free_mem, self.free_eph, self.free_pods = z(), z(), z(), z()
        self.unschedulable = np.zeros(n, dtype=bool)
        self.node_index = np.arange(n, dtype=np.int64)
        self.rotation = np.concatenate((self.node_index, self.node_index))

    # -- keeping up with the snapshot ----------------------------------------------------

    def rebuild(self, infos: Sequence[NodeInfo]) -> None:
        """Start over from a new list of nodes."""
        self.infos = list(infos)
        self.n = n = len(self.infos)
        self.names = [ni.name for ni in self.infos]
        self.index = {name: i for i, name in enumerate(self.names)}
        self._alloc(n)
        self.taints = TaintTable()
        self.taints.reset(n)
        self._seen_pods = [[] for _ in range(n)]
        self.pods = PodIndex(self._seen_pods)
        self._seen_nodes = [None] * n
        self._seen_images = [None] * n
        self.labels = {}
        self.images = {}
        self.scalar_alloc, self.scalar_req = {}, {}
        self.port_rows = set()
        for i, info in enumerate(self.infos):
            self.refresh(i, info)

    def refresh(self, i: int, info: NodeInfo) -> None:
        """Re-read row ``i`` from its NodeInfo (which may be a new object)."""
        self.infos[i] = info
        node = info.node
        if node is not self._seen_nodes[i]:
            self._seen_nodes[i] = node
            self._read_node(i, info)
        if info.image_states is not self._seen_images[i]:
            self._seen_images[i] = info.image_states
            for col in self.images.values():
                col.set(i, info.image_states)
        req, nz = info.requested, info.non_zero_requested
        self.req_cpu[i], self.req_mem[i], self.req_eph[i] = req.milli_cpu, req.memory, req.ephemeral_storage
        self.nz_cpu[i], self.nz_mem[i] = nz.milli_cpu, nz.memory
        self.num_pods[i] = len(info.pods)
        alloc = info.allocatable
        self.free_cpu[i] = alloc.milli_cpu - req.milli_cpu
        self.free_mem[i] = alloc.memory - req.memory
        self.free_eph[i] = alloc.ephemeral_storage - req.ephemeral_storage
        self.free_pods[i] = alloc.allowed_pod_number - len(info.pods)
        for name, col in self.scalar_req.items():
            col[i] = req.scalar_resources.get(name, 0)
        if len(info.used_ports):
            self.port_rows.add(i)
        else:
            self.port_rows.discard(i)
        self._sync_pods(i, info.pods)

    def _read_node(self, i: int, info: NodeInfo) -> None:
        node = info.node
        alloc = info.allocatable
        self.alloc_cpu[i], self.alloc_mem[i] = alloc.milli_cpu, alloc.memory
        self.alloc_eph[i], self.alloc_pods[i] = alloc.ephemeral_storage, alloc.allowed_pod_number
        for name, col in self.scalar_alloc.items():
            col[i] = alloc.scalar_resources.get(name, 0)
        self.unschedulable[i] = bool(node.spec.unschedulable)
        labels = node.metadata.labels
        for col in self.labels.values():
            col.set(i, labels)
        self.taints.set(i, node.spec.taints)

    def _sync_pods(self, i: int, pods: list[PodInfo]) -> None:
        """Tell the pod index which pods left or joined node ``i``."""
        seen = self._seen_pods[i]
        k = len(seen)
        if len(pods) >= k and pods[:k] == seen:
            for info in pods[k:]:
                self.pods.add(info, i)
        else:
            now = {id(p) for p in pods}
            before = {id(p) for p in seen}
            for info in seen:
                if id(info) not in now:
                    self.pods.remove(info)
            for info in pods:
                if id(info) not in before:
                    self.pods.add(info, i)
        self._seen_pods[i] = list(pods)

    # -- columns -------------------------------------------------------------------------

    def label(self, key: str) -> LabelColumn:
        """The column of label ``key``, built on first use."""
        col = self.labels.get(key)
        if col is None:
            col = self.labels[key] = LabelColumn(key, [ni.node.metadata.labels for ni in self.infos])
        return col

    def image(self, name: str) -> ImageColumn:
        """The column of image ``name`` (as the nodes list it), built on first use."""
        col = self.images.get(name)
        if col is None:
            col = self.images[name] = ImageColumn(name, [ni.image_states for ni in self.infos])
        return col

    def scalar(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(allocatable, requested) of a scalar resource on every node."""
        if name not in self.scalar_alloc:
            self.scalar_alloc[name] = np.array(
                [ni.allocatable.scalar_resources.get(name, 0) for ni in self.infos], dtype=np.int64)
            self.scalar_req[name] = np.array(
                [ni.requested.scalar_resources.get(name, 0) for ni in self.infos], dtype=np.int64)
        return self.scalar_alloc[name], self.scalar_req[name]
