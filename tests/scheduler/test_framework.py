"""The framework runtime, ported from upstream's tables
(v1.28 pkg/scheduler/framework/runtime/framework_test.go; each test names its Go test)."""

from __future__ import annotations

import pytest

from fake_plugins import (
    BIND, INJECT_FILTER_REASON, INJECT_REASON, QUEUE_SORT, Injected, NotAScorePlugin, TestPlugin, TestScorePlugin,
    TestScoreWithNormalizePlugin, framework_of, node, plugin_set, pod, profile, registry_of,
)
from kbook.scheduler.config import ConfigError, Plugin, PluginConfig, Profile, default_config
from kbook.scheduler.cyclestate import CycleState
from kbook.scheduler.framework import Framework, StaticHost, WaitingPod, go_duration
from kbook.scheduler.status import Code, Status
from kbook.scheduler.types import NodeInfo, NodePluginScores, PluginScore, PodInfo, PostFilterResult

TEST_PLUGIN = "test-plugin"
SCORE_PLUGIN_1 = "score-plugin-1"
SCORE_WITH_NORMALIZE_1 = "score-with-normalize-plugin-1"
SCORE_WITH_NORMALIZE_2 = "score-with-normalize-plugin-2"
NODES = [NodeInfo(node("node1")), NodeInfo(node("node2"))]
POD = pod("p")


def listed(fwk: Framework) -> dict[str, list[tuple[str, int]]]:
    return {point: [(p.name, p.weight) for p in ps] for point, ps in fwk.list_plugins().items()}


def every_point(name: str, weight: int = 1, score: bool = True) -> dict[str, list[tuple[str, int]]]:
    """What ``testPlugin`` expands to: every point, the weight only at Score."""
    out = {p: [(name, 0)] for p in ("preFilter", "filter", "postFilter", "reserve", "preScore", "preBind",
                                    "bind", "postBind", "permit", "preEnqueue", "queueSort")}
    if score:
        out["score"] = [(name, weight)]
    return out


# -- construction --------------------------------------------------------------------------

def test_multi_point_expansion_enables_every_point_a_plugin_implements():
    # TestNewFrameworkMultiPointExpansion "plugin expansion"
    fwk = Framework(profile(with_queue_sort_and_bind=False, multi_point=plugin_set((TEST_PLUGIN, 5))),
                    registry_of(TestPlugin(TEST_PLUGIN)))
    assert listed(fwk) == every_point(TEST_PLUGIN, 5)


def test_multi_point_plugin_disabled_at_some_points():
    # "disable MultiPoint plugin at some extension points"
    fwk = Framework(profile(with_queue_sort_and_bind=False, multi_point=plugin_set(TEST_PLUGIN),
                            pre_score=plugin_set(disabled=[TEST_PLUGIN]), score=plugin_set(disabled=[TEST_PLUGIN])),
                    registry_of(TestPlugin(TEST_PLUGIN)))
    want = every_point(TEST_PLUGIN, score=False)
    del want["preScore"]
    assert listed(fwk) == want


def test_multiple_multi_point_plugins_and_disabling_a_whole_point():
    # "Multiple MultiPoint plugins", "disable MultiPoint extension"
    reg = registry_of(TestPlugin(TEST_PLUGIN), TestScorePlugin(SCORE_PLUGIN_1))
    fwk = Framework(profile(with_queue_sort_and_bind=False, multi_point=plugin_set(TEST_PLUGIN, SCORE_PLUGIN_1)), reg)
    want = every_point(TEST_PLUGIN)
    want["preScore"] = [(TEST_PLUGIN, 0), (SCORE_PLUGIN_1, 0)]
    want["score"] = [(TEST_PLUGIN, 1), (SCORE_PLUGIN_1, 1)]
    assert listed(fwk) == want
    fwk = Framework(profile(with_queue_sort_and_bind=False, multi_point=plugin_set(TEST_PLUGIN, SCORE_PLUGIN_1),
                            pre_score=plugin_set(disabled=["*"])), reg)
    del want["preScore"]
    assert listed(fwk) == want


def test_explicit_extension_point_takes_precedence_and_keeps_its_order():
    # "Reorder MultiPoint plugins (specified extension takes precedence)"
    reg = registry_of(TestPlugin(TEST_PLUGIN), TestScorePlugin(SCORE_PLUGIN_1),
                      TestScoreWithNormalizePlugin(SCORE_WITH_NORMALIZE_1))
    prof = profile(with_queue_sort_and_bind=False,
                   multi_point=plugin_set(SCORE_WITH_NORMALIZE_1, TEST_PLUGIN, SCORE_PLUGIN_1),
                   score=plugin_set(SCORE_PLUGIN_1, TEST_PLUGIN))
    got = listed(Framework(prof, reg))
    assert got["score"] == [(SCORE_PLUGIN_1, 1), (TEST_PLUGIN, 1), (SCORE_WITH_NORMALIZE_1, 1)]
    # "... only takes precedence when it exists in MultiPoint"
    prof.plugins.multi_point = plugin_set(TEST_PLUGIN, SCORE_PLUGIN_1)
    prof.plugins.score = plugin_set(SCORE_WITH_NORMALIZE_1, SCORE_PLUGIN_1, TEST_PLUGIN)
    got = listed(Framework(prof, reg))
    assert got["score"] == [(SCORE_PLUGIN_1, 1), (TEST_PLUGIN, 1), (SCORE_WITH_NORMALIZE_1, 1)]


def test_explicit_score_weights_override_multi_point_weights():
    # "Override MultiPoint plugins weights"
    reg = registry_of(TestPlugin(TEST_PLUGIN), TestScorePlugin(SCORE_PLUGIN_1))
    prof = profile(multi_point=plugin_set(TEST_PLUGIN, SCORE_PLUGIN_1),
                   score=plugin_set((SCORE_PLUGIN_1, 5), (TEST_PLUGIN, 3)))
    fwk = Framework(prof, reg)
    assert [(pl.name, w) for pl, w in fwk.score_plugins] == [(SCORE_PLUGIN_1, 5), (TEST_PLUGIN, 3)]


def test_multi_point_disabled_star_at_multi_point_keeps_explicit_plugins():
    # "disable and enable MultiPoint plugins with '*'"
    reg = registry_of(TestScorePlugin(SCORE_PLUGIN_1))
    prof = profile(with_queue_sort_and_bind=False,
                   multi_point=plugin_set(QUEUE_SORT, BIND, SCORE_PLUGIN_1, disabled=["*"]))
    want = {"queueSort": [(QUEUE_SORT, 0)], "preScore": [(SCORE_PLUGIN_1, 0)], "score": [(SCORE_PLUGIN_1, 1)],
            "bind": [(BIND, 0)]}
    assert listed(Framework(prof, reg)) == want
    # "disable and enable MultiPoint plugin by name"
    prof.plugins.multi_point = plugin_set(BIND, QUEUE_SORT, SCORE_PLUGIN_1, disabled=[SCORE_PLUGIN_1])
    assert listed(Framework(prof, reg)) == want


@pytest.mark.parametrize("prof, reg, want", [
    # TestNewFrameworkErrors
    (profile(pre_filter=plugin_set(TEST_PLUGIN, TEST_PLUGIN)), registry_of(TestPlugin(TEST_PLUGIN)),
     'plugin "test-plugin" already registered as "PreFilterPlugin"'),
    (profile(pre_filter=plugin_set(TEST_PLUGIN), plugin_config=[PluginConfig(TEST_PLUGIN), PluginConfig(TEST_PLUGIN)]),
     registry_of(TestPlugin(TEST_PLUGIN)), "repeated config for plugin test-plugin"),
    # "Expect 'already registered' error"
    (profile(multi_point=plugin_set(QUEUE_SORT, BIND, TEST_PLUGIN, TEST_PLUGIN)), registry_of(TestPlugin(TEST_PLUGIN)),
     'plugin "test-plugin" already registered as "PreFilterPlugin"'),
    # TestInitFrameworkWithScorePlugins
    (profile(score=plugin_set("notExist")), registry_of(), 'ScorePlugin "notExist" does not exist'),
    (profile(score=plugin_set(NotAScorePlugin.name)), registry_of(NotAScorePlugin()),
     'plugin "plugin-not-implementing-score" does not extend ScorePlugin plugin'),
    (profile(multi_point=plugin_set("notExist")), registry_of(), 'PreFilterPlugin "notExist" does not exist'),
    (profile(with_queue_sort_and_bind=False, bind=plugin_set(BIND)), registry_of(),
     'only one queue sort plugin required for profile with scheduler name "test-profile", but got 0'),
    (profile(with_queue_sort_and_bind=False, queue_sort=plugin_set(QUEUE_SORT)), registry_of(),
     'at least one bind plugin is needed for profile with scheduler name "test-profile"'),
    (profile(score=plugin_set((TEST_PLUGIN, 2**62), (SCORE_PLUGIN_1, 2**62))),
     registry_of(TestPlugin(TEST_PLUGIN), TestPlugin(SCORE_PLUGIN_1)), "total score of Score plugins could overflow"),
    (profile(filter=plugin_set("VolumeBinding")), registry_of(),
     "the VolumeBinding plugin is not modelled: kbook has no volumes"),
])
def test_new_framework_errors(prof, reg, want):
    with pytest.raises(ConfigError) as e:
        Framework(prof, reg)
    assert str(e.value) == want


def test_plugin_factory_errors_name_the_plugin():
    def bad(args, handle):
        raise ConfigError("hardPodAffinityWeight: Invalid value: 101: not in valid range [0, 100]")

    with pytest.raises(ConfigError, match=r'^initializing plugin "bad": hardPodAffinityWeight: Invalid value'):
        Framework(profile(filter=plugin_set("bad")), {**registry_of(), "bad": bad})


def test_plugins_receive_their_args_and_the_framework_as_handle():
    got = {}

    def factory(args, handle):
        got.update(args=args, handle=handle)
        return TestPlugin("argsy")

    fwk = Framework(profile(filter=plugin_set("argsy"), plugin_config=[PluginConfig("argsy", {"x": 1})]),
                    {**registry_of(), "argsy": factory})
    assert got == {"args": {"x": 1}, "handle": fwk}


def test_default_profile_builds_the_v1_28_default_plugins_in_order():
    fwk = Framework(default_config().profiles[0])
    got = listed(fwk)
    assert got["preEnqueue"] == [("SchedulingGates", 0)]
    assert got["queueSort"] == [("PrioritySort", 0)]
    assert [n for n, _ in got["filter"]] == ["NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity",
                                              "NodePorts", "NodeResourcesFit", "PodTopologySpread", "InterPodAffinity"]
    assert [n for n, _ in got["preFilter"]] == ["NodeAffinity", "NodePorts", "NodeResourcesFit",
                                                 "PodTopologySpread", "InterPodAffinity"]
    assert got["postFilter"] == [("DefaultPreemption", 0)]
    assert got["score"] == [("TaintToleration", 3), ("NodeAffinity", 2), ("NodeResourcesFit", 1),
                            ("PodTopologySpread", 2), ("InterPodAffinity", 2),
                            ("NodeResourcesBalancedAllocation", 1), ("ImageLocality", 1)]
    assert got["bind"] == [("DefaultBinder", 0)]
    assert fwk.profile_name == "default-scheduler" and fwk.percentage_of_nodes_to_score is None


def test_handle_forwards_to_the_host():
    host = StaticHost({"Service": ["svc"]})
    fwk = framework_of(TestPlugin(TEST_PLUGIN), host=host)
    p = pod("p")
    fwk.bind_pod(p, "n1")
    fwk.delete_pod(p)
    fwk.set_nominated_node_name(p, "n2")
    assert fwk.objects("Service") == ["svc"] and fwk.objects("Namespace") == []
    assert host.bindings == [(p, "n1")] and host.deleted == [p] and host.nominations == [(p, "n2")]


# -- PreFilter -------------------------------------------------------------------------------

def test_pre_filter_plugins_and_extensions_are_called():
    # TestPreFilterPlugins
    a, b = TestPlugin("prefilter-with-extensions-plugin"), TestPlugin("prefilter-plugin")
    fwk = Framework(profile(pre_filter=plugin_set(a.name, b.name)), registry_of(a, b))
    state = CycleState()
    assert fwk.run_pre_filter_plugins(state, POD) == (None, None)
    fwk.run_pre_filter_extension_add_pod(state, POD, PodInfo(pod("x")), NODES[0])
    fwk.run_pre_filter_extension_remove_pod(state, POD, PodInfo(pod("x")), NODES[0])
    assert a.calls == b.calls == ["pre_filter", "add_pod", "remove_pod"]


def test_pre_filter_error_status():
    # TestRunPreFilterPluginsStatus
    pl = TestPlugin("prefilter-plugin", Injected(pre_filter=Code.ERROR))
    fwk = Framework(profile(pre_filter=plugin_set(pl.name)), registry_of(pl))
    _, s = fwk.run_pre_filter_plugins(CycleState(), POD)
    assert s == Status(Code.ERROR, ['running PreFilter plugin "prefilter-plugin": injected status'], "prefilter-plugin")


@pytest.mark.parametrize("injected, want_result, want_status, want_skip", [
    # TestRunPreFilterPlugins (the cases v1.28 has)
    ([Injected(), Injected()], None, None, set()),
    ([Injected(pre_filter=Code.UNSCHEDULABLE), Injected()], None,
     Status(Code.UNSCHEDULABLE, [INJECT_REASON], "p0"), set()),
    ([Injected(pre_filter=Code.UNSCHEDULABLE_AND_UNRESOLVABLE), Injected()], None,
     Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [INJECT_REASON], "p0"), set()),
    ([Injected(pre_filter=Code.SKIP), Injected()], None, None, {"p0"}),
    ([Injected(pre_filter_result={"node1", "node2"}), Injected(pre_filter_result={"node2", "node3"})],
     {"node2"}, None, set()),
    ([Injected(pre_filter_result={"node1"}), Injected(pre_filter_result={"node2"})], None,
     Status.of(Code.UNSCHEDULABLE, "node(s) didn't satisfy plugin(s) [p0 p1] simultaneously"), set()),
    ([Injected(pre_filter_result=set()), Injected()], None,
     Status.of(Code.UNSCHEDULABLE, "node(s) didn't satisfy plugin p0"), set()),
    ([Injected(pre_filter=Code.SKIP), Injected(pre_filter_result={"node1"})], {"node1"}, None, {"p0"}),
])
def test_run_pre_filter_plugins(injected, want_result, want_status, want_skip):
    plugins = [TestPlugin(f"p{i}", inj) for i, inj in enumerate(injected)]
    fwk = Framework(profile(pre_filter=plugin_set(*(p.name for p in plugins))), registry_of(*plugins))
    state = CycleState()
    result, s = fwk.run_pre_filter_plugins(state, POD)
    assert (None if result is None else result.node_names) == want_result
    assert s == want_status
    assert state.skip_filter_plugins == want_skip
    if want_status is not None and want_status.plugin == "p0":
        assert plugins[1].calls == []  # a rejection stops PreFilter at once (v1.28)


def test_skipped_pre_filter_plugin_is_skipped_at_filter_and_extensions():
    pl = TestPlugin("skipper", Injected(pre_filter=Code.SKIP, filter=Code.UNSCHEDULABLE))
    fwk = framework_of(pl)
    state = CycleState()
    fwk.run_pre_filter_plugins(state, POD)
    assert fwk.run_filter_plugins(state, POD, NODES[0]) is None
    assert fwk.run_pre_filter_extension_add_pod(state, POD, PodInfo(pod("x")), NODES[0]) is None
    assert pl.calls == ["pre_filter"]


# -- Filter -------------------------------------------------------------------------------------

def unsched(code: Code, plugin: str) -> Status:
    return Status(code, [INJECT_FILTER_REASON], plugin)


def error(plugin: str) -> Status:
    return Status(Code.ERROR, [f'running "{plugin}" filter plugin: {INJECT_FILTER_REASON}'], plugin)


@pytest.mark.parametrize("codes, want", [
    # TestFilterPlugins
    ([Code.SUCCESS], None),
    ([Code.ERROR], error("TestPlugin0")),
    ([Code.UNSCHEDULABLE], unsched(Code.UNSCHEDULABLE, "TestPlugin0")),
    ([Code.UNSCHEDULABLE_AND_UNRESOLVABLE], unsched(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "TestPlugin0")),
    ([Code.ERROR, Code.ERROR], error("TestPlugin0")),
    ([Code.SUCCESS, Code.SUCCESS], None),
    ([Code.ERROR, Code.SUCCESS], error("TestPlugin0")),
    ([Code.SUCCESS, Code.ERROR], error("TestPlugin1")),
    ([Code.SUCCESS, Code.UNSCHEDULABLE], unsched(Code.UNSCHEDULABLE, "TestPlugin1")),
])
def test_filter_plugins(codes, want):
    plugins = [TestPlugin(f"TestPlugin{i}", Injected(filter=c)) for i, c in enumerate(codes)]
    fwk = Framework(profile(filter=plugin_set(*(p.name for p in plugins))), registry_of(*plugins))
    assert fwk.run_filter_plugins(CycleState(), POD, NODES[0]) == want
    if want is not None and want.plugin == "TestPlugin0" and len(plugins) > 1:
        assert plugins[1].calls == []


class Nominator:
    def __init__(self, nominated: dict[str, list]) -> None:
        self.nominated = nominated

    def nominated_pods_for_node(self, name: str) -> list[PodInfo]:
        return [PodInfo(p) for p in self.nominated.get(name, [])]


LOW, HIGH = pod("low", priority=0), pod("high", priority=1000)


@pytest.mark.parametrize("pre_filter, filter_, p, nominated, want", [
    # TestFilterPluginsWithNominatedPods
    (None, None, LOW, None, None),
    (Injected(), Injected(), LOW, HIGH, None),
    (Injected(add_pod=Code.ERROR), None, LOW, HIGH,
     Status(Code.ERROR, ['running AddPod on PreFilter plugin "TestPlugin1": injected status'])),
    (Injected(), Injected(filter=Code.ERROR), LOW, HIGH, error("TestPlugin2")),
    (Injected(add_pod=Code.UNSCHEDULABLE), Injected(), HIGH, LOW, None),
])
def test_filter_plugins_with_nominated_pods(pre_filter, filter_, p, nominated, want):
    plugins, points = [], {}
    if pre_filter is not None:
        plugins.append(TestPlugin("TestPlugin1", pre_filter))
        points["pre_filter"] = plugin_set("TestPlugin1")
    if filter_ is not None:
        plugins.append(TestPlugin("TestPlugin2", filter_))
        points["filter"] = plugin_set("TestPlugin2")
    nominator = Nominator({"testNode": [nominated]} if nominated is not None else {})
    fwk = Framework(profile(**points), registry_of(*plugins), nominator=nominator)
    info = NodeInfo(node("testNode"), [pod("existing")])
    assert fwk.run_filter_plugins_with_nominated_pods(CycleState(), p, info) == want
    assert len(info.pods) == 1  # the nominated pods join a copy


def test_filters_run_twice_with_and_without_nominated_pods():
    seen = []

    class CountingFilter:
        name = "counting"

        def filter(self, state, p, info):
            seen.append(len(info.pods))
            return None

    fwk = Framework(profile(filter=plugin_set("counting")), registry_of(CountingFilter()),
                    nominator=Nominator({"n": [HIGH, pod("other-low", priority=-1)]}))
    assert fwk.run_filter_plugins_with_nominated_pods(CycleState(), LOW, NodeInfo(node("n"))) is None
    assert seen == [1, 0]  # with the higher-priority nominated pod, then without; lower-priority ones never count
    seen.clear()
    fwk.run_filter_plugins_with_nominated_pods(CycleState(), pod("lowest", priority=-5), NodeInfo(node("n")))
    assert seen == [2, 0]


# -- PostFilter -------------------------------------------------------------------------------

@pytest.mark.parametrize("codes, want", [
    # TestPostFilterPlugins
    ([Code.SUCCESS], Status.of(Code.SUCCESS, INJECT_REASON)),
    ([Code.UNSCHEDULABLE, Code.SUCCESS], Status.of(Code.SUCCESS, INJECT_REASON)),
    ([Code.SUCCESS, Code.UNSCHEDULABLE], Status.of(Code.SUCCESS, INJECT_REASON)),
    ([Code.ERROR, Code.UNSCHEDULABLE], Status(Code.ERROR, [INJECT_REASON], "TestPlugin0")),
    ([Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE],
     Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [INJECT_REASON], "TestPlugin1")),
    ([Code.UNSCHEDULABLE, Code.UNSCHEDULABLE], Status(Code.UNSCHEDULABLE, [INJECT_REASON] * 2, "TestPlugin0")),
])
def test_post_filter_plugins(codes, want):
    plugins = [TestPlugin(f"TestPlugin{i}", Injected(post_filter=c)) for i, c in enumerate(codes)]
    fwk = Framework(profile(post_filter=plugin_set(*(p.name for p in plugins))), registry_of(*plugins))
    _, s = fwk.run_post_filter_plugins(CycleState(), POD, {})
    assert s == want


def test_post_filter_keeps_the_last_result_of_the_failed_plugins():
    plugins = [TestPlugin("a", Injected(post_filter=Code.UNSCHEDULABLE, post_filter_result=PostFilterResult("n1"))),
               TestPlugin("b", Injected(post_filter=Code.UNSCHEDULABLE))]
    fwk = Framework(profile(post_filter=plugin_set("a", "b")), registry_of(*plugins))
    result, s = fwk.run_post_filter_plugins(CycleState(), POD, {})
    assert result == PostFilterResult("n1") and s.plugin == "a"


# -- Score -------------------------------------------------------------------------------------

def scores(*per_node: list[tuple[str, int]]) -> list[NodePluginScores]:
    return [NodePluginScores(n.name, [PluginScore(name, s) for name, s in ps], sum(s for _, s in ps))
            for n, ps in zip(NODES, per_node)]


WEIGHTS = {SCORE_WITH_NORMALIZE_1: 1, SCORE_WITH_NORMALIZE_2: 2, SCORE_PLUGIN_1: 1}  # defaultWeights


def score_framework(injected: dict[str, Injected], names: list[str]) -> Framework:
    plugins = [(TestScoreWithNormalizePlugin if name.startswith("score-with-normalize") else TestScorePlugin)(
        name, injected.get(name, Injected())) for name in names]
    return Framework(profile(score=plugin_set(*((n, WEIGHTS[n]) for n in names))), registry_of(*plugins))


@pytest.mark.parametrize("names, injected, want", [
    # TestRunScorePlugins
    ([], {}, scores([], [])),
    ([SCORE_PLUGIN_1], {SCORE_PLUGIN_1: Injected(score=1)}, scores([(SCORE_PLUGIN_1, 1)], [(SCORE_PLUGIN_1, 1)])),
    ([SCORE_WITH_NORMALIZE_1], {SCORE_WITH_NORMALIZE_1: Injected(score=10, normalize=5)},
     scores([(SCORE_WITH_NORMALIZE_1, 5)], [(SCORE_WITH_NORMALIZE_1, 5)])),
    ([SCORE_PLUGIN_1, SCORE_WITH_NORMALIZE_1, SCORE_WITH_NORMALIZE_2],
     {SCORE_PLUGIN_1: Injected(score=1), SCORE_WITH_NORMALIZE_1: Injected(score=3, normalize=4),
      SCORE_WITH_NORMALIZE_2: Injected(score=4, normalize=5)},
     scores([(SCORE_PLUGIN_1, 1), (SCORE_WITH_NORMALIZE_1, 4), (SCORE_WITH_NORMALIZE_2, 10)],
            [(SCORE_PLUGIN_1, 1), (SCORE_WITH_NORMALIZE_1, 4), (SCORE_WITH_NORMALIZE_2, 10)])),
])
def test_run_score_plugins(names, injected, want):
    assert score_framework(injected, names).run_score_plugins(CycleState(), POD, NODES) == want


@pytest.mark.parametrize("names, injected, message", [
    ([SCORE_PLUGIN_1, SCORE_WITH_NORMALIZE_1], {SCORE_WITH_NORMALIZE_1: Injected(score_status=Code.ERROR)},
     'running Score plugins: plugin "score-with-normalize-plugin-1" failed with: injected status'),
    ([SCORE_PLUGIN_1, SCORE_WITH_NORMALIZE_1], {SCORE_WITH_NORMALIZE_1: Injected(normalize_status=Code.ERROR)},
     'running Normalize on Score plugins: plugin "score-with-normalize-plugin-1" failed with: injected status'),
    ([SCORE_PLUGIN_1], {SCORE_PLUGIN_1: Injected(score=101)},
     'applying score defaultWeights on Score plugins: plugin "score-plugin-1" returns an invalid score 101, '
     'it should in the range of [0, 100] after normalizing'),
    ([SCORE_PLUGIN_1], {SCORE_PLUGIN_1: Injected(score=-1)},
     'applying score defaultWeights on Score plugins: plugin "score-plugin-1" returns an invalid score -1, '
     'it should in the range of [0, 100] after normalizing'),
    ([SCORE_WITH_NORMALIZE_1], {SCORE_WITH_NORMALIZE_1: Injected(normalize=101)},
     'applying score defaultWeights on Score plugins: plugin "score-with-normalize-plugin-1" returns an invalid '
     'score 101, it should in the range of [0, 100] after normalizing'),
])
def test_run_score_plugins_errors(names, injected, message):
    from kbook.scheduler.framework import PluginError

    with pytest.raises(PluginError) as e:
        score_framework(injected, names).run_score_plugins(CycleState(), POD, NODES)
    assert str(e.value) == message and e.value.status == Status(Code.ERROR, [message])


def test_pre_score_skip_excludes_the_plugin_from_score():
    pl = TestScorePlugin(SCORE_PLUGIN_1, Injected(pre_score=Code.SKIP, score=50))
    other = TestScorePlugin("other", Injected(score=7))
    fwk = Framework(profile(pre_score=plugin_set(SCORE_PLUGIN_1, "other"),
                            score=plugin_set((SCORE_PLUGIN_1, 1), ("other", 1))), registry_of(pl, other))
    state = CycleState()
    assert fwk.run_pre_score_plugins(state, POD, NODES) is None
    assert state.skip_score_plugins == {SCORE_PLUGIN_1}
    got = fwk.run_score_plugins(state, POD, NODES)
    assert [s.scores for s in got] == [[PluginScore("other", 7)]] * 2
    assert "score" not in pl.calls


def test_pre_score_error():
    pl = TestPlugin("ps", Injected(pre_score=Code.ERROR))
    fwk = Framework(profile(pre_score=plugin_set("ps")), registry_of(pl))
    assert fwk.run_pre_score_plugins(CycleState(), POD, NODES) == Status(
        Code.ERROR, ['running PreScore plugin "ps": injected status'])


# -- Reserve, Permit, binding -----------------------------------------------------------------

@pytest.mark.parametrize("codes, want", [
    # TestReservePlugins (a rejection keeps its code and names the plugin, as v1.28's framework does)
    ([], None),
    ([Code.SUCCESS], None),
    ([Code.UNSCHEDULABLE], Status(Code.UNSCHEDULABLE, [INJECT_REASON], "TestPlugin0")),
    ([Code.ERROR], Status(Code.ERROR, ['running Reserve plugin "TestPlugin0": injected status'])),
    ([Code.UNSCHEDULABLE_AND_UNRESOLVABLE], Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [INJECT_REASON], "TestPlugin0")),
    ([Code.SUCCESS, Code.SUCCESS], None),
    ([Code.ERROR, Code.ERROR], Status(Code.ERROR, ['running Reserve plugin "TestPlugin0": injected status'])),
    ([Code.SUCCESS, Code.ERROR], Status(Code.ERROR, ['running Reserve plugin "TestPlugin1": injected status'])),
])
def test_reserve_plugins(codes, want):
    plugins = [TestPlugin(f"TestPlugin{i}", Injected(reserve=c)) for i, c in enumerate(codes)]
    fwk = Framework(profile(reserve=plugin_set(*(p.name for p in plugins))), registry_of(*plugins))
    assert fwk.run_reserve_plugins_reserve(CycleState(), POD, "n") == want


def test_unreserve_runs_in_reverse_order():
    log: list[str] = []
    plugins = [TestPlugin(f"r{i}", log=log) for i in range(3)]
    fwk = Framework(profile(reserve=plugin_set("r0", "r1", "r2")), registry_of(*plugins))
    fwk.run_reserve_plugins_unreserve(CycleState(), POD, "n")
    assert log == ["r2.unreserve", "r1.unreserve", "r0.unreserve"]


@pytest.mark.parametrize("codes, want", [
    # TestPreBindPlugins
    ([], None),
    ([Code.SUCCESS], None),
    ([Code.UNSCHEDULABLE], Status(Code.UNSCHEDULABLE, [INJECT_REASON], "TestPlugin0")),
    ([Code.ERROR], Status(Code.ERROR, ['running PreBind plugin "TestPlugin0": injected status'])),
    ([Code.UNSCHEDULABLE_AND_UNRESOLVABLE], Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [INJECT_REASON], "TestPlugin0")),
    ([Code.SUCCESS, Code.ERROR], Status(Code.ERROR, ['running PreBind plugin "TestPlugin1": injected status'])),
    ([Code.ERROR, Code.SUCCESS], Status(Code.ERROR, ['running PreBind plugin "TestPlugin0": injected status'])),
    ([Code.SUCCESS, Code.SUCCESS], None),
    ([Code.UNSCHEDULABLE, Code.SUCCESS], Status(Code.UNSCHEDULABLE, [INJECT_REASON], "TestPlugin0")),
])
def test_pre_bind_plugins(codes, want):
    plugins = [TestPlugin(f"TestPlugin{i}", Injected(pre_bind=c)) for i, c in enumerate(codes)]
    fwk = Framework(profile(pre_bind=plugin_set(*(p.name for p in plugins))), registry_of(*plugins))
    assert fwk.run_pre_bind_plugins(CycleState(), POD, "n") == want


@pytest.mark.parametrize("codes, want, called", [
    # TestBindPlugins: the first plugin that does not skip binds
    ([Code.SKIP], Status.of(Code.SKIP, INJECT_REASON), [True]),
    ([Code.SUCCESS, Code.SUCCESS], None, [True, False]),
    ([Code.SKIP, Code.SUCCESS], None, [True, True]),
    ([Code.ERROR, Code.SUCCESS], Status(Code.ERROR, ['running Bind plugin "TestPlugin0": injected status']),
     [True, False]),
    ([Code.SKIP, Code.UNSCHEDULABLE], Status(Code.UNSCHEDULABLE, [INJECT_REASON], "TestPlugin1"), [True, True]),
])
def test_bind_plugins(codes, want, called):
    plugins = [TestPlugin(f"TestPlugin{i}", Injected(bind=c)) for i, c in enumerate(codes)]
    fwk = Framework(profile(bind=plugin_set(*(p.name for p in plugins))), registry_of(*plugins))
    assert fwk.run_bind_plugins(CycleState(), POD, "n") == want
    assert [bool(p.calls) for p in plugins] == called


@pytest.mark.parametrize("codes, want", [
    # TestPermitPlugins
    ([], None),
    ([Code.SUCCESS], None),
    ([Code.UNSCHEDULABLE], Status(Code.UNSCHEDULABLE, [INJECT_REASON], "TestPlugin0")),
    ([Code.ERROR], Status(Code.ERROR, ['running Permit plugin "TestPlugin0": injected status'], "TestPlugin0")),
    ([Code.UNSCHEDULABLE_AND_UNRESOLVABLE], Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [INJECT_REASON], "TestPlugin0")),
    ([Code.WAIT], Status.of(Code.WAIT, 'one or more plugins asked to wait and no plugin rejected pod "p"')),
    ([Code.WAIT, Code.UNSCHEDULABLE], Status(Code.UNSCHEDULABLE, [INJECT_REASON], "TestPlugin1")),
])
def test_permit_plugins(codes, want):
    plugins = [TestPlugin(f"TestPlugin{i}", Injected(permit=c, permit_timeout=10)) for i, c in enumerate(codes)]
    fwk = Framework(profile(permit=plugin_set(*(p.name for p in plugins))), registry_of(*plugins))
    s, timeout = fwk.run_permit_plugins(CycleState(), POD, "n")
    assert s == want
    assert timeout == (10 if want is not None and want.code == Code.WAIT else 0)
    assert (fwk.get_waiting_pod(POD.metadata.uid) is not None) == (timeout > 0)


def test_permit_wait_is_capped_and_decided_by_allow_reject_or_timeout():
    a = TestPlugin("a", Injected(permit=Code.WAIT, permit_timeout=3600))
    b = TestPlugin("b", Injected(permit=Code.WAIT, permit_timeout=10))
    fwk = Framework(profile(permit=plugin_set("a", "b")), registry_of(a, b))
    _, timeout = fwk.run_permit_plugins(CycleState(), POD, "n")
    wp = fwk.get_waiting_pod(POD.metadata.uid)
    assert timeout == 10 and wp.timeouts == {"a": 900.0, "b": 10}  # maxTimeout is 15 minutes
    wp.allow("a")
    assert wp.pending_plugins == ["b"] and not wp.decided
    wp.allow("b")
    assert fwk.wait_on_permit(POD) is None and fwk.get_waiting_pod(POD.metadata.uid) is None
    # timed out: the plugin whose timer fires first rejects
    fwk.run_permit_plugins(CycleState(), POD, "n")
    assert fwk.wait_on_permit(POD) == Status(
        Code.UNSCHEDULABLE, ["rejected due to timeout after waiting 10s at plugin b"], "b")
    # rejected by a plugin, or by removal
    fwk.run_permit_plugins(CycleState(), POD, "n")
    fwk.get_waiting_pod(POD.metadata.uid).reject("a", "nope")
    assert fwk.wait_on_permit(POD) == Status(Code.UNSCHEDULABLE, ["nope"], "a")
    fwk.run_permit_plugins(CycleState(), POD, "n")
    assert fwk.reject_waiting_pod(POD.metadata.uid) and not fwk.reject_waiting_pod("other")
    assert fwk.wait_on_permit(POD) == Status(Code.UNSCHEDULABLE, ["removed"], "")


def test_waiting_pod_first_decision_wins():
    wp = WaitingPod(POD, {"a": 1.0})
    wp.reject("a", "first")
    wp.reject("b", "second")
    wp.allow("a")
    assert wp.status == Status(Code.UNSCHEDULABLE, ["first"], "a")


@pytest.mark.parametrize("seconds, want", [
    (10, "10s"), (0, "0s"), (90, "1m30s"), (900, "15m0s"), (1.5, "1.5s"), (0.5, "500ms"), (3725, "1h2m5s"),
    (0.0015, "1.5ms"), (2e-6, "2µs"), (1e-9, "1ns"),
])
def test_go_duration(seconds, want):
    assert go_duration(seconds) == want


def test_list_plugins_of_a_hand_built_profile():
    pl = TestPlugin(TEST_PLUGIN)
    fwk = Framework(Profile("p", None, profile(filter=plugin_set(TEST_PLUGIN)).plugins), registry_of(pl))
    assert listed(fwk) == {"filter": [(TEST_PLUGIN, 0)], "queueSort": [(QUEUE_SORT, 0)], "bind": [(BIND, 0)]}
    assert fwk.plugin(TEST_PLUGIN) is pl and fwk.filter_plugins == [pl]
    assert fwk.list_plugins()["filter"] == [Plugin(TEST_PLUGIN)]
