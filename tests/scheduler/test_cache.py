"""The scheduler cache and its node tree, ported from upstream
(v1.28 pkg/scheduler/internal/cache/{node_tree_test.go,cache_test.go}; each test names its Go test)."""

from __future__ import annotations

import pytest

from fake_plugins import node, pod
from kbook.api import Affinity, ContainerImage, LabelSelector, ObjectMeta, Node, PodAntiAffinity, PodAffinityTerm
from kbook.scheduler.cache import (
    LABEL_FAILURE_DOMAIN_BETA_REGION as BETA_REGION,
    LABEL_FAILURE_DOMAIN_BETA_ZONE as BETA_ZONE,
    LABEL_TOPOLOGY_REGION as REGION,
    LABEL_TOPOLOGY_ZONE as ZONE,
    Cache,
    CacheError,
    NodeTree,
    get_zone_key,
)
from kbook.scheduler.snapshot import Snapshot
from kbook.scheduler.types import ImageStateSummary


def labelled(name: str, labels: dict[str, str]) -> Node:
    return Node(metadata=ObjectMeta(name=name, labels=labels))


# allNodes of node_tree_test.go
ALL_NODES = [
    labelled("node-0", {}),
    labelled("node-1", {REGION: "region-1"}),
    labelled("node-2", {ZONE: "zone-2"}),
    labelled("node-3", {REGION: "region-1", ZONE: "zone-2"}),
    labelled("node-4", {REGION: "region-1", ZONE: "zone-2"}),
    labelled("node-5", {REGION: "region-1", ZONE: "zone-3"}),
    labelled("node-6", {REGION: "region-2", ZONE: "zone-2"}),
    labelled("node-7", {REGION: "region-2", ZONE: "zone-2"}),
    labelled("node-8", {REGION: "region-2", ZONE: "zone-2"}),
    labelled("node-9", {REGION: "region-2", ZONE: "zone-2", BETA_REGION: "region-2", BETA_ZONE: "zone-2"}),
    labelled("node-10", {BETA_REGION: "region-2", BETA_ZONE: "zone-3"}),
]


def tree_of(nt: NodeTree) -> dict[str, list[str]]:
    return {z: list(nt.tree[z]) for z in nt.zones}


def test_get_zone_key():
    assert get_zone_key(ALL_NODES[0]) == ""
    assert get_zone_key(ALL_NODES[1]) == "region-1:\x00:"
    assert get_zone_key(ALL_NODES[2]) == ":\x00:zone-2"
    assert get_zone_key(ALL_NODES[10]) == "region-2:\x00:zone-3"
    # a GA label present, even empty, wins over the beta one
    assert get_zone_key(labelled("n", {ZONE: "", BETA_ZONE: "z", REGION: "r"})) == "r:\x00:"


@pytest.mark.parametrize("nodes, want", [
    # TestNodeTree_AddNode
    ([ALL_NODES[0]], {"": ["node-0"]}),
    ([ALL_NODES[0], ALL_NODES[0]], {"": ["node-0"]}),
    (ALL_NODES[:4], {"": ["node-0"], "region-1:\x00:": ["node-1"], ":\x00:zone-2": ["node-2"],
                     "region-1:\x00:zone-2": ["node-3"]}),
    (ALL_NODES[:7], {"": ["node-0"], "region-1:\x00:": ["node-1"], ":\x00:zone-2": ["node-2"],
                     "region-1:\x00:zone-2": ["node-3", "node-4"], "region-1:\x00:zone-3": ["node-5"],
                     "region-2:\x00:zone-2": ["node-6"]}),
    (ALL_NODES[9:], {"region-2:\x00:zone-2": ["node-9"], "region-2:\x00:zone-3": ["node-10"]}),
])
def test_node_tree_add_node(nodes, want):
    nt = NodeTree(nodes)
    assert tree_of(nt) == want
    assert nt.num_nodes == sum(len(v) for v in want.values())


@pytest.mark.parametrize("existing, remove, want", [
    # TestNodeTree_RemoveNode
    (ALL_NODES[:7], [ALL_NODES[0]], {"region-1:\x00:": ["node-1"], ":\x00:zone-2": ["node-2"],
                                     "region-1:\x00:zone-2": ["node-3", "node-4"], "region-1:\x00:zone-3": ["node-5"],
                                     "region-2:\x00:zone-2": ["node-6"]}),
    (ALL_NODES[:7], [ALL_NODES[1], ALL_NODES[6], ALL_NODES[2], ALL_NODES[5]],
     {"": ["node-0"], "region-1:\x00:zone-2": ["node-3", "node-4"]}),
])
def test_node_tree_remove_node(existing, remove, want):
    nt = NodeTree(existing)
    for n in remove:
        nt.remove_node(n)
    assert tree_of(nt) == want


def test_node_tree_remove_missing_node():
    # TestNodeTree_RemoveNode "remove non-existing node"
    nt = NodeTree(ALL_NODES[:5])
    with pytest.raises(CacheError, match='node "node-6" in group "region-2:\x00:zone-2" was not found'):
        nt.remove_node(ALL_NODES[6])
    assert nt.num_nodes == 5


@pytest.mark.parametrize("existing, old, new, want", [
    # TestNodeTree_UpdateNode
    (ALL_NODES[:6], ALL_NODES[0], labelled("node-0", {REGION: "region-1", ZONE: "zone-2"}),
     {"region-1:\x00:": ["node-1"], ":\x00:zone-2": ["node-2"], "region-1:\x00:zone-2": ["node-3", "node-4", "node-0"],
      "region-1:\x00:zone-3": ["node-5"]}),
    (ALL_NODES[:6], ALL_NODES[3], labelled("node-3", {REGION: "region-1", ZONE: "zone-2"}),
     {"": ["node-0"], "region-1:\x00:": ["node-1"], ":\x00:zone-2": ["node-2"],
      "region-1:\x00:zone-2": ["node-3", "node-4"], "region-1:\x00:zone-3": ["node-5"]}),
    ([], None, labelled("node-new", {REGION: "region-1", ZONE: "zone-2"}), {"region-1:\x00:zone-2": ["node-new"]}),
])
def test_node_tree_update_node(existing, old, new, want):
    nt = NodeTree(existing)
    nt.update_node(old, new)
    assert tree_of(nt) == want


@pytest.mark.parametrize("nodes, want", [
    # TestNodeTree_List
    ([], []),
    (ALL_NODES[:1], ["node-0"]),
    (ALL_NODES[:3], ["node-0", "node-1", "node-2"]),
    (ALL_NODES[2:9], ["node-2", "node-3", "node-5", "node-6", "node-4", "node-7", "node-8"]),
    (ALL_NODES, ["node-0", "node-1", "node-2", "node-3", "node-5", "node-6", "node-10", "node-4", "node-7",
                 "node-8", "node-9"]),
])
def test_node_tree_list(nodes, want):
    assert NodeTree(nodes).list() == want


def test_node_tree_multi_operations():
    # TestNodeTreeMultiOperations "add more nodes to an exhausted zone", "remove zone and add new"
    nt = NodeTree()
    for n in ALL_NODES[2:9]:
        nt.add_node(n)
    for n in (ALL_NODES[2], ALL_NODES[3], ALL_NODES[5]):
        nt.remove_node(n)
    assert nt.list() == ["node-4", "node-6", "node-7", "node-8"]
    nt.add_node(ALL_NODES[0])
    nt.add_node(ALL_NODES[5])
    assert nt.list() == ["node-4", "node-6", "node-0", "node-5", "node-7", "node-8"]


# -- the cache ------------------------------------------------------------------------------

def requested(cache: Cache, name: str) -> tuple[int, int]:
    info = cache.node_info(name)
    return info.requested.milli_cpu, len(info.pods)


def test_assume_pod_counts_it_on_the_node():
    # TestAssumePodScheduled
    cache = Cache()
    cache.add_node(node("n1"))
    cache.assume_pod(pod("a", cpu="100m", node_name="n1"))
    cache.assume_pod(pod("b", cpu="200m", node_name="n1"))
    assert requested(cache, "n1") == (300, 2)
    assert cache.is_assumed_pod(pod("a", node_name="n1"))
    with pytest.raises(CacheError, match=r"^pod a\(default/a\) is in the cache, so can't be assumed$"):
        cache.assume_pod(pod("a", cpu="100m", node_name="n1"))


def test_add_pod_confirms_an_assumed_pod():
    # TestAddPodWillConfirm
    cache = Cache()
    cache.add_node(node("n1"))
    cache.assume_pod(pod("a", cpu="100m", node_name="n1"))
    cache.finish_binding(pod("a", node_name="n1"))
    cache.add_pod(pod("a", cpu="100m", node_name="n1", rv="2"))
    assert not cache.is_assumed_pod(pod("a"))
    assert cache.get_pod(pod("a")).metadata.resource_version == "2"
    assert requested(cache, "n1") == (100, 1)
    with pytest.raises(CacheError, match=r"^pod a\(default/a\) was already in added state$"):
        cache.add_pod(pod("a", node_name="n1"))


def test_add_pod_on_another_node_than_assumed():
    # TestAddPodWillReplaceAssumed
    cache = Cache()
    cache.add_node(node("n1"))
    cache.add_node(node("n2"))
    cache.assume_pod(pod("a", cpu="100m", node_name="n1"))
    cache.add_pod(pod("a", cpu="100m", node_name="n2"))
    assert requested(cache, "n1") == (0, 0) and requested(cache, "n2") == (100, 1)


def test_forget_pod():
    # TestForgetPod
    cache = Cache()
    cache.add_node(node("n1"))
    cache.assume_pod(pod("a", cpu="100m", node_name="n1"))
    with pytest.raises(CacheError, match=r"^pod a\(default/a\) was assumed on n2 but assigned to n1$"):
        cache.forget_pod(pod("a", node_name="n2"))
    cache.forget_pod(pod("a", node_name="n1"))
    assert requested(cache, "n1") == (0, 0) and not cache.is_assumed_pod(pod("a"))
    with pytest.raises(CacheError, match=r"^pod a\(default/a\) wasn't assumed so cannot be forgotten$"):
        cache.forget_pod(pod("a", node_name="n1"))
    cache.add_pod(pod("b", node_name="n1"))
    with pytest.raises(CacheError, match="wasn't assumed"):
        cache.forget_pod(pod("b", node_name="n1"))


def test_update_and_remove_pod():
    # TestUpdatePod, TestRemovePod
    cache = Cache()
    cache.add_node(node("n1"))
    with pytest.raises(CacheError, match=r"is not added to scheduler cache, so cannot be updated$"):
        cache.update_pod(pod("a", node_name="n1"), pod("a", node_name="n1"))
    cache.add_pod(pod("a", cpu="100m", node_name="n1"))
    cache.update_pod(pod("a", cpu="100m", node_name="n1"), pod("a", cpu="300m", node_name="n1"))
    assert requested(cache, "n1") == (300, 1)
    cache.assume_pod(pod("b", node_name="n1"))
    with pytest.raises(CacheError, match=r"^assumed pod b\(default/b\) should not be updated$"):
        cache.update_pod(pod("b", node_name="n1"), pod("b", node_name="n1"))
    cache.remove_pod(pod("a", node_name="n1"))
    assert requested(cache, "n1") == (0, 1)
    with pytest.raises(CacheError, match=r"is not found in scheduler cache, so cannot be removed from it$"):
        cache.remove_pod(pod("a", node_name="n1"))
    assert cache.pod_count() == 1


def test_node_removed_before_its_pods_stays_as_a_ghost():
    # TestNodeOperators / TestRemoveNode: pods' deletions may arrive after the node's
    cache = Cache()
    cache.add_node(node("n1"))
    cache.add_node(node("n2"))
    cache.add_pod(pod("a", node_name="n1"))
    cache.remove_node(node("n1"))
    assert cache.node_count() == 2 and cache.node_tree.num_nodes == 1
    snap = Snapshot([])
    cache.update_snapshot(snap)
    assert [n.name for n in snap.node_info_list] == ["n2"]
    cache.remove_pod(pod("a", node_name="n1"))
    assert cache.node_count() == 1
    with pytest.raises(CacheError, match="^node n1 is not found$"):
        cache.remove_node(node("n1"))
    # a pod bound to a node the cache has not seen yet
    cache.add_pod(pod("b", node_name="later"))
    cache.update_snapshot(snap)
    assert [n.name for n in snap.node_info_list] == ["n2"]
    cache.add_node(node("later"))
    cache.update_snapshot(snap)
    assert [len(n.pods) for n in snap.node_info_list] == [0, 1]


def imaged(name: str, *images: tuple[list[str], int], zone: str = "") -> Node:
    n = node(name, labels={ZONE: zone} if zone else None)
    n.status.images = [ContainerImage(names=names, size_bytes=size) for names, size in images]
    return n


def test_image_states_count_the_nodes_listing_each_name():
    # TestNodeOperators (image states), with the counts as cache.NewSnapshot gives them
    cache = Cache()
    snap = Snapshot([])
    cache.add_node(imaged("n1", (["nginx:1", "nginx@sha"], 100)))
    cache.update_snapshot(snap)
    snap.take_changes()
    assert snap.get("n1").image_states == {"nginx:1": ImageStateSummary(100, 1), "nginx@sha": ImageStateSummary(100, 1)}
    cache.add_node(imaged("n2", (["nginx:1"], 100), (["redis"], 50)))
    cache.update_snapshot(snap)
    assert snap.get("n1").image_states["nginx:1"] == ImageStateSummary(100, 2)
    assert snap.get("n2").image_states == {"nginx:1": ImageStateSummary(100, 2), "redis": ImageStateSummary(50, 1)}
    assert {n.name for n in snap.take_changes()[0]} == {"n1", "n2"}  # n1's counts changed with n2
    cache.remove_node(imaged("n2", (["nginx:1"], 100), (["redis"], 50)))
    cache.update_snapshot(snap)
    assert snap.get("n1").image_states["nginx:1"] == ImageStateSummary(100, 1)
    changed, list_changed = snap.take_changes()
    assert [n.name for n in changed] == ["n1"] and list_changed


# -- UpdateSnapshot -----------------------------------------------------------------------------

def anti_affinity_pod(name: str, node_name: str):
    p = pod(name, node_name=node_name)
    p.spec.affinity = Affinity(pod_anti_affinity=PodAntiAffinity(
        required_during_scheduling_ignored_during_execution=[
            PodAffinityTerm(label_selector=LabelSelector(match_labels={"a": "b"}), topology_key="zone")]))
    return p


def test_update_snapshot_is_incremental():
    # TestSchedulerCache_UpdateSnapshot: only what changed is copied, the snapshot keeps its objects
    cache = Cache()
    snap = Snapshot([])
    for name, zone in (("a1", "a"), ("a2", "a"), ("b1", "b"), ("c1", "c")):
        cache.add_node(node(name, labels={ZONE: zone}))
    cache.update_snapshot(snap)
    assert [n.name for n in snap.node_info_list] == ["a1", "b1", "c1", "a2"]  # zones interleaved
    changed, list_changed = snap.take_changes()
    assert list_changed and {n.name for n in changed} == {"a1", "a2", "b1", "c1"}
    objects = {n.name: n for n in snap.node_info_list}

    cache.add_pod(pod("p", cpu="500m", node_name="b1"))
    cache.update_snapshot(snap)
    assert snap.list_changed is False and [n.name for n in snap.changed] == ["b1"]
    cache.update_snapshot(snap)  # a second update before the changes are taken loses nothing
    assert snap.take_changes() == ([objects["b1"]], False)
    assert snap.get("b1") is objects["b1"] and snap.get("b1").requested.milli_cpu == 500
    assert snap.node_info_list == list(objects[n] for n in ("a1", "b1", "c1", "a2"))

    cache.update_snapshot(snap)
    assert snap.take_changes() == ([], False)

    cache.add_pod(anti_affinity_pod("anti", "c1"))
    cache.update_snapshot(snap)
    assert [n.name for n in snap.have_pods_with_required_anti_affinity_list] == ["c1"]
    assert [n.name for n in snap.have_pods_with_affinity_list] == ["c1"]
    assert snap.take_changes() == ([objects["c1"]], False)

    cache.remove_node(node("a2", labels={ZONE: "a"}))
    cache.add_node(node("d1", labels={ZONE: "d"}))
    cache.update_snapshot(snap)
    changed, list_changed = snap.take_changes()
    assert list_changed and [n.name for n in changed] == ["d1"]
    assert [n.name for n in snap.node_info_list] == ["a1", "b1", "c1", "d1"]
    assert "a2" not in snap.node_info_map

    cache.update_node(node("b1", labels={ZONE: "b"}), node("b1", cpu="8", labels={ZONE: "a"}))
    cache.update_snapshot(snap)
    assert [n.name for n in snap.take_changes()[0]] == ["b1"] and snap.get("b1").allocatable.milli_cpu == 8000
    assert snap.get("b1").requested.milli_cpu == 500


def test_snapshot_generation_is_the_newest_copied():
    cache = Cache()
    snap = Snapshot([])
    cache.add_node(node("n1"))
    cache.update_snapshot(snap)
    assert snap.generation == snap.get("n1").generation > 0
