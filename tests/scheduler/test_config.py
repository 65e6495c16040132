"""KubeSchedulerConfiguration: decoding, defaulting and validation, ported from upstream
(v1.28 pkg/scheduler/apis/config/v1/{default_plugins_test.go,defaults_test.go},
apis/config/validation/validation_test.go; each test names its Go test)."""

from __future__ import annotations

import textwrap

import pytest

from kbook.scheduler.config import (
    API_VERSION, KIND, ConfigError, KubeSchedulerConfiguration, Plugin, Plugins, PluginSet, default_config,
    default_plugin_args, default_plugins, merge_plugins,
)

HEADER = f"apiVersion: {API_VERSION}\nkind: {KIND}\n"


def load(body: str) -> KubeSchedulerConfiguration:
    return KubeSchedulerConfiguration.loads(HEADER + textwrap.dedent(body))


def errors_of(body: str) -> str:
    with pytest.raises(ConfigError) as e:
        load(body)
    return str(e.value)


def ps(*names: str | tuple[str, int], disabled: tuple[str, ...] = ()) -> PluginSet:
    return PluginSet([Plugin(n) if isinstance(n, str) else Plugin(*n) for n in names], [Plugin(d) for d in disabled])


# -- defaults ---------------------------------------------------------------------------------

def test_default_config():
    # TestSchedulerDefaults "empty config" (without the volume plugins kbook does not model)
    cfg = default_config()
    assert (cfg.parallelism, cfg.percentage_of_nodes_to_score) == (16, 0)
    assert (cfg.pod_initial_backoff_seconds, cfg.pod_max_backoff_seconds) == (1, 10)
    [prof] = cfg.profiles
    assert prof.scheduler_name == "default-scheduler" and prof.percentage_of_nodes_to_score is None
    assert [(p.name, p.weight) for p in prof.plugins.multi_point.enabled] == [
        ("PrioritySort", 0), ("NodeUnschedulable", 0), ("NodeName", 0), ("TaintToleration", 3),
        ("NodeAffinity", 2), ("NodePorts", 0), ("NodeResourcesFit", 1), ("PodTopologySpread", 2),
        ("InterPodAffinity", 2), ("DefaultPreemption", 0), ("NodeResourcesBalancedAllocation", 1),
        ("ImageLocality", 1), ("DefaultBinder", 0), ("SchedulingGates", 0)]
    for point in ("queue_sort", "pre_filter", "filter", "score", "bind"):
        assert getattr(prof.plugins, point) == PluginSet()
    resources = [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}]
    assert {pc.name: pc.args for pc in prof.plugin_config} == {
        "DefaultPreemption": {"minCandidateNodesPercentage": 10, "minCandidateNodesAbsolute": 100},
        "InterPodAffinity": {"hardPodAffinityWeight": 1},
        "NodeAffinity": {},
        "NodeResourcesBalancedAllocation": {"resources": resources},
        "NodeResourcesFit": {"scoringStrategy": {"type": "LeastAllocated", "resources": resources}},
        "PodTopologySpread": {"defaultingType": "System"},
    }
    assert [pc.name for pc in prof.plugin_config] == sorted(pc.name for pc in prof.plugin_config)


def test_given_args_are_defaulted_and_kept():
    # TestSchedulerDefaults "set non default plugin args" style: defaults fill only what is missing
    cfg = load("""
        profiles:
        - pluginConfig:
          - name: NodeResourcesFit
            args:
              scoringStrategy:
                type: MostAllocated
                resources: [{name: cpu}, {name: example.com/gpu, weight: 3}]
          - name: InterPodAffinity
            args: {hardPodAffinityWeight: 5}
        """)
    prof = cfg.profiles[0]
    assert prof.args("NodeResourcesFit") == {"scoringStrategy": {
        "type": "MostAllocated", "resources": [{"name": "cpu", "weight": 1}, {"name": "example.com/gpu", "weight": 3}]}}
    assert prof.args("InterPodAffinity") == {"hardPodAffinityWeight": 5}
    assert prof.args("PodTopologySpread") == {"defaultingType": "System"}
    assert prof.args("PrioritySort") == {}


def test_default_plugin_args():
    assert default_plugin_args("PodTopologySpread", {"defaultingType": "List"}) == {"defaultingType": "List"}
    assert default_plugin_args("NodeResourcesBalancedAllocation", {"resources": [{"name": "cpu", "weight": 0}]}) == {
        "resources": [{"name": "cpu", "weight": 1}]}
    assert default_plugin_args("PrioritySort") is None


def test_single_profile_gets_the_default_name_many_do_not():
    assert load("profiles: [{}]").profiles[0].scheduler_name == "default-scheduler"
    assert load("profiles: [{schedulerName: mine}]").profiles[0].scheduler_name == "mine"
    assert errors_of("profiles: [{}, {schedulerName: b}]") == "profiles[0].schedulerName: Required value"


# -- mergePlugins (TestMergePlugins) ------------------------------------------------------------

@pytest.mark.parametrize("default, custom, want", [
    # AppendCustomPlugin
    (Plugins(filter=ps("DefaultPlugin1", "DefaultPlugin2")), Plugins(filter=ps("CustomPlugin")),
     Plugins(filter=ps("DefaultPlugin1", "DefaultPlugin2", "CustomPlugin"))),
    # InsertAfterDefaultPlugins2
    (Plugins(filter=ps("DefaultPlugin1", "DefaultPlugin2")),
     Plugins(filter=ps("CustomPlugin", "DefaultPlugin2", disabled=("DefaultPlugin2",))),
     Plugins(filter=ps("DefaultPlugin1", "CustomPlugin", "DefaultPlugin2", disabled=("DefaultPlugin2",)))),
    # InsertBeforeAllPlugins
    (Plugins(filter=ps("DefaultPlugin1", "DefaultPlugin2")),
     Plugins(filter=ps("CustomPlugin", "DefaultPlugin1", "DefaultPlugin2", disabled=("*",))),
     Plugins(filter=ps("CustomPlugin", "DefaultPlugin1", "DefaultPlugin2", disabled=("*",)))),
    # ReorderDefaultPlugins
    (Plugins(filter=ps("DefaultPlugin1", "DefaultPlugin2")),
     Plugins(filter=ps("DefaultPlugin2", "DefaultPlugin1", disabled=("*",))),
     Plugins(filter=ps("DefaultPlugin2", "DefaultPlugin1", disabled=("*",)))),
    # ApplyNilCustomPlugin
    (Plugins(filter=ps("DefaultPlugin1", "DefaultPlugin2")), None,
     Plugins(filter=ps("DefaultPlugin1", "DefaultPlugin2"))),
    # CustomPluginOverrideDefaultPlugin
    (Plugins(filter=ps(("Plugin1", 1), "Plugin2", ("Plugin3", 3))),
     Plugins(filter=ps(("Plugin1", 2), ("Plugin3", 4))),
     Plugins(filter=ps(("Plugin1", 2), "Plugin2", ("Plugin3", 4)))),
    # OrderPreserveAfterOverride
    (Plugins(filter=ps(("Plugin1", 1), ("Plugin2", 1), ("Plugin3", 3))),
     Plugins(filter=ps(("Plugin2", 2), ("Plugin1", 2))),
     Plugins(filter=ps(("Plugin1", 2), ("Plugin2", 2), ("Plugin3", 3)))),
    # RepeatedCustomPlugin
    (Plugins(filter=ps("Plugin1", "Plugin2", "Plugin3")),
     Plugins(filter=ps("Plugin1", ("Plugin2", 2), "Plugin3", ("Plugin2", 4))),
     Plugins(filter=ps("Plugin1", ("Plugin2", 4), "Plugin3", ("Plugin2", 2)))),
    # Append custom MultiPoint plugin
    (Plugins(multi_point=ps("DefaultPlugin")), Plugins(multi_point=ps("CustomPlugin")),
     Plugins(multi_point=ps("DefaultPlugin", "CustomPlugin"))),
    # Append disabled Multipoint plugins
    (Plugins(multi_point=ps("DefaultPlugin1", "DefaultPlugin2"), score=ps(disabled=("DefaultPlugin1",))),
     Plugins(multi_point=ps("CustomPlugin", "CustomPlugin2"), score=ps(disabled=("DefaultPlugin2", "CustomPlugin"))),
     Plugins(multi_point=ps("DefaultPlugin1", "DefaultPlugin2", "CustomPlugin", "CustomPlugin2"),
             score=ps(disabled=("DefaultPlugin2", "CustomPlugin", "DefaultPlugin1")))),
])
def test_merge_plugins(default, custom, want):
    assert merge_plugins(default, custom) == want


def test_profile_plugins_merge_with_the_defaults():
    cfg = load("""
        profiles:
        - plugins:
            multiPoint:
              enabled: [{name: NodeAffinity, weight: 7}]
              disabled: [{name: ImageLocality}]
            score:
              disabled: [{name: "*"}]
        """)
    plugins = cfg.profiles[0].plugins
    names = [(p.name, p.weight) for p in plugins.multi_point.enabled]
    assert ("NodeAffinity", 7) in names and "ImageLocality" not in [n for n, _ in names]
    assert names.index(("NodeAffinity", 7)) == 4  # replaced in place
    assert plugins.score == ps(disabled=("*",))
    assert plugins.multi_point.disabled == [Plugin("ImageLocality")]
    assert default_plugins().multi_point.enabled[3] == Plugin("TaintToleration", 3)


# -- validation (TestValidateKubeSchedulerConfigurationV1) ---------------------------------------

@pytest.mark.parametrize("body, want", [
    ("parallelism: 0", "parallelism: Invalid value: 0: should be an integer value greater than zero"),
    ("percentageOfNodesToScore: 101", "percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]"),
    ("percentageOfNodesToScore: -1", "percentageOfNodesToScore: Invalid value: -1: not in valid range [0-100]"),
    ("profiles: [{percentageOfNodesToScore: 110}]",
     "profiles[0].percentageOfNodesToScore: Invalid value: 110: not in valid range [0-100]"),
    ("podInitialBackoffSeconds: 0", "podInitialBackoffSeconds: Invalid value: 0: must be greater than 0"),
    ("podInitialBackoffSeconds: 2\npodMaxBackoffSeconds: 1",
     "podMaxBackoffSeconds: Invalid value: 1: must be greater than or equal to PodInitialBackoffSeconds"),
    ("profiles: [{schedulerName: a}, {schedulerName: a}]",
     'profiles[1].schedulerName: Duplicate value: "profiles[0].schedulerName"'),
    ("profiles: [{schedulerName: a, pluginConfig: [{name: NodeAffinity}, {name: NodeAffinity}]}]",
     'profiles[0].pluginConfig[1]: Duplicate value: "NodeAffinity"'),
    ("profiles: [{plugins: {filter: {enabled: [{name: SelectorSpread}]}}}]",
     'profiles[0].plugins.filter.enabled[0]: Invalid value: "SelectorSpread": was invalid in version '
     '"kubescheduler.config.k8s.io/v1" (KubeSchedulerConfiguration is version "kubescheduler.config.k8s.io/v1")'),
    ("profiles: [{plugins: {score: {enabled: [{name: NodeResourcesLeastAllocated}]}}}]",
     'profiles[0].plugins.score.enabled[0]: Invalid value: "NodeResourcesLeastAllocated": was invalid in version '
     '"kubescheduler.config.k8s.io/v1beta3" (KubeSchedulerConfiguration is version "kubescheduler.config.k8s.io/v1")'),
    ("profiles: [{pluginConfig: [{name: SelectorSpread}]}]",
     'profiles[0].pluginConfig[0]: Invalid value: "SelectorSpread": was invalid in version '
     '"kubescheduler.config.k8s.io/v1" (KubeSchedulerConfiguration is version "kubescheduler.config.k8s.io/v1")'),
    ("profiles:\n- schedulerName: a\n- schedulerName: b\n  plugins: {queueSort: {enabled: [{name: Custom}],"
     " disabled: [{name: '*'}]}}",
     "profiles[1].plugins.queueSort: Invalid value: "
     'map[string]interface {}{"disabled":[]string{"*"}, "enabled":[]string{"Custom"}}: must be the same for all profiles'),
    # kbook does not model volumes (the path is into the profile merged with the defaults)
    ("profiles: [{plugins: {multiPoint: {enabled: [{name: VolumeBinding}]}}}]",
     'profiles[0].plugins.multiPoint.enabled[14]: Invalid value: "VolumeBinding": '
     "the VolumeBinding plugin is not modelled: kbook has no volumes"),
    ("profiles: [{pluginConfig: [{name: VolumeBinding, args: {bindTimeoutSeconds: 60}}]}]",
     'profiles[0].pluginConfig[0]: Invalid value: "VolumeBinding": '
     "the VolumeBinding plugin is not modelled: kbook has no volumes"),
    # several problems: one aggregate
    ("parallelism: -1\npercentageOfNodesToScore: 200",
     "[parallelism: Invalid value: -1: should be an integer value greater than zero, "
     "percentageOfNodesToScore: Invalid value: 200: not in valid range [0-100]]"),
])
def test_validation(body, want):
    assert errors_of(body) == want


def test_validation_errors_are_listed_one_per_line():
    with pytest.raises(ConfigError) as e:
        load("parallelism: 0\npodInitialBackoffSeconds: 0")
    assert e.value.errors == ["parallelism: Invalid value: 0: should be an integer value greater than zero",
                              "podInitialBackoffSeconds: Invalid value: 0: must be greater than 0"]


def test_disabling_a_volume_plugin_is_fine():
    cfg = load("profiles: [{plugins: {multiPoint: {disabled: [{name: VolumeBinding}]}}}]")
    assert "VolumeBinding" not in cfg.profiles[0].plugins.multi_point.names()


# -- strict decoding ----------------------------------------------------------------------------

@pytest.mark.parametrize("body, want", [
    ("percentageOfNodeToScore: 50", 'strict decoding error: unknown field "percentageOfNodeToScore"'),
    ("profiles: [{schedulerName: a, plugin: {}}]", 'strict decoding error: unknown field "profiles[0].plugin"'),
    ("profiles: [{plugins: {filters: {}}}]", 'strict decoding error: unknown field "profiles[0].plugins.filters"'),
    ("profiles: [{plugins: {filter: {enabled: [{name: A, weigth: 2}]}}}]",
     'strict decoding error: unknown field "profiles[0].plugins.filter.enabled[0].weigth"'),
    ("profiles: [{pluginConfig: [{name: InterPodAffinity, args: {hardPodAffinityWeigth: 2}}]}]",
     'strict decoding error: unknown field "profiles[0].pluginConfig[0].args.hardPodAffinityWeigth"'),
    ("foo: 1\nbar: 2", 'strict decoding error: unknown field "foo", unknown field "bar"'),
    ("percentageOfNodesToScore: '50'",
     "json: cannot unmarshal string into Go struct field KubeSchedulerConfiguration.percentageOfNodesToScore "
     "of type int32"),
    ("profiles: [{plugins: {score: {enabled: [{name: A, weight: 1.5}]}}}]",
     "json: cannot unmarshal number 1.5 into Go struct field KubeSchedulerConfiguration.profiles.plugins.score."
     "enabled.weight of type int32"),
    ("profiles: {}", "json: cannot unmarshal object into Go struct field KubeSchedulerConfiguration.profiles "
                     "of type []v1.KubeSchedulerProfile"),
    ("profiles: [{pluginConfig: [{name: NodeAffinity, args: {kind: InterPodAffinityArgs}}]}]",
     "profiles[0].pluginConfig[0].args: Invalid value: "
     'map[string]string{"kind":"InterPodAffinityArgs"}: has to match plugin args'),
    ("extenders: [{urlPrefix: 'http://x'}]",
     "extenders: Forbidden: not modelled: kbook has no scheduler extenders"),
])
def test_strict_decoding(body, want):
    assert errors_of(body) == want


def test_operational_fields_are_accepted():
    cfg = load("""
        leaderElection: {leaderElect: false}
        clientConnection: {qps: 100}
        enableProfiling: false
        """)
    assert cfg.parallelism == 16


@pytest.mark.parametrize("text, want", [
    ("apiVersion: v1\nkind: Pod\n", 'no kind "Pod" is registered for version "v1"'),
    ("apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n",
     'no kind "KubeSchedulerConfiguration" is registered for version "kubescheduler.config.k8s.io/v1beta3"'),
    ("apiVersion: kubescheduler.config.k8s.io/v1\n", "Object 'Kind' is missing in"),
    ("profiles: [", "error converting YAML to JSON"),
])
def test_bad_documents(text, want):
    with pytest.raises(ConfigError) as e:
        KubeSchedulerConfiguration.loads(text)
    assert want in str(e.value)


def test_load_file(tmp_path):
    path = tmp_path / "sched.yaml"
    path.write_text(HEADER + "percentageOfNodesToScore: 30\nprofiles: [{schedulerName: a}, {schedulerName: b}]\n")
    cfg = KubeSchedulerConfiguration.load_file(path)
    assert cfg.percentage_of_nodes_to_score == 30
    assert [p.scheduler_name for p in cfg.profiles] == ["a", "b"] and cfg.profile("b").scheduler_name == "b"
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        KubeSchedulerConfiguration.load_file(tmp_path / "missing.yaml")
