"""``cache.Snapshot`` (``pkg/scheduler/internal/cache/snapshot.go``): the nodes as one
scheduling cycle sees them, in a fixed order, with image states counted across nodes."""

from __future__ import annotations

from typing import Iterable

from kbook.api import Node, Pod
from kbook.scheduler.types import ImageStateSummary, NodeInfo, PodInfo

__all__ = ["Snapshot", "normalized_image_name", "image_existence"]


def normalized_image_name(name: str) -> str:
    """ImageLocality's ``normalizedImageName``: ``:latest`` when the name has no tag
    (no ``:`` after the last ``/``)."""
    if name.rfind(":") <= name.rfind("/"):
        name += ":latest"
    return name


def image_existence(nodes: Iterable[Node]) -> dict[str, set[str]]:
    """``createImageExistenceMap``: image name -> names of the nodes listing it."""
    out: dict[str, set[str]] = {}
    for node in nodes:
        for image in node.status.images:
            for name in image.names:
                out.setdefault(name, set()).add(node.metadata.name)
    return out


def node_image_states(node: Node, existence: dict[str, set[str]]) -> dict[str, ImageStateSummary]:
    """``getNodeImageStates``: every name of every image on the node -> its size and the
    number of nodes listing that name."""
    return {name: ImageStateSummary(image.size_bytes, len(existence.get(name, ())))
            for image in node.status.images for name in image.names}


class Snapshot:
    """The nodes of one cycle: ``node_info_list`` in order, by name, and the lists of
    nodes that hold pods with (anti-)affinity."""

    def __init__(self, node_infos: list[NodeInfo]) -> None:
        self.node_info_list = node_infos
        self.node_info_map = {n.name: n for n in node_infos}
        self.have_pods_with_affinity_list = [n for n in node_infos if n.pods_with_affinity]
        self.have_pods_with_required_anti_affinity_list = [
            n for n in node_infos if n.pods_with_required_anti_affinity]
        # Kept by Cache.update_snapshot: the newest NodeInfo generation copied in, and
        # since the last take_changes() the NodeInfos refreshed and whether the list changed.
        self.generation = 0
        self.changed: list[NodeInfo] = list(node_infos)
        self.list_changed = True

    @classmethod
    def of(cls, nodes: Iterable[Node], pods: Iterable[Pod | PodInfo] = ()) -> Snapshot:
        """``cache.NewSnapshot(pods, nodes)``: pods join the node their ``spec.nodeName``
        names; pods bound to an unknown node are dropped, as upstream's snapshot keeps
        only NodeInfos that have a node."""
        nodes = list(nodes)
        existence = image_existence(nodes)
        infos: dict[str, NodeInfo] = {}
        for node in nodes:
            info = NodeInfo(node)
            info.image_states = node_image_states(node, existence)
            infos[node.metadata.name] = info
        for p in pods:
            pod = p.pod if isinstance(p, PodInfo) else p
            info = infos.get(pod.spec.node_name)
            if info is not None:
                info.add_pod(p)
        return cls(list(infos.values()))

    def take_changes(self) -> tuple[list[NodeInfo], bool]:
        """The NodeInfos refreshed and whether the node list changed since the last call
        (what ``Cache.update_snapshot`` recorded, over any number of updates), forgotten
        once taken: how an engine keeping its own per-node state catches up."""
        changed, list_changed = self.changed, self.list_changed
        self.changed, self.list_changed = [], False
        return changed, list_changed

    def get(self, node_name: str) -> NodeInfo:
        """``NodeInfos().Get``; raises KeyError as upstream returns ``nodeinfo not found``."""
        try:
            return self.node_info_map[node_name]
        except KeyError:
            raise KeyError(f"nodeinfo not found for node name {node_name!r}") from None

    def __len__(self) -> int:
        return len(self.node_info_list)
