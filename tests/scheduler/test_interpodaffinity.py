"""InterPodAffinity, ported from upstream's tables (v1.28,
pkg/scheduler/framework/plugins/interpodaffinity/{filtering_test.go,scoring_test.go,plugin_test.go});
each table names its Go test."""

from __future__ import annotations

import pytest

from builders import (
    PREFERRED,
    REQUIRED,
    handle_of,
    make_node,
    make_pod,
    namespace,
)
from kbook.api import (
    Affinity,
    LabelSelector,
    LabelSelectorRequirement,
    ObjectMeta,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodAntiAffinity,
    WeightedPodAffinityTerm,
)
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.plugins import interpodaffinity
from kbook.scheduler.plugins.interpodaffinity import (
    ERR_REASON_AFFINITY_RULES_NOT_MATCH as AFFINITY,
    ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH as ANTI,
    ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH as EXISTING,
)
from kbook.scheduler.plugins.interpodaffinity.filtering import (
    PRE_FILTER_STATE_KEY,
    get_incoming_affinity_anti_affinity_counts,
)
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import NodeScore, PodInfo

DEFAULT_NAMESPACE = ""  # defaultNamespace in filtering_test.go
SKIP = Status(Code.SKIP)


def unresolvable(reason: str) -> Status:
    return Status.of(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, reason)


def unschedulable(reason: str) -> Status:
    return Status.of(Code.UNSCHEDULABLE, reason)


def node(name: str, labels: dict[str, str]):
    return make_node().name(name).labels(labels).obj()


def expr(key: str, op: str, *values: str) -> LabelSelectorRequirement:
    return LabelSelectorRequirement(key, op, list(values))


def term(topology_key: str, *exprs: LabelSelectorRequirement, namespaces: list[str] | None = None,
         namespace_selector: LabelSelector | None = None) -> PodAffinityTerm:
    return PodAffinityTerm(label_selector=LabelSelector(match_expressions=list(exprs)), topology_key=topology_key,
                           namespaces=list(namespaces or []), namespace_selector=namespace_selector)


def create_pod_with_affinity_terms(ns: str, node_name: str, labels: dict[str, str],
                                   affinity: list[PodAffinityTerm] | None,
                                   anti_affinity: list[PodAffinityTerm] | None) -> Pod:
    """``createPodWithAffinityTerms``."""
    pod = make_pod().namespace(ns).node(node_name).labels(labels).obj()
    pod.spec.affinity = Affinity(pod_affinity=PodAffinity(list(affinity or [])),
                                 pod_anti_affinity=PodAntiAffinity(list(anti_affinity or [])))
    return pod


# var namespaces (filtering_test.go / scoring_test.go): the namespaces the informers know.
NS_LABEL_T1 = {"team": "team1"}
NS_LABEL_T2 = {"team": "team2"}
NAMESPACES = [
    namespace("subteam1.team1", NS_LABEL_T1),
    namespace("subteam2.team1", NS_LABEL_T1),
    namespace("subteam1.team2", NS_LABEL_T2),
]


def run_filter(pod, pods, nodes, namespaces=(), args=None):
    """PreFilter then Filter on every node, as the Go tests do."""
    handle = handle_of(nodes, pods, {"Namespace": list(namespaces)})
    plugin = interpodaffinity.new(args or {}, handle)
    state = CycleState()
    _, pre_status = plugin.pre_filter(state, pod)
    if pre_status is not None:
        return pre_status, None
    return None, [plugin.filter(state, pod, handle.snapshot.get(n.metadata.name)) for n in nodes]


# -- TestRequiredAffinitySingleNode -------------------------------------------------------

POD_LABEL = {"service": "securityscan"}
POD_LABEL2 = {"security": "S1"}
LABELS1 = {"region": "r1", "zone": "z11"}
EXISTING_POD = make_pod().labels(POD_LABEL).node("node1").obj()
BAD_VALUE_MSG = ("parsing pod: requiredAffinityTerms: values[0][service]: Invalid value: \"{{.bad-value.}}\": "
                 "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                 "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
TEAM1 = LabelSelector(match_expressions=[expr("team", "In", "team1")])
SERVICE_IN = expr("service", "In", "securityscan", "value2")

SINGLE_NODE_CASES = [
    ("A pod that has no required pod affinity scheduling rules can schedule onto a node with no existing pods",
     Pod(), [], SKIP, None),
    ("satisfies with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using In operator that matches "
     "the existing pod",
     make_pod().namespace(DEFAULT_NAMESPACE).labels(POD_LABEL2)
     .pod_affinity_in("service", "region", ["securityscan", "value2"], REQUIRED).obj(),
     [EXISTING_POD], None, None),
    ("satisfies the pod with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using not in operator "
     "in labelSelector that matches the existing pod",
     make_pod().namespace(DEFAULT_NAMESPACE).labels(POD_LABEL2)
     .pod_affinity_not_in("service", "region", ["securityscan3", "value3"], REQUIRED).obj(),
     [EXISTING_POD], None, None),
    ("Does not satisfy the PodAffinity with labelSelector because of diff Namespace",
     create_pod_with_affinity_terms(DEFAULT_NAMESPACE, "", POD_LABEL2,
                                    [term("", SERVICE_IN, namespaces=["DiffNameSpace"])], None),
     [make_pod().namespace("ns").label("service", "securityscan").node("node1").obj()],
     None, unresolvable(AFFINITY)),
    ("Doesn't satisfy the PodAffinity because of unmatching labelSelector with the existing pod",
     make_pod().namespace(DEFAULT_NAMESPACE).labels(POD_LABEL)
     .pod_affinity_in("service", "", ["antivirusscan", "value2"], REQUIRED).obj(),
     [EXISTING_POD], None, unresolvable(AFFINITY)),
    ("satisfies the PodAffinity with different label Operators in multiple "
     "RequiredDuringSchedulingIgnoredDuringExecution ",
     create_pod_with_affinity_terms(DEFAULT_NAMESPACE, "", POD_LABEL2, [
         term("region", expr("service", "Exists"), expr("wrongkey", "DoesNotExist")),
         term("region", expr("service", "In", "securityscan"), expr("service", "NotIn", "WrongValue")),
     ], None),
     [EXISTING_POD], None, None),
    ("The labelSelector requirements(items of matchExpressions) are ANDed, the pod cannot schedule onto the node "
     "because one of the matchExpression item don't match.",
     create_pod_with_affinity_terms(DEFAULT_NAMESPACE, "", POD_LABEL2, [
         term("region", expr("service", "Exists"), expr("wrongkey", "DoesNotExist")),
         term("region", expr("service", "In", "securityscan2"), expr("service", "NotIn", "WrongValue")),
     ], None),
     [EXISTING_POD], None, unresolvable(AFFINITY)),
    ("satisfies the PodAffinity and PodAntiAffinity with the existing pod",
     make_pod().namespace(DEFAULT_NAMESPACE).labels(POD_LABEL2)
     .pod_affinity_in("service", "region", ["securityscan", "value2"], REQUIRED)
     .pod_anti_affinity_in("service", "node", ["antivirusscan", "value2"], REQUIRED).obj(),
     [EXISTING_POD], None, None),
    ("satisfies the PodAffinity and PodAntiAffinity and PodAntiAffinity symmetry with the existing pod",
     make_pod().namespace(DEFAULT_NAMESPACE).labels(POD_LABEL2)
     .pod_affinity_in("service", "region", ["securityscan", "value2"], REQUIRED)
     .pod_anti_affinity_in("service", "node", ["antivirusscan", "value2"], REQUIRED).obj(),
     [make_pod().namespace(DEFAULT_NAMESPACE).node("node1").labels(POD_LABEL)
      .pod_anti_affinity_in("service", "node", ["antivirusscan", "value2"], REQUIRED).obj()],
     None, None),
    ("satisfies the PodAffinity but doesn't satisfy the PodAntiAffinity with the existing pod",
     make_pod().namespace(DEFAULT_NAMESPACE).labels(POD_LABEL2)
     .pod_affinity_in("service", "region", ["securityscan", "value2"], REQUIRED)
     .pod_anti_affinity_in("service", "zone", ["securityscan", "value2"], REQUIRED).obj(),
     [EXISTING_POD], None, unschedulable(ANTI)),
    ("satisfies the PodAffinity and PodAntiAffinity but doesn't satisfy PodAntiAffinity symmetry with the existing pod",
     make_pod().namespace(DEFAULT_NAMESPACE).labels(POD_LABEL)
     .pod_affinity_in("service", "region", ["securityscan", "value2"], REQUIRED)
     .pod_anti_affinity_in("service", "node", ["antivirusscan", "value2"], REQUIRED).obj(),
     [make_pod().namespace(DEFAULT_NAMESPACE).labels(POD_LABEL).node("node1")
      .pod_anti_affinity_in("service", "zone", ["securityscan", "value2"], REQUIRED).obj()],
     None, unschedulable(EXISTING)),
    ("pod matches its own Label in PodAffinity and that matches the existing pod Labels",
     make_pod().namespace(DEFAULT_NAMESPACE).labels(POD_LABEL)
     .pod_affinity_not_in("service", "region", ["securityscan", "value2"], REQUIRED).obj(),
     [make_pod().label("service", "securityscan").node("node2").obj()], None, unresolvable(AFFINITY)),
    ("verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. doesn't "
     "satisfy PodAntiAffinity symmetry with the existing pod",
     make_pod().labels(POD_LABEL).obj(),
     [make_pod().namespace(DEFAULT_NAMESPACE).node("node1").labels(POD_LABEL)
      .pod_anti_affinity_in("service", "zone", ["securityscan", "value2"], REQUIRED).obj()],
     None, unschedulable(EXISTING)),
    ("verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. satisfy "
     "PodAntiAffinity symmetry with the existing pod",
     make_pod().labels(POD_LABEL).obj(),
     [make_pod().namespace(DEFAULT_NAMESPACE).node("node1").labels(POD_LABEL)
      .pod_anti_affinity_not_in("service", "zone", ["securityscan", "value2"], REQUIRED).obj()],
     SKIP, None),
    ("satisfies the PodAntiAffinity with existing pod but doesn't satisfy PodAntiAffinity symmetry with incoming pod",
     make_pod().namespace(DEFAULT_NAMESPACE).labels(POD_LABEL)
     .pod_anti_affinity_exists("service", "region", REQUIRED)
     .pod_anti_affinity_exists("security", "region", REQUIRED).obj(),
     [make_pod().namespace(DEFAULT_NAMESPACE).node("node1").labels(POD_LABEL2)
      .pod_anti_affinity_exists("security", "zone", REQUIRED).obj()],
     None, unschedulable(ANTI)),
    ("PodAntiAffinity symmetry check a1: incoming pod and existing pod partially match each other on AffinityTerms",
     make_pod().namespace(DEFAULT_NAMESPACE).labels(POD_LABEL)
     .pod_anti_affinity_exists("service", "zone", REQUIRED)
     .pod_anti_affinity_exists("security", "zone", REQUIRED).obj(),
     [make_pod().namespace(DEFAULT_NAMESPACE).node("node1").labels(POD_LABEL2)
      .pod_anti_affinity_exists("security", "zone", REQUIRED).obj()],
     None, unschedulable(ANTI)),
    ("PodAntiAffinity symmetry check a2: incoming pod and existing pod partially match each other on AffinityTerms",
     make_pod().namespace(DEFAULT_NAMESPACE).labels(POD_LABEL2)
     .pod_anti_affinity_exists("security", "zone", REQUIRED).obj(),
     [make_pod().namespace(DEFAULT_NAMESPACE).node("node1").labels(POD_LABEL)
      .pod_anti_affinity_exists("service", "zone", REQUIRED)
      .pod_anti_affinity_exists("security", "zone", REQUIRED).obj()],
     None, unschedulable(EXISTING)),
    ("PodAntiAffinity symmetry check b1: incoming pod and existing pod partially match each other on AffinityTerms",
     make_pod().namespace(DEFAULT_NAMESPACE).labels({"abc": "", "xyz": ""})
     .pod_anti_affinity_exists("abc", "zone", REQUIRED).pod_anti_affinity_exists("def", "zone", REQUIRED).obj(),
     [make_pod().namespace(DEFAULT_NAMESPACE).node("node1").labels({"def": "", "xyz": ""})
      .pod_anti_affinity_exists("abc", "zone", REQUIRED).pod_anti_affinity_exists("def", "zone", REQUIRED).obj()],
     None, unschedulable(ANTI)),
    ("PodAntiAffinity symmetry check b2: incoming pod and existing pod partially match each other on AffinityTerms",
     make_pod().namespace(DEFAULT_NAMESPACE).labels({"def": "", "xyz": ""})
     .pod_anti_affinity_exists("abc", "zone", REQUIRED).pod_anti_affinity_exists("def", "zone", REQUIRED).obj(),
     [make_pod().namespace(DEFAULT_NAMESPACE).node("node1").labels({"abc": "", "xyz": ""})
      .pod_anti_affinity_exists("abc", "zone", REQUIRED).pod_anti_affinity_exists("def", "zone", REQUIRED).obj()],
     None, unschedulable(ANTI)),
    ("PodAffinity fails PreFilter with an invalid affinity label syntax",
     make_pod().namespace(DEFAULT_NAMESPACE).labels(POD_LABEL)
     .pod_affinity_in("service", "region", ["{{.bad-value.}}"], REQUIRED)
     .pod_affinity_in("service", "node", ["antivirusscan", "value2"], REQUIRED).obj(),
     [], unresolvable(BAD_VALUE_MSG), None),
    ("PodAntiAffinity fails PreFilter with an invalid antiaffinity label syntax",
     make_pod().namespace(DEFAULT_NAMESPACE).labels(POD_LABEL)
     .pod_affinity_in("service", "region", ["foo"], REQUIRED)
     .pod_affinity_in("service", "node", ["{{.bad-value.}}"], REQUIRED).obj(),
     [], unresolvable(BAD_VALUE_MSG), None),
    ("affinity with NamespaceSelector",
     create_pod_with_affinity_terms(DEFAULT_NAMESPACE, "", POD_LABEL2,
                                    [term("region", SERVICE_IN, namespace_selector=TEAM1)], None),
     [make_pod().node("node1").namespace("subteam1.team1").labels(POD_LABEL).obj()], None, None),
    ("affinity with non-matching NamespaceSelector",
     create_pod_with_affinity_terms(DEFAULT_NAMESPACE, "", POD_LABEL2,
                                    [term("region", SERVICE_IN, namespace_selector=TEAM1)], None),
     [make_pod().node("node1").namespace("subteam1.team2").labels(POD_LABEL).obj()], None, unresolvable(AFFINITY)),
    ("anti-affinity with matching NamespaceSelector",
     create_pod_with_affinity_terms("subteam1.team1", "", POD_LABEL2, None,
                                    [term("zone", SERVICE_IN, namespace_selector=TEAM1)]),
     [make_pod().node("node1").namespace("subteam2.team1").labels(POD_LABEL).obj()], None, unschedulable(ANTI)),
    ("anti-affinity with matching all NamespaceSelector",
     create_pod_with_affinity_terms("subteam1.team1", "", POD_LABEL2, None,
                                    [term("zone", SERVICE_IN, namespace_selector=LabelSelector())]),
     [make_pod().node("node1").namespace("subteam2.team1").labels(POD_LABEL).obj()], None, unschedulable(ANTI)),
    ("anti-affinity with non-matching NamespaceSelector",
     create_pod_with_affinity_terms("subteam1.team1", "", POD_LABEL2, None,
                                    [term("zone", SERVICE_IN, namespace_selector=TEAM1)]),
     [make_pod().node("node1").namespace("subteam1.team2").labels(POD_LABEL).obj()], None, None),
]


@pytest.mark.parametrize("name,pod,pods,want_pre_filter,want_filter", SINGLE_NODE_CASES,
                         ids=[c[0][:80] for c in SINGLE_NODE_CASES])
def test_required_affinity_single_node(name, pod, pods, want_pre_filter, want_filter):
    """TestRequiredAffinitySingleNode."""
    pre, statuses = run_filter(pod, pods, [node("node1", LABELS1)], NAMESPACES)
    assert pre == want_pre_filter
    if pre is None:
        assert statuses == [want_filter]


# -- TestRequiredAffinityMultipleNodes ----------------------------------------------------

POD_LABEL_A = {"foo": "bar"}
RG_CHINA = {"region": "China"}
RG_CHINA_AZ1 = {"region": "China", "az": "az1"}
RG_INDIA = {"region": "India"}


def abc_nodes(zone_b: str = "z2", zone_label: str = "zone"):
    return [node("nodeA", {"region": "r1", zone_label: "z1", "hostname": "nodeA"}),
            node("nodeB", {"region": "r1", zone_label: zone_b, "hostname": "nodeB"})]


MULTI_NODE_CASES = [
    ("A pod can be scheduled onto all the nodes that have the same topology key & label value with one of them has "
     "an existing pod that matches the affinity rules",
     make_pod().namespace(DEFAULT_NAMESPACE).pod_affinity_in("foo", "region", ["bar"], REQUIRED).obj(),
     [make_pod().name("p1").node("node1").labels(POD_LABEL_A).obj()],
     [node("node1", RG_CHINA), node("node2", RG_CHINA_AZ1), node("node3", RG_INDIA)],
     None, [None, None, unresolvable(AFFINITY)]),
    ("The affinity rule is to schedule all of the pods of this collection to the same zone. The first pod of the "
     "collection should not be blocked from being scheduled onto any node, even there's no existing pod that "
     "matches the rule anywhere.",
     make_pod().namespace(DEFAULT_NAMESPACE).labels({"foo": "bar", "service": "securityscan"})
     .pod_affinity_in("foo", "zone", ["bar"], REQUIRED)
     .pod_affinity_in("service", "zone", ["securityscan"], REQUIRED).obj(),
     [make_pod().name("p1").node("nodeA").labels({"foo": "bar"}).obj()],
     [node("nodeA", {"zone": "az1", "hostname": "h1"}), node("nodeB", {"zone": "az2", "hostname": "h2"})],
     None, [None, None]),
    ("The first pod of the collection can only be scheduled on nodes labelled with the requested topology keys",
     make_pod().namespace(DEFAULT_NAMESPACE).labels({"foo": "bar", "service": "securityscan"})
     .pod_affinity_in("foo", "zone", ["bar"], REQUIRED)
     .pod_affinity_in("service", "zone", ["securityscan"], REQUIRED).obj(),
     [make_pod().name("p1").node("nodeA").labels({"foo": "bar"}).obj()],
     [node("nodeA", {"zoneLabel": "az1", "hostname": "h1"}), node("nodeB", {"zoneLabel": "az2", "hostname": "h2"})],
     None, [unresolvable(AFFINITY), unresolvable(AFFINITY)]),
    ("NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod "
     "affinity rule. The pod can not be scheduled onto nodeA and nodeB.",
     make_pod().namespace(DEFAULT_NAMESPACE).pod_anti_affinity_in("foo", "region", ["abc"], REQUIRED).obj(),
     [make_pod().node("nodeA").labels({"foo": "abc"}).obj()],
     [node("nodeA", {"region": "r1", "hostname": "nodeA"}), node("nodeB", {"region": "r1", "hostname": "nodeB"})],
     None, [unschedulable(ANTI), unschedulable(ANTI)]),
    ("This test ensures that anti-affinity matches a pod when any term of the anti-affinity rule matches a pod.",
     make_pod().namespace(DEFAULT_NAMESPACE).pod_anti_affinity_in("foo", "region", ["abc"], REQUIRED)
     .pod_anti_affinity_in("service", "zone", ["securityscan"], REQUIRED).obj(),
     [make_pod().node("nodeA").labels({"foo": "abc", "service": "securityscan"}).obj()],
     [node("nodeA", {"region": "r1", "zone": "z1", "hostname": "nodeA"}),
      node("nodeB", {"region": "r1", "zone": "z2", "hostname": "nodeB"})],
     None, [unschedulable(ANTI), unschedulable(ANTI)]),
    ("NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod "
     "affinity rule. The pod can not be scheduled onto nodeA and nodeB but can be scheduled onto nodeC",
     make_pod().namespace(DEFAULT_NAMESPACE).pod_anti_affinity_in("foo", "region", ["abc"], REQUIRED).obj(),
     [make_pod().node("nodeA").labels({"foo": "abc"}).obj()],
     [node("nodeA", RG_CHINA), node("nodeB", RG_CHINA_AZ1), node("nodeC", RG_INDIA)],
     None, [unschedulable(ANTI), unschedulable(ANTI), None]),
    ("NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod "
     "affinity rule. The pod can not be scheduled onto nodeA, nodeB, but can be scheduled onto nodeC (NodeC has an "
     "existing pod that match the inter pod affinity rule but in different namespace)",
     make_pod().namespace("NS1").labels({"foo": "123"}).pod_anti_affinity_in("foo", "region", ["bar"], REQUIRED).obj(),
     [make_pod().node("nodeA").namespace("NS1").labels({"foo": "bar"}).obj(),
      make_pod().node("nodeC").namespace("NS2").pod_anti_affinity_in("foo", "region", ["123"], REQUIRED).obj()],
     [node("nodeA", RG_CHINA), node("nodeB", RG_CHINA_AZ1), node("nodeC", RG_INDIA)],
     None, [unschedulable(ANTI), unschedulable(ANTI), None]),
    ("Test existing pod's anti-affinity: if an existing pod has a term with invalid topologyKey, labelSelector of "
     "the term is firstly checked, and then topologyKey of the term is also checked",
     make_pod().label("foo", "").obj(),
     [make_pod().node("nodeA").namespace(DEFAULT_NAMESPACE)
      .pod_anti_affinity_exists("foo", "invalid-node-label", REQUIRED).obj()],
     abc_nodes("z1"), SKIP, None),
    ("Test incoming pod's anti-affinity: even if labelSelector matches, we still check if topologyKey matches",
     make_pod().node("nodeA").namespace(DEFAULT_NAMESPACE)
     .pod_anti_affinity_exists("foo", "invalid-node-label", REQUIRED).obj(),
     [make_pod().node("nodeA").labels({"foo": ""}).obj()],
     abc_nodes("z1"), None, [None, None]),
    ("Test existing pod's anti-affinity: incoming pod wouldn't considered as a fit as it violates each "
     "existingPod's terms on all nodes",
     make_pod().label("foo", "").label("bar", "").obj(),
     [make_pod().node("nodeA").namespace(DEFAULT_NAMESPACE).pod_anti_affinity_exists("foo", "zone", REQUIRED).obj(),
      make_pod().node("nodeA").namespace(DEFAULT_NAMESPACE).pod_anti_affinity_exists("bar", "region", REQUIRED).obj()],
     abc_nodes(), None, [unschedulable(EXISTING), unschedulable(EXISTING)]),
    ("Test incoming pod's anti-affinity: incoming pod wouldn't considered as a fit as it at least violates one "
     "anti-affinity rule of existingPod",
     make_pod().namespace(DEFAULT_NAMESPACE).pod_anti_affinity_exists("foo", "zone", REQUIRED)
     .pod_anti_affinity_exists("bar", "region", REQUIRED).obj(),
     [make_pod().node("nodeA").labels({"foo": ""}).obj(), make_pod().node("nodeB").labels({"bar": ""}).obj()],
     abc_nodes(), None, [unschedulable(ANTI), unschedulable(ANTI)]),
    ("Test existing pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a "
     "single term match - case when one term has invalid topologyKey",
     make_pod().label("foo", "").label("bar", "").obj(),
     [make_pod().node("nodeA").namespace(DEFAULT_NAMESPACE)
      .pod_anti_affinity_exists("foo", "invalid-node-label", REQUIRED)
      .pod_anti_affinity_exists("bar", "zone", REQUIRED).obj()],
     abc_nodes(), None, [unschedulable(EXISTING), None]),
    ("Test incoming pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a "
     "single term match - case when one term has invalid topologyKey",
     make_pod().namespace(DEFAULT_NAMESPACE).pod_anti_affinity_exists("foo", "invalid-node-label", REQUIRED)
     .pod_anti_affinity_exists("bar", "zone", REQUIRED).obj(),
     [make_pod().name("podA").node("nodeA").labels({"foo": "", "bar": ""}).obj()],
     abc_nodes(), None, [unschedulable(ANTI), None]),
    ("Test existing pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a "
     "single term match - case when all terms have valid topologyKey",
     make_pod().label("foo", "").label("bar", "").obj(),
     [make_pod().namespace(DEFAULT_NAMESPACE).node("nodeA").pod_anti_affinity_exists("foo", "region", REQUIRED)
      .pod_anti_affinity_exists("bar", "zone", REQUIRED).obj()],
     abc_nodes(), None, [unschedulable(EXISTING), unschedulable(EXISTING)]),
    ("Test incoming pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a "
     "single term match - case when all terms have valid topologyKey",
     make_pod().namespace(DEFAULT_NAMESPACE).pod_anti_affinity_exists("foo", "region", REQUIRED)
     .pod_anti_affinity_exists("bar", "zone", REQUIRED).obj(),
     [make_pod().node("nodeA").labels({"foo": "", "bar": ""}).obj()],
     abc_nodes(), None, [unschedulable(ANTI), unschedulable(ANTI)]),
    ("Test existing pod's anti-affinity: existingPod on nodeA and nodeB has at least one anti-affinity term matches "
     "incoming pod, so incoming pod can only be scheduled to nodeC",
     make_pod().label("foo", "").label("bar", "").obj(),
     [make_pod().node("nodeA").namespace(DEFAULT_NAMESPACE).pod_anti_affinity_exists("foo", "zone", REQUIRED)
      .pod_anti_affinity_exists("labelA", "zone", REQUIRED).obj(),
      make_pod().node("nodeB").namespace(DEFAULT_NAMESPACE).pod_anti_affinity_exists("bar", "zone", REQUIRED)
      .pod_anti_affinity_exists("labelB", "zone", REQUIRED).obj()],
     abc_nodes() + [node("nodeC", {"region": "r1", "zone": "z3", "hostname": "nodeC"})],
     None, [unschedulable(EXISTING), unschedulable(EXISTING), None]),
    ("Test incoming pod's affinity: firstly check if all affinityTerms match, and then check if all topologyKeys "
     "match",
     make_pod().namespace(DEFAULT_NAMESPACE).pod_affinity_exists("foo", "region", REQUIRED)
     .pod_affinity_exists("bar", "zone", REQUIRED).obj(),
     [make_pod().name("pod1").labels({"foo": "", "bar": ""}).node("nodeA").obj()],
     abc_nodes("z1"), None, [None, None]),
    ("Test incoming pod's affinity: firstly check if all affinityTerms match, and then check if all topologyKeys "
     "match, and the match logic should be satisfied on the same pod",
     make_pod().namespace(DEFAULT_NAMESPACE).pod_affinity_exists("foo", "region", REQUIRED)
     .pod_affinity_exists("bar", "zone", REQUIRED).obj(),
     [make_pod().node("nodeA").name("pod1").namespace(DEFAULT_NAMESPACE).labels({"foo": ""}).obj(),
      make_pod().node("nodeB").name("pod2").namespace(DEFAULT_NAMESPACE).labels({"bar": ""}).obj()],
     abc_nodes(), None, [unresolvable(AFFINITY), unresolvable(AFFINITY)]),
]


@pytest.mark.parametrize("name,pod,pods,nodes,want_pre_filter,want_filters", MULTI_NODE_CASES,
                         ids=[c[0][:80] for c in MULTI_NODE_CASES])
def test_required_affinity_multiple_nodes(name, pod, pods, nodes, want_pre_filter, want_filters):
    """TestRequiredAffinityMultipleNodes."""
    pre, statuses = run_filter(pod, pods, nodes, [namespace("NS1", {})])
    assert pre == want_pre_filter
    if pre is None:
        assert statuses == want_filters


def test_pre_filter_disabled():
    """TestPreFilterDisabled: Filter without PreFilter's state is an Error."""
    plugin = interpodaffinity.new({}, handle_of([]))
    from kbook.scheduler.types import NodeInfo
    got = plugin.filter(CycleState(), Pod(), NodeInfo(make_node().obj()))
    assert got == Status.error('error reading "PreFilterInterPodAffinity" from cycleState: not found')


# -- TestPreFilterStateAddRemovePod ---------------------------------------------------------

def pod(node_name: str = "", labels: dict[str, str] | None = None, affinity: Affinity | None = None,
        ns: str = "", name: str = "") -> Pod:
    """A literal ``v1.Pod{ObjectMeta: {Name, Namespace, Labels}, Spec: {NodeName, Affinity}}``."""
    p = Pod(metadata=ObjectMeta(name=name, namespace=ns, labels=dict(labels or {})))
    p.spec.node_name = node_name
    p.spec.affinity = affinity
    return p


def weighted(weight: int, topology_key: str, *exprs: LabelSelectorRequirement, **kw) -> WeightedPodAffinityTerm:
    return WeightedPodAffinityTerm(weight, term(topology_key, *exprs, **kw))


LABEL1 = {"region": "r1", "zone": "z11"}
LABEL2 = {"region": "r1", "zone": "z12"}
LABEL3 = {"region": "r2", "zone": "z21"}
SELECTOR1 = {"foo": "bar"}
ANTI_FOO_BAR = PodAntiAffinity([term("region", expr("foo", "In", "bar"))])
ANTI_COMPLEX = PodAntiAffinity([term("region", expr("foo", "In", "bar", "buzz")),
                                term("zone", expr("service", "NotIn", "bar", "security", "test"))])
AFFINITY_COMPLEX = PodAffinity([term("region", expr("foo", "In", "bar", "buzz")),
                                term("zone", expr("service", "NotIn", "bar", "security", "test"))])
ABC_LABELLED = [node("nodeA", LABEL1), node("nodeB", LABEL2), node("nodeC", LABEL3)]

ADD_REMOVE_CASES = [
    ("preFilterState anti-affinity terms are updated correctly after adding and removing a pod",
     pod(labels=SELECTOR1, affinity=Affinity(pod_anti_affinity=ANTI_FOO_BAR), name="pending"),
     [pod("nodeA", SELECTOR1, name="p1"), pod("nodeC", affinity=Affinity(pod_anti_affinity=ANTI_FOO_BAR), name="p2")],
     pod("nodeB", SELECTOR1, Affinity(pod_anti_affinity=ANTI_FOO_BAR), name="addedPod"),
     {("region", "r1"): 2}, {}),
    ("preFilterState anti-affinity terms are updated correctly after adding and removing a pod",
     pod(labels=SELECTOR1, affinity=Affinity(pod_anti_affinity=ANTI_COMPLEX), name="pending"),
     [pod("nodeA", SELECTOR1, name="p1"), pod("nodeC", affinity=Affinity(pod_anti_affinity=ANTI_FOO_BAR), name="p2")],
     pod("nodeA", SELECTOR1, Affinity(pod_anti_affinity=ANTI_COMPLEX), name="addedPod"),
     {("region", "r1"): 2, ("zone", "z11"): 2, ("zone", "z21"): 1}, {}),
    ("preFilterState matching pod affinity and anti-affinity are updated correctly after adding and removing a pod",
     pod(labels=SELECTOR1, affinity=Affinity(pod_affinity=AFFINITY_COMPLEX), name="pending"),
     [pod("nodeA", SELECTOR1, name="p1"),
      pod("nodeC", affinity=Affinity(pod_anti_affinity=ANTI_FOO_BAR, pod_affinity=AFFINITY_COMPLEX), name="p2")],
     pod("nodeA", SELECTOR1, Affinity(pod_anti_affinity=ANTI_COMPLEX), name="addedPod"),
     {}, {("region", "r1"): 2, ("zone", "z11"): 2}),
]


@pytest.mark.parametrize("name,pending,existing,added,want_anti,want_affinity", ADD_REMOVE_CASES,
                         ids=[f"{i}" for i in range(len(ADD_REMOVE_CASES))])
def test_pre_filter_state_add_remove_pod(name, pending, existing, added, want_anti, want_affinity):
    """TestPreFilterStateAddRemovePod: AddPod brings the state to what PreFilter computes
    with the pod present; RemovePod brings it back."""

    def get_state(pods):
        handle = handle_of(ABC_LABELLED, pods)
        plugin = interpodaffinity.new({}, handle)
        state = CycleState()
        _, status = plugin.pre_filter(state, pending)
        assert status is None
        return plugin, state, state.read(PRE_FILTER_STATE_KEY), handle.snapshot

    _, _, all_pods_state, _ = get_state(existing + [added])
    plugin, cycle_state, s, snapshot = get_state(existing)
    original = s.clone()
    node_info = snapshot.get(added.spec.node_name)
    assert plugin.add_pod(cycle_state, pending, PodInfo(added), node_info) is None
    assert s.anti_affinity_counts == want_anti
    assert s.affinity_counts == want_affinity
    for attr in ("existing_anti_affinity_counts", "affinity_counts", "anti_affinity_counts"):
        assert getattr(s, attr) == getattr(all_pods_state, attr)
    assert plugin.remove_pod(cycle_state, pending, PodInfo(added), node_info) is None
    for attr in ("existing_anti_affinity_counts", "affinity_counts", "anti_affinity_counts"):
        assert getattr(s, attr) == getattr(original, attr)


def test_pre_filter_state_clone():
    """TestPreFilterStateClone: a copy, equal but not the same maps."""
    from kbook.scheduler.plugins.interpodaffinity import PreFilterState
    source = PreFilterState({("name", "node1"): 1, ("name", "node2"): 1}, {("name", "nodeA"): 1, ("name", "nodeC"): 2},
                            {("name", "nodeN"): 3, ("name", "nodeM"): 1})
    clone = source.clone()
    assert clone is not source and clone == source
    clone.affinity_counts[("name", "nodeA")] = 7
    assert source.affinity_counts[("name", "nodeA")] == 1


# -- TestGetTPMapMatchingIncomingAffinityAntiAffinity ---------------------------------------

def _normal(*labels: str) -> Pod:
    b = make_pod().name("normal").node("nodeA")
    for label in labels:
        b.label(label, "")
    return b.obj()


NODE_A = node("nodeA", {"hostname": "nodeA"})
HOST_NODE_A = {("hostname", "nodeA"): 1}
TP_MAP_CASES = [
    ("nil test", [], make_pod().name("aaa-normal").obj(), {}, {}),
    ("incoming pod without affinity/anti-affinity causes a no-op", [_normal("aaa")],
     make_pod().name("aaa-normal").obj(), {}, {}),
    ("no pod has label that violates incoming pod's affinity and anti-affinity", [_normal("bbb")],
     make_pod().name("aaa-anti").pod_affinity_exists("aaa", "hostname", REQUIRED)
     .pod_anti_affinity_exists("aaa", "hostname", REQUIRED).obj(), {}, {}),
    ("existing pod matches incoming pod's affinity and anti-affinity - single term case", [_normal("aaa")],
     make_pod().name("affi-antiaffi").pod_affinity_exists("aaa", "hostname", REQUIRED)
     .pod_anti_affinity_exists("aaa", "hostname", REQUIRED).obj(), HOST_NODE_A, HOST_NODE_A),
    ("existing pod matches incoming pod's affinity and anti-affinity - multiple terms case", [_normal("aaa", "bbb")],
     make_pod().name("affi-antiaffi").pod_affinity_exists("aaa", "hostname", REQUIRED)
     .pod_affinity_exists("bbb", "hostname", REQUIRED).pod_anti_affinity_exists("aaa", "hostname", REQUIRED).obj(),
     {("hostname", "nodeA"): 2}, HOST_NODE_A),  # 2: one for each term
    ("existing pod not match incoming pod's affinity but matches anti-affinity", [_normal("aaa")],
     make_pod().name("affi-antiaffi").pod_affinity_exists("aaa", "hostname", REQUIRED)
     .pod_affinity_exists("bbb", "hostname", REQUIRED).pod_anti_affinity_exists("aaa", "hostname", REQUIRED)
     .pod_anti_affinity_exists("bbb", "hostname", REQUIRED).obj(), {}, HOST_NODE_A),
    ("incoming pod's anti-affinity has more than one term - existing pod violates partial term - case 1",
     [_normal("aaa", "bbb")],
     make_pod().name("anaffi-antiaffiti").pod_affinity_exists("aaa", "hostname", REQUIRED)
     .pod_affinity_exists("ccc", "hostname", REQUIRED).pod_anti_affinity_exists("aaa", "hostname", REQUIRED)
     .pod_anti_affinity_exists("ccc", "hostname", REQUIRED).obj(), {}, HOST_NODE_A),
    ("incoming pod's anti-affinity has more than one term - existing pod violates partial term - case 2",
     [_normal("bbb")],
     make_pod().name("affi-antiaffi").pod_affinity_exists("aaa", "hostname", REQUIRED)
     .pod_affinity_exists("bbb", "hostname", REQUIRED).pod_anti_affinity_exists("aaa", "hostname", REQUIRED)
     .pod_anti_affinity_exists("bbb", "hostname", REQUIRED).obj(), {}, HOST_NODE_A),
]


@pytest.mark.parametrize("name,existing,incoming,want_affinity,want_anti", TP_MAP_CASES,
                         ids=[c[0] for c in TP_MAP_CASES])
def test_get_incoming_affinity_anti_affinity_counts(name, existing, incoming, want_affinity, want_anti):
    """TestGetTPMapMatchingIncomingAffinityAntiAffinity."""
    handle = handle_of([NODE_A], existing)
    got = get_incoming_affinity_anti_affinity_counts(PodInfo(incoming), handle.snapshot.node_info_list)
    assert got == (want_affinity, want_anti)


# -- TestPreferredAffinity ----------------------------------------------------------------

RG_CHINA = {"region": "China"}
AZ1 = {"az": "az1"}
AZ2 = {"az": "az2"}
S1 = {"security": "S1"}
S2 = {"security": "S2"}
STAY_WITH_S1_IN_REGION = Affinity(pod_affinity=PodAffinity(
    preferred_during_scheduling_ignored_during_execution=[weighted(5, "region", expr("security", "In", "S1"))]))
STAY_WITH_S2_IN_REGION = Affinity(pod_affinity=PodAffinity(
    preferred_during_scheduling_ignored_during_execution=[weighted(6, "region", expr("security", "In", "S2"))]))
AFFINITY3 = Affinity(pod_affinity=PodAffinity(preferred_during_scheduling_ignored_during_execution=[
    weighted(8, "region", expr("security", "NotIn", "S1"), expr("security", "In", "S2")),
    weighted(2, "region", expr("security", "Exists"), expr("wrongkey", "DoesNotExist")),
]))
HARD_AFFINITY = Affinity(pod_affinity=PodAffinity([
    term("region", expr("security", "In", "S1", "value2")),
    term("region", expr("security", "Exists"), expr("wrongkey", "DoesNotExist")),
]))
AWAY_FROM_S1_IN_AZ = Affinity(pod_anti_affinity=PodAntiAffinity(
    preferred_during_scheduling_ignored_during_execution=[weighted(5, "az", expr("security", "In", "S1"))]))
AWAY_FROM_S2_IN_AZ = Affinity(pod_anti_affinity=PodAntiAffinity(
    preferred_during_scheduling_ignored_during_execution=[weighted(5, "az", expr("security", "In", "S2"))]))
STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ = Affinity(
    pod_affinity=PodAffinity(
        preferred_during_scheduling_ignored_during_execution=[weighted(8, "region", expr("security", "In", "S1"))]),
    pod_anti_affinity=PodAntiAffinity(
        preferred_during_scheduling_ignored_during_execution=[weighted(5, "az", expr("security", "In", "S2"))]))
AFFINITY_NAMESPACE_SELECTOR = Affinity(pod_affinity=PodAffinity(preferred_during_scheduling_ignored_during_execution=[
    weighted(5, "region", expr("security", "In", "S1"), namespaces=["subteam2.team2"], namespace_selector=TEAM1)]))
ANTI_AFFINITY_NAMESPACE_SELECTOR = Affinity(pod_anti_affinity=PodAntiAffinity(
    preferred_during_scheduling_ignored_during_execution=[
        weighted(5, "region", expr("security", "In", "S1"), namespaces=["subteam2.team2"],
                 namespace_selector=TEAM1)]))
INVALID_AFFINITY_LABELS = Affinity(pod_affinity=PodAffinity(preferred_during_scheduling_ignored_during_execution=[
    weighted(8, "region", expr("security", "In", "{{.bad-value.}}"))]))
INVALID_ANTI_AFFINITY_LABELS = Affinity(pod_anti_affinity=PodAntiAffinity(
    preferred_during_scheduling_ignored_during_execution=[
        weighted(5, "az", expr("security", "In", "{{.bad-value.}}"))]))
SCORING_NAMESPACES = NAMESPACES + [namespace("subteam2.team2", NS_LABEL_T2)]  # var namespaces (scoring_test.go)
M = 100  # framework.MaxNodeScore


def scores(**by_node: int) -> list[tuple[str, int]]:
    return list(by_node.items())


def china_india_az1():
    return [node("node1", RG_CHINA), node("node2", RG_INDIA), node("node3", AZ1)]


PREFERRED_CASES = [
    ("all nodes are same priority as Affinity is nil", pod(labels=S1), [], china_india_az1(), SKIP, None, False),
    ("Affinity: pod that matches topology key & pods in nodes will get high score comparing to otherswhich doesn't "
     "match either pods in nodes or in topology key",
     pod(labels=S1, affinity=STAY_WITH_S1_IN_REGION), [pod("node1", S1), pod("node2", S2), pod("node3", S1)],
     china_india_az1(), None, scores(node1=M, node2=0, node3=0), False),
    ("All the nodes that have the same topology key & label value with one of them has an existing pod that match "
     "the affinity rules, have the same score",
     pod(affinity=STAY_WITH_S1_IN_REGION), [pod("node1", S1)],
     [node("node1", RG_CHINA), node("node2", RG_CHINA_AZ1), node("node3", RG_INDIA)],
     None, scores(node1=M, node2=M, node3=0), False),
    ("Affinity: nodes in one region has more matching pods comparing to other region, so the region which has more "
     "matches will get high score",
     pod(labels=S1, affinity=STAY_WITH_S2_IN_REGION),
     [pod("node1", S2), pod("node1", S2), pod("node2", S2), pod("node3", S2), pod("node4", S2), pod("node5", S2)],
     [node("node1", RG_CHINA), node("node2", RG_INDIA), node("node3", RG_CHINA), node("node4", RG_CHINA),
      node("node5", RG_INDIA)],
     None, scores(node1=M, node2=0, node3=M, node4=M, node5=0), False),
    ("Affinity: different Label operators and values for pod affinity scheduling preference, including some match "
     "failures ",
     pod(labels=S1, affinity=AFFINITY3), [pod("node1", S1), pod("node2", S2), pod("node3", S1)],
     china_india_az1(), None, scores(node1=20, node2=M, node3=0), False),
    ("Affinity symmetry: considered only the preferredDuringSchedulingIgnoredDuringExecution in pod affinity "
     "symmetry",
     pod(labels=S2), [pod("node1", S1, STAY_WITH_S1_IN_REGION), pod("node2", S2, STAY_WITH_S2_IN_REGION)],
     china_india_az1(), None, scores(node1=0, node2=M, node3=0), False),
    ("Affinity symmetry with namespace selector",
     pod(labels=S1, ns="subteam1.team1"),
     [pod("node1", S1, AFFINITY_NAMESPACE_SELECTOR), pod("node2", S2, STAY_WITH_S2_IN_REGION)],
     china_india_az1(), None, scores(node1=M, node2=0, node3=0), False),
    ("AntiAffinity symmetry with namespace selector",
     pod(labels=S1, ns="subteam1.team1"),
     [pod("node1", S1, ANTI_AFFINITY_NAMESPACE_SELECTOR), pod("node2", S2, STAY_WITH_S2_IN_REGION)],
     china_india_az1(), None, scores(node1=0, node2=M, node3=M), False),
    ("Affinity symmetry: considered RequiredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry",
     pod(labels=S1), [pod("node1", S1, HARD_AFFINITY), pod("node2", S2, HARD_AFFINITY)],
     china_india_az1(), None, scores(node1=M, node2=M, node3=0), False),
    ("Anti Affinity: pod that does not match existing pods in node will get high score ",
     pod(labels=S1, affinity=AWAY_FROM_S1_IN_AZ), [pod("node1", S1), pod("node2", S2)],
     [node("node1", AZ1), node("node2", RG_CHINA)], None, scores(node1=0, node2=M), False),
    ("Anti Affinity: pod that does not match topology key & match the pods in nodes will get higher score comparing "
     "to others ",
     pod(labels=S1, affinity=AWAY_FROM_S1_IN_AZ), [pod("node1", S1), pod("node2", S1)],
     [node("node1", AZ1), node("node2", RG_CHINA)], None, scores(node1=0, node2=M), False),
    ("Anti Affinity: one node has more matching pods comparing to other node, so the node which has more unmatches "
     "will get high score",
     pod(labels=S1, affinity=AWAY_FROM_S1_IN_AZ), [pod("node1", S1), pod("node1", S1), pod("node2", S2)],
     [node("node1", AZ1), node("node2", RG_INDIA)], None, scores(node1=0, node2=M), False),
    ("Anti Affinity symmetry: the existing pods in node which has anti affinity match will get high score",
     pod(labels=S2), [pod("node1", S1, AWAY_FROM_S2_IN_AZ), pod("node2", S2, AWAY_FROM_S1_IN_AZ)],
     [node("node1", AZ1), node("node2", AZ2)], None, scores(node1=0, node2=M), False),
    ("Affinity and Anti Affinity: considered only preferredDuringSchedulingIgnoredDuringExecution in both pod "
     "affinity & anti affinity",
     pod(labels=S1, affinity=STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ), [pod("node1", S1), pod("node2", S1)],
     [node("node1", RG_CHINA), node("node2", AZ1)], None, scores(node1=M, node2=0), False),
    ("Affinity and Anti Affinity: considering both affinity and anti-affinity, the pod to schedule and existing "
     "pods have the same labels",
     pod(labels=S1, affinity=STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ),
     [pod("node1", S1), pod("node1", S1), pod("node2", S1), pod("node3", S1), pod("node3", S1), pod("node4", S1),
      pod("node5", S1)],
     [node("node1", RG_CHINA_AZ1), node("node2", RG_INDIA), node("node3", RG_CHINA), node("node4", RG_CHINA),
      node("node5", RG_INDIA)],
     None, scores(node1=M, node2=0, node3=M, node4=M, node5=0), False),
    # weights: affinity 8,0,0,0; anti-affinity 0,-5,0,0; symmetry 0,0,8,0; anti symmetry 0,0,0,-5
    ("Affinity and Anti Affinity and symmetry: considered only preferredDuringSchedulingIgnoredDuringExecution in "
     "both pod affinity & anti affinity & symmetry",
     pod(labels=S1, affinity=STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ),
     [pod("node1", S1), pod("node2", S2), pod("node3", affinity=STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ),
      pod("node4", affinity=AWAY_FROM_S1_IN_AZ)],
     [node("node1", RG_CHINA), node("node2", AZ1), node("node3", RG_INDIA), node("node4", AZ2)],
     None, scores(node1=M, node2=0, node3=M, node4=0), False),
    # kubernetes#82796: some nodes of a topology hold pods with affinity, the incoming pod has none.
    ("Avoid panic when partial nodes in a topology don't have pods with affinity",
     pod(labels=S1), [pod("node1", S1), pod("node2", affinity=STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ)],
     [node("node1", RG_CHINA), node("node2", RG_CHINA)], None, scores(node1=0, node2=0), False),
    ("invalid Affinity fails PreScore", pod(affinity=INVALID_AFFINITY_LABELS), [],
     [node("node1", RG_CHINA), node("node2", RG_CHINA)], Status.of(Code.ERROR, 'Invalid value: "{{.bad-value.}}"'),
     None, False),
    ("invalid AntiAffinity fails PreScore", pod(affinity=INVALID_ANTI_AFFINITY_LABELS), [],
     [node("node1", RG_CHINA), node("node2", RG_CHINA)], Status.of(Code.ERROR, 'Invalid value: "{{.bad-value.}}"'),
     None, False),
    ("Affinity with pods matching NamespaceSelector",
     pod(labels=S1, affinity=AFFINITY_NAMESPACE_SELECTOR, ns="subteam1.team1"),
     [pod("node1", S1, ns="subteam1.team1"), pod("node1", S1, ns="subteam1.team1"),
      pod("node1", S1, ns="subteam1.team2"), pod("node2", S1, ns="subteam2.team1")],
     [node("node1", RG_CHINA), node("node2", RG_INDIA)], None, scores(node1=M, node2=0), False),
    ("Affinity with pods matching both NamespaceSelector and Namespaces fields",
     pod(labels=S1, affinity=AFFINITY_NAMESPACE_SELECTOR, ns="subteam1.team1"),
     [pod("node1", S1, ns="subteam1.team1"), pod("node1", S1, ns="subteam1.team1"),
      pod("node1", S1, ns="subteam2.team2"), pod("node2", S1, ns="subteam2.team1")],
     [node("node1", RG_CHINA), node("node2", RG_INDIA)], None, scores(node1=M, node2=0), False),
    ("Affinity with pods matching NamespaceSelector",
     pod(labels=S1, affinity=ANTI_AFFINITY_NAMESPACE_SELECTOR, ns="subteam1.team1"),
     [pod("node1", S1, ns="subteam1.team1"), pod("node1", S1, ns="subteam1.team1"),
      pod("node1", S1, ns="subteam1.team2"), pod("node2", S1, ns="subteam2.team1")],
     [node("node1", RG_CHINA), node("node2", RG_INDIA)], None, scores(node1=0, node2=M), False),
    ("Affinity with pods matching both NamespaceSelector and Namespaces fields",
     pod(labels=S1, affinity=ANTI_AFFINITY_NAMESPACE_SELECTOR, ns="subteam1.team1"),
     [pod("node1", S1, ns="subteam1.team1"), pod("node1", S1, ns="subteam1.team1"),
      pod("node1", S1, ns="subteam2.team2"), pod("node2", S1, ns="subteam2.team1")],
     [node("node1", RG_CHINA), node("node2", RG_INDIA)], None, scores(node1=0, node2=M), False),
    ("Ignore preferred terms of existing pods",
     pod(labels=S2), [pod("node1", S1, STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ),
                      pod("node2", S2, STAY_WITH_S2_IN_REGION)],
     [node("node1", RG_CHINA), node("node2", RG_INDIA)], SKIP, None, True),
    ("Do not ignore preferred terms of existing pods",
     pod(labels=S2), [pod("node1", S1, STAY_WITH_S1_IN_REGION_AWAY_FROM_S2_IN_AZ),
                      pod("node2", S2, STAY_WITH_S2_IN_REGION)],
     [node("node1", RG_CHINA), node("node2", RG_INDIA)], None, scores(node1=0, node2=M), False),
    ("No nodes to score", pod(labels=S2), [], [], SKIP, None, False),
]


def run_score(incoming, pods, nodes, args, namespaces=SCORING_NAMESPACES):
    """PreScore, Score on every node, NormalizeScore, as the Go tests do."""
    handle = handle_of(nodes, pods, {"Namespace": list(namespaces)})
    plugin = interpodaffinity.new(args, handle)
    state = CycleState()
    infos = [handle.snapshot.get(n.metadata.name) for n in nodes]
    status = plugin.pre_score(state, incoming, infos)
    if status is not None:
        return status, None
    got = []
    for info in infos:
        score, s = plugin.score(state, incoming, info)
        assert s is None
        got.append(NodeScore(info.name, score))
    assert plugin.normalize_score(state, incoming, got) is None
    return None, [(ns.name, ns.score) for ns in got]


@pytest.mark.parametrize("name,incoming,pods,nodes,want_status,want_scores,ignore", PREFERRED_CASES,
                         ids=[f"{i}-{c[0][:60]}" for i, c in enumerate(PREFERRED_CASES)])
def test_preferred_affinity(name, incoming, pods, nodes, want_status, want_scores, ignore):
    """TestPreferredAffinity (a non-success status is compared by code and by containing
    the wanted message, as the Go test does)."""
    status, got = run_score(incoming, pods, nodes,
                            {"hardPodAffinityWeight": 1, "ignorePreferredTermsOfExistingPods": ignore})
    if want_status is not None:
        assert status is not None and status.code == want_status.code
        assert want_status.message() in status.message()
    else:
        assert status is None
        assert got == want_scores


# hardPodAffinity in TestPreferredAffinityWithHardPodAffinitySymmetricWeight; upstream's
# namespaces list holds "" (the test pods' namespace), which kbook reads as "default".
HARD_POD_AFFINITY = Affinity(pod_affinity=PodAffinity([
    term("region", expr("service", "In", "S1"), namespaces=["default", "subteam2.team2"], namespace_selector=TEAM1)]))
SERVICE_S1 = {"service": "S1"}
HARD_WEIGHT_CASES = [
    ("with default weight", pod(labels=SERVICE_S1), 1, None, scores(node1=M, node2=M, node3=0)),
    ("with zero weight", pod(labels=SERVICE_S1), 0, SKIP, None),
    ("with no matching namespace", pod(labels=SERVICE_S1, ns="subteam1.team2"), 1, SKIP, None),
    ("with matching NamespaceSelector", pod(labels=SERVICE_S1, ns="subteam1.team1"), 1, None,
     scores(node1=M, node2=M, node3=0)),
    ("with matching Namespaces", pod(labels=SERVICE_S1, ns="subteam2.team2"), 1, None,
     scores(node1=M, node2=M, node3=0)),
]


@pytest.mark.parametrize("name,incoming,weight,want_status,want_scores", HARD_WEIGHT_CASES,
                         ids=[c[0] for c in HARD_WEIGHT_CASES])
def test_preferred_affinity_with_hard_pod_affinity_symmetric_weight(name, incoming, weight, want_status, want_scores):
    """TestPreferredAffinityWithHardPodAffinitySymmetricWeight."""
    pods = [pod("node1", affinity=HARD_POD_AFFINITY), pod("node2", affinity=HARD_POD_AFFINITY)]
    status, got = run_score(incoming, pods, china_india_az1(), {"hardPodAffinityWeight": weight})
    assert status == want_status
    assert got == want_scores


# -- plugin args: TestValidateInterPodAffinityArgs (validation_pluginargs_test.go) ----------

@pytest.mark.parametrize("name,weight,want_error", [
    ("valid args", 10, None),
    ("hardPodAffinityWeight less than min", -1,
     "hardPodAffinityWeight: Invalid value: -1: not in valid range [0, 100]"),
    ("hardPodAffinityWeight more than max", 101,
     "hardPodAffinityWeight: Invalid value: 101: not in valid range [0, 100]"),
])
def test_validate_inter_pod_affinity_args(name, weight, want_error):
    """TestValidateInterPodAffinityArgs, through the factory."""
    from kbook.scheduler.config import ConfigError
    if want_error is None:
        assert interpodaffinity.new({"hardPodAffinityWeight": weight}, None).hard_pod_affinity_weight == weight
    else:
        with pytest.raises(ConfigError) as e:
            interpodaffinity.new({"hardPodAffinityWeight": weight}, None)
        assert str(e.value) == want_error


def test_ignore_preferred_terms_of_existing_pods_with_incoming_preferred_terms():
    """``ignorePreferredTermsOfExistingPods`` only skips PreScore when the incoming pod has
    no preferred terms of its own; when it has, every existing pod's terms still count (the
    existing pod's preferred anti-affinity, -5 in az1, outweighs the incoming pod's +1)."""
    incoming = make_pod().labels(S2).pod_affinity_in("security", "region", ["S1"], PREFERRED).obj()
    pods = [pod("node1", S1, AWAY_FROM_S2_IN_AZ), pod("node2", S2)]
    nodes = [node("node1", RG_CHINA_AZ1), node("node2", RG_INDIA)]
    for ignore in (True, False):
        status, got = run_score(incoming, pods, nodes, {"ignorePreferredTermsOfExistingPods": ignore})
        assert status is None and got == [("node1", 0), ("node2", 100)]


def test_args_defaults():
    """``SetDefaults_InterPodAffinityArgs``: hardPodAffinityWeight 1; the other arg is false."""
    from kbook.scheduler.config import ConfigError
    plugin = interpodaffinity.new({}, None)
    assert (plugin.hard_pod_affinity_weight, plugin.ignore_preferred_terms_of_existing_pods) == (1, False)
    with pytest.raises(ConfigError):
        interpodaffinity.new({"ignorePreferredTermsOfExistingPods": "yes"}, None)
