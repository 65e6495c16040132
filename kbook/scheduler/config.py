"""``KubeSchedulerConfiguration`` (``kubescheduler.config.k8s.io/v1``): profiles, their
plugins per extension point and plugin args, read from YAML, defaulted and validated as
kube-scheduler v1.28 does.

Decoding is strict (an unknown key is an error naming it, as the scheme's strict decoder
reports), defaulting is ``apis/config/v1/defaults.go`` (``SetDefaults_KubeSchedulerConfiguration``,
the default MultiPoint plugin set of ``default_plugins.go`` merged with the profile's own by
``mergePlugins``, default args of the in-tree plugins), and validation is
``apis/config/validation/validation.go`` with its messages. Expanding MultiPoint into the
extension points and checking plugin names against the registry happen when a profile
becomes a :class:`~kbook.scheduler.framework.Framework`, as ``NewFramework`` does.

kbook has no volumes, so the volume plugins of the default set are left out and naming
one is a :class:`ConfigError` (:data:`NOT_MODELLED`).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Callable

import yaml

from kbook.errors import FieldError, KbookError, aggregate

__all__ = [
    "API_VERSION",
    "KIND",
    "DEFAULT_SCHEDULER_NAME",
    "DEFAULT_PERCENTAGE_OF_NODES_TO_SCORE",
    "DEFAULT_PARALLELISM",
    "DEFAULT_POD_INITIAL_BACKOFF_SECONDS",
    "DEFAULT_POD_MAX_BACKOFF_SECONDS",
    "PLUGIN_SET_FIELDS",
    "NOT_MODELLED",
    "not_modelled_reason",
    "ConfigError",
    "Plugin",
    "PluginSet",
    "Plugins",
    "PluginConfig",
    "Profile",
    "KubeSchedulerConfiguration",
    "default_plugins",
    "merge_plugins",
    "default_plugin_args",
    "default_config",
]

API_VERSION = "kubescheduler.config.k8s.io/v1"
KIND = "KubeSchedulerConfiguration"
DEFAULT_SCHEDULER_NAME = "default-scheduler"  # v1.DefaultSchedulerName
DEFAULT_PERCENTAGE_OF_NODES_TO_SCORE = 0  # config.DefaultPercentageOfNodesToScore (adaptive)
DEFAULT_PARALLELISM = 16
DEFAULT_POD_INITIAL_BACKOFF_SECONDS = 1
DEFAULT_POD_MAX_BACKOFF_SECONDS = 10

# The wire names of ``Plugins``' extension points, in the order of the v1 struct.
PLUGIN_SET_FIELDS = ("preEnqueue", "queueSort", "preFilter", "filter", "postFilter", "preScore", "score",
                     "reserve", "permit", "preBind", "bind", "postBind", "multiPoint")

# Fields of the v1 struct that tune the process, not placements: accepted, not modelled.
_OPERATIONAL_FIELDS = ("leaderElection", "clientConnection", "enableProfiling", "enableContentionProfiling",
                       "delayCacheUntilActive")

# In upstream's in-tree registry but not modelled (kbook's pods have no volumes or
# resource claims, so these plugins would never reject or score a node): name -> why.
NOT_MODELLED: dict[str, str] = {
    "VolumeBinding": "kbook has no volumes",
    "VolumeRestrictions": "kbook has no volumes",
    "VolumeZone": "kbook has no volumes",
    "NodeVolumeLimits": "kbook has no volumes",
    "EBSLimits": "kbook has no volumes",
    "GCEPDLimits": "kbook has no volumes",
    "AzureDiskLimits": "kbook has no volumes",
    "DynamicResources": "kbook has no resource claims",
}

# Plugins whose configuration was removed before v1 (validation.go invalidPluginsByVersion, v1.28).
_INVALID_PLUGINS_BY_VERSION = (
    ("kubescheduler.config.k8s.io/v1beta3", ("NodeLabel", "ServiceAffinity", "NodePreferAvoidPods",
                                             "NodeResourcesLeastAllocated", "NodeResourcesMostAllocated",
                                             "RequestedToCapacityRatio")),
    (API_VERSION, ("SelectorSpread",)),
)


def not_modelled_reason(name: str) -> str:
    """Why a plugin of :data:`NOT_MODELLED` cannot be configured."""
    return f"the {name} plugin is not modelled: {NOT_MODELLED[name]}"


class ConfigError(KbookError, ValueError):
    """A scheduler configuration kube-scheduler would refuse: bad YAML, an unknown field,
    a value failing validation (``errors`` holds one line per problem, joined as
    ``utilerrors.Aggregate`` prints them), or a plugin that cannot be built."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        self.errors = list(errors) if errors else [message]
        super().__init__(message)


# -- the configuration types ------------------------------------------------------------


@dataclass
class Plugin:
    """``config.Plugin``: a plugin's name and, for Score, its weight (0 = unset, which
    the framework turns into 1)."""

    name: str
    weight: int = 0


@dataclass
class PluginSet:
    """``config.PluginSet``: plugins enabled at an extension point, in order, and the
    defaults disabled there (``*`` disables them all)."""

    enabled: list[Plugin] = field(default_factory=list)
    disabled: list[Plugin] = field(default_factory=list)

    def names(self) -> list[str]:
        return [p.name for p in self.enabled]


@dataclass
class Plugins:
    """``config.Plugins``: one :class:`PluginSet` per extension point, plus MultiPoint."""

    pre_enqueue: PluginSet = field(default_factory=PluginSet)
    queue_sort: PluginSet = field(default_factory=PluginSet)
    pre_filter: PluginSet = field(default_factory=PluginSet)
    filter: PluginSet = field(default_factory=PluginSet)
    post_filter: PluginSet = field(default_factory=PluginSet)
    pre_score: PluginSet = field(default_factory=PluginSet)
    score: PluginSet = field(default_factory=PluginSet)
    reserve: PluginSet = field(default_factory=PluginSet)
    permit: PluginSet = field(default_factory=PluginSet)
    pre_bind: PluginSet = field(default_factory=PluginSet)
    bind: PluginSet = field(default_factory=PluginSet)
    post_bind: PluginSet = field(default_factory=PluginSet)
    multi_point: PluginSet = field(default_factory=PluginSet)

    def point(self, wire_name: str) -> PluginSet:
        """The set of an extension point by its wire name (``preFilter``, ``multiPoint``)."""
        return getattr(self, _snake(wire_name))


@dataclass
class PluginConfig:
    """``config.PluginConfig``: a plugin's args, as a dict with upstream's camelCase keys."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Profile:
    """``config.KubeSchedulerProfile``: a scheduler name, its plugins and their args."""

    scheduler_name: str = DEFAULT_SCHEDULER_NAME
    percentage_of_nodes_to_score: int | None = None
    plugins: Plugins = field(default_factory=Plugins)
    plugin_config: list[PluginConfig] = field(default_factory=list)

    def args(self, name: str) -> dict[str, Any]:
        """The args configured for a plugin (a copy), ``{}`` when there are none."""
        for pc in self.plugin_config:
            if pc.name == name:
                return copy.deepcopy(pc.args)
        return {}


@dataclass
class KubeSchedulerConfiguration:
    """``config.KubeSchedulerConfiguration``, defaulted: what placements depend on."""

    profiles: list[Profile] = field(default_factory=list)
    percentage_of_nodes_to_score: int = DEFAULT_PERCENTAGE_OF_NODES_TO_SCORE
    pod_initial_backoff_seconds: int = DEFAULT_POD_INITIAL_BACKOFF_SECONDS
    pod_max_backoff_seconds: int = DEFAULT_POD_MAX_BACKOFF_SECONDS
    parallelism: int = DEFAULT_PARALLELISM

    @classmethod
    def loads(cls, text: str, source: str = "<string>") -> KubeSchedulerConfiguration:
        """Decode (strictly), default and validate a configuration document."""
        try:
            doc = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as e:
            raise ConfigError(f"{source}: error converting YAML to JSON: {e}") from None
        return cls.from_dict(doc)

    @classmethod
    def load_file(cls, path: str | PathLike[str]) -> KubeSchedulerConfiguration:
        """``loadConfigFromFile``."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{p}: cannot read the configuration: {e}") from None
        return cls.loads(text, str(p))

    @classmethod
    def from_dict(cls, doc: Any) -> KubeSchedulerConfiguration:
        """Decode a parsed document: strict decoding, ``SetDefaults_KubeSchedulerConfiguration``,
        ``ValidateKubeSchedulerConfiguration``."""
        cfg = _decode(doc)
        cfg.validate()
        return cfg

    def profile(self, scheduler_name: str) -> Profile:
        for p in self.profiles:
            if p.scheduler_name == scheduler_name:
                return p
        raise KeyError(scheduler_name)

    def validate(self) -> None:
        """``ValidateKubeSchedulerConfiguration``; raises :class:`ConfigError`."""
        errs: list[FieldError | str] = []
        if self.parallelism <= 0:
            errs.append(FieldError.invalid("parallelism", self.parallelism,
                                           "should be an integer value greater than zero"))
        if not self.profiles:
            errs.append(FieldError.required("profiles"))
        else:
            seen: dict[str, int] = {}
            for i, prof in enumerate(self.profiles):
                path = f"profiles[{i}]"
                errs += _validate_profile(path, prof)
                if prof.scheduler_name in seen:
                    # upstream's bad value is the *field.Path of the first profile's name
                    errs.append(FieldError.duplicate(f"{path}.schedulerName",
                                                     f"profiles[{seen[prof.scheduler_name]}].schedulerName"))
                seen[prof.scheduler_name] = i
            errs += _validate_common_queue_sort(self.profiles)
        errs += _validate_percentage("percentageOfNodesToScore", self.percentage_of_nodes_to_score)
        if self.pod_initial_backoff_seconds <= 0:
            errs.append(FieldError.invalid("podInitialBackoffSeconds", self.pod_initial_backoff_seconds,
                                           "must be greater than 0"))
        if self.pod_max_backoff_seconds < self.pod_initial_backoff_seconds:
            errs.append(FieldError.invalid("podMaxBackoffSeconds", self.pod_max_backoff_seconds,
                                           "must be greater than or equal to PodInitialBackoffSeconds"))
        if errs:
            lines = [str(e) for e in errs]
            raise ConfigError(aggregate(lines), lines)


# -- validation -------------------------------------------------------------------------


def _validate_percentage(path: str, value: int | None) -> list[FieldError]:
    """``validatePercentageOfNodesToScore``."""
    if value is not None and not 0 <= value <= 100:
        return [FieldError.invalid(path, value, "not in valid range [0-100]")]
    return []


def _invalid_in_version(name: str) -> str | None:
    """``isPluginInvalid`` for a v1 configuration: the version that removed the plugin."""
    for version, plugins in _INVALID_PLUGINS_BY_VERSION:
        if name in plugins:
            return version
        if version == API_VERSION:
            break
    return None


def _validate_profile(path: str, prof: Profile) -> list[FieldError]:
    """``validateKubeSchedulerProfile`` and ``validatePluginConfig``, plus kbook's refusal
    of the plugins it does not model."""
    errs: list[FieldError] = []
    if not prof.scheduler_name:
        errs.append(FieldError.required(f"{path}.schedulerName"))
    errs += _validate_percentage(f"{path}.percentageOfNodesToScore", prof.percentage_of_nodes_to_score)
    for point in PLUGIN_SET_FIELDS:
        for i, p in enumerate(prof.plugins.point(point).enabled):
            fpath = f"{path}.plugins.{point}.enabled[{i}]"
            version = _invalid_in_version(p.name)
            if version is not None and point != "multiPoint":
                errs.append(FieldError.invalid(fpath, p.name, _invalid_detail(version)))
            elif p.name in NOT_MODELLED:
                errs.append(FieldError.invalid(fpath, p.name, not_modelled_reason(p.name)))
    seen: set[str] = set()
    for i, pc in enumerate(prof.plugin_config):
        fpath = f"{path}.pluginConfig[{i}]"
        if pc.name in seen:
            errs.append(FieldError.duplicate(fpath, pc.name))
        seen.add(pc.name)
        version = _invalid_in_version(pc.name)
        if version is not None:
            errs.append(FieldError.invalid(fpath, pc.name, _invalid_detail(version)))
        elif pc.name in NOT_MODELLED:
            errs.append(FieldError.invalid(fpath, pc.name, not_modelled_reason(pc.name)))
    return errs


def _invalid_detail(version: str) -> str:
    return f'was invalid in version "{version}" (KubeSchedulerConfiguration is version "{API_VERSION}")'


def _validate_common_queue_sort(profiles: list[Profile]) -> list[FieldError]:
    """``validateCommonQueueSort``: every profile sorts the one queue the same way."""
    errs: list[FieldError] = []
    canon = profiles[0].plugins.queue_sort
    name = canon.enabled[0].name if canon.enabled else ""
    if len(canon.enabled) > 1:
        errs.append(FieldError.invalid("profiles[0].plugins.queueSort.Enabled", len(canon.enabled),
                                       "only one queue sort plugin can be enabled"))
    args = next((pc.args for pc in profiles[0].plugin_config if name and pc.name == name), None)
    for i, prof in enumerate(profiles[1:], start=1):
        curr = prof.plugins.queue_sort
        if curr != canon:
            errs.append(FieldError.invalid(f"profiles[{i}].plugins.queueSort", _plugin_set_value(curr),
                                           "must be the same for all profiles"))
        for pc in prof.plugin_config:
            if pc.name == name and pc.args != args:
                errs.append(FieldError.invalid(f"profiles[{i}].pluginConfig.args", pc.args,
                                               "queueSort must be the same for all profiles"))
    return errs


def _plugin_set_value(ps: PluginSet) -> dict[str, Any]:
    return {"enabled": [p.name for p in ps.enabled], "disabled": [p.name for p in ps.disabled]}


# -- defaults ---------------------------------------------------------------------------

# getDefaultPlugins (v1.28) without the volume plugins kbook does not model; SchedulingGates
# is appended by applyFeatureGates because PodSchedulingReadiness is beta (on) in v1.28.
_DEFAULT_MULTI_POINT: tuple[tuple[str, int], ...] = (
    ("PrioritySort", 0),
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", 0),
    ("NodeResourcesFit", 1),
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("DefaultPreemption", 0),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
    ("DefaultBinder", 0),
    ("SchedulingGates", 0),
)


def default_plugins() -> Plugins:
    """``getDefaultPlugins``: every default plugin enabled through MultiPoint, with the
    score weights TaintToleration 3, NodeAffinity 2, NodeResourcesFit 1,
    PodTopologySpread 2, InterPodAffinity 2, BalancedAllocation 1, ImageLocality 1."""
    return Plugins(multi_point=PluginSet(enabled=[Plugin(n, w) for n, w in _DEFAULT_MULTI_POINT]))


def _merge_plugin_set(default: PluginSet, custom: PluginSet) -> PluginSet:
    """``mergePluginSet``: the defaults minus the disabled ones (all of them for ``*``),
    a default re-configured by the custom set replaced in place, then the other custom
    plugins in their order (duplicates kept: the framework refuses them)."""
    disabled = [Plugin(p.name) for p in custom.disabled] + [Plugin(p.name) for p in default.disabled]
    disabled_names = {p.name for p in disabled}
    custom_by_name = {p.name: i for i, p in enumerate(custom.enabled)}
    replaced: set[int] = set()
    enabled: list[Plugin] = []
    if "*" not in disabled_names:
        for p in default.enabled:
            if p.name in disabled_names:
                continue
            if p.name in custom_by_name:
                i = custom_by_name[p.name]
                p = custom.enabled[i]
                replaced.add(i)
            enabled.append(Plugin(p.name, p.weight))
    enabled += [Plugin(p.name, p.weight) for i, p in enumerate(custom.enabled) if i not in replaced]
    return PluginSet(enabled, disabled)


def merge_plugins(default: Plugins, custom: Plugins | None) -> Plugins:
    """``mergePlugins``."""
    if custom is None:
        return default
    return Plugins(**{_snake(f): _merge_plugin_set(default.point(f), custom.point(f)) for f in PLUGIN_SET_FIELDS})


def _resource_spec_defaults(resources: Any) -> Any:
    """A weight missing or 0 becomes 1 (``SetDefaults_*Args``)."""
    if isinstance(resources, list):
        for r in resources:
            if isinstance(r, dict) and not r.get("weight"):
                r["weight"] = 1
    return resources


def _default_resources() -> list[dict[str, Any]]:
    return [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}]  # defaultResourceSpec


def _default_preemption_args(args: dict[str, Any]) -> None:
    args.setdefault("minCandidateNodesPercentage", 10)
    args.setdefault("minCandidateNodesAbsolute", 100)


def _inter_pod_affinity_args(args: dict[str, Any]) -> None:
    args.setdefault("hardPodAffinityWeight", 1)


def _node_affinity_args(args: dict[str, Any]) -> None:
    """``NodeAffinityArgs`` has no defaults (``addedAffinity`` stays unset)."""


def _balanced_allocation_args(args: dict[str, Any]) -> None:
    if not args.get("resources"):
        args["resources"] = _default_resources()
    else:
        _resource_spec_defaults(args["resources"])


def _fit_args(args: dict[str, Any]) -> None:
    strategy = args.get("scoringStrategy")
    if strategy is None:
        args["scoringStrategy"] = {"type": "LeastAllocated", "resources": _default_resources()}
        return
    if isinstance(strategy, dict):
        if not strategy.get("resources"):
            strategy["resources"] = _default_resources()
        else:
            _resource_spec_defaults(strategy["resources"])


def _pod_topology_spread_args(args: dict[str, Any]) -> None:
    if not args.get("defaultingType"):
        args["defaultingType"] = "System"


# The in-tree plugins with an ``<Name>Args`` kind, their defaulting and their fields.
_ARGS: dict[str, tuple[Callable[[dict[str, Any]], None], tuple[str, ...]]] = {
    "DefaultPreemption": (_default_preemption_args, ("minCandidateNodesPercentage", "minCandidateNodesAbsolute")),
    "InterPodAffinity": (_inter_pod_affinity_args, ("hardPodAffinityWeight", "ignorePreferredTermsOfExistingPods")),
    "NodeAffinity": (_node_affinity_args, ("addedAffinity",)),
    "NodeResourcesBalancedAllocation": (_balanced_allocation_args, ("resources",)),
    "NodeResourcesFit": (_fit_args, ("ignoredResources", "ignoredResourceGroups", "scoringStrategy")),
    "PodTopologySpread": (_pod_topology_spread_args, ("defaultConstraints", "defaultingType")),
}


def default_plugin_args(name: str, args: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The args of an in-tree plugin with v1's defaults applied (``SetDefaults_<Name>Args``);
    ``None`` for a plugin without an args kind."""
    if name not in _ARGS:
        return None
    out = copy.deepcopy(args) if args else {}
    _ARGS[name][0](out)
    return out


def _plugins_names(plugins: Plugins) -> list[str]:
    """``pluginsNames``: every enabled plugin at any point, sorted."""
    return sorted({p.name for f in PLUGIN_SET_FIELDS for p in plugins.point(f).enabled})


def _default_profile(prof: Profile, custom_plugins: Plugins | None) -> None:
    """``setDefaults_KubeSchedulerProfile``: merge with the default plugins, default the
    given args and append default args for enabled plugins that have none."""
    prof.plugins = merge_plugins(default_plugins(), custom_plugins)
    existing = set()
    for pc in prof.plugin_config:
        existing.add(pc.name)
        defaulted = default_plugin_args(pc.name, pc.args)
        if defaulted is not None:
            pc.args = defaulted
    for name in _plugins_names(prof.plugins):
        if name not in existing:
            defaulted = default_plugin_args(name)
            if defaulted is not None:
                prof.plugin_config.append(PluginConfig(name, defaulted))


def default_config() -> KubeSchedulerConfiguration:
    """The configuration kube-scheduler runs with when given none: one profile,
    ``default-scheduler``, with the default plugins and args."""
    return KubeSchedulerConfiguration.from_dict({"apiVersion": API_VERSION, "kind": KIND})


# -- strict decoding --------------------------------------------------------------------


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML as ``sigs.k8s.io/yaml`` reads a configuration file."""


class _Decoder:
    """Reads the v1 wire form, collecting unknown fields (reported together, as the
    strict decoder does) and raising on a value of the wrong type."""

    def __init__(self) -> None:
        self.unknown: list[str] = []

    def fields(self, obj: Any, path: str, go_path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if obj is None:
            return {}
        if not isinstance(obj, dict):
            raise _type_error(obj, go_path, "object")
        for key in obj:
            if key not in allowed:
                self.unknown.append(f"{path}.{key}" if path else str(key))
        return obj

    @staticmethod
    def int_(value: Any, go_path: str, go_type: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(value, go_path, go_type)
        return value

    @staticmethod
    def str_(value: Any, go_path: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise _type_error(value, go_path, "string")
        return value

    @staticmethod
    def list_(value: Any, go_path: str, go_type: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise _type_error(value, go_path, go_type)
        return value


def _json_type(value: Any) -> str:
    """How ``encoding/json`` names a JSON value in an ``UnmarshalTypeError``."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return f"number {json.dumps(value)}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_error(value: Any, go_path: str, go_type: str) -> ConfigError:
    return ConfigError(f"json: cannot unmarshal {_json_type(value)} into Go struct field "
                       f"KubeSchedulerConfiguration.{go_path} of type {go_type}")


def _decode_plugin_set(d: _Decoder, obj: Any, path: str, go_path: str) -> PluginSet:
    raw = d.fields(obj, path, go_path, ("enabled", "disabled"))
    sets: dict[str, list[Plugin]] = {}
    for key in ("enabled", "disabled"):
        items = d.list_(raw.get(key), f"{go_path}.{key}", "[]v1.Plugin")
        out = []
        for i, item in enumerate(items):
            p = d.fields(item, f"{path}.{key}[{i}]", f"{go_path}.{key}", ("name", "weight"))
            out.append(Plugin(d.str_(p.get("name"), f"{go_path}.{key}.name") or "",
                              d.int_(p.get("weight"), f"{go_path}.{key}.weight", "int32") or 0))
        sets[key] = out
    return PluginSet(sets["enabled"], sets["disabled"])


def _decode_args(d: _Decoder, name: str, obj: Any, path: str) -> dict[str, Any]:
    """A ``pluginConfig[].args`` object: its ``kind``, if given, must be ``<name>Args``
    (validation's "has to match plugin args"); the fields of an in-tree args kind are
    checked strictly; the plugin's factory validates the values."""
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise _type_error(obj, "profiles.pluginConfig.args", "runtime.RawExtension")
    args = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    kind = obj.get("kind")
    if kind is not None and kind != f"{name}Args":
        raise ConfigError(str(FieldError.invalid(f"{path}.args", obj, "has to match plugin args")))
    version = obj.get("apiVersion")
    if version is not None and version != API_VERSION:
        raise ConfigError(f'{path}.args: no kind "{kind}" is registered for version "{version}"')
    if name in _ARGS:
        d.fields(args, f"{path}.args", "profiles.pluginConfig.args", _ARGS[name][1])
    return copy.deepcopy(args)


def _decode(doc: Any) -> KubeSchedulerConfiguration:
    """Strict decoding and ``SetDefaults_KubeSchedulerConfiguration``."""
    if not isinstance(doc, dict) or not doc.get("kind"):
        raise ConfigError(f"Object 'Kind' is missing in '{json.dumps(doc, sort_keys=True, default=str)}'")
    if doc.get("apiVersion") != API_VERSION or doc.get("kind") != KIND:
        raise ConfigError(f'no kind "{doc.get("kind")}" is registered for version "{doc.get("apiVersion")}": '
                          f'expected apiVersion "{API_VERSION}" and kind "{KIND}"')
    d = _Decoder()
    top = d.fields(doc, "", "", ("apiVersion", "kind", "parallelism", "percentageOfNodesToScore",
                                 "podInitialBackoffSeconds", "podMaxBackoffSeconds", "profiles", "extenders")
                   + _OPERATIONAL_FIELDS)
    if d.list_(top.get("extenders"), "extenders", "[]v1.Extender"):
        raise ConfigError(str(FieldError.forbidden("extenders", "not modelled: kbook has no scheduler extenders")))
    raw_profiles = d.list_(top.get("profiles"), "profiles", "[]v1.KubeSchedulerProfile")
    profiles: list[tuple[Profile, Plugins | None]] = []
    for i, rp in enumerate(raw_profiles):
        path = f"profiles[{i}]"
        p = d.fields(rp, path, "profiles", ("schedulerName", "percentageOfNodesToScore", "plugins", "pluginConfig"))
        name = d.str_(p.get("schedulerName"), "profiles.schedulerName")
        pct = d.int_(p.get("percentageOfNodesToScore"), "profiles.percentageOfNodesToScore", "int32")
        custom = None
        if p.get("plugins") is not None:
            rplugins = d.fields(p["plugins"], f"{path}.plugins", "profiles.plugins", PLUGIN_SET_FIELDS)
            custom = Plugins(**{_snake(f): _decode_plugin_set(d, rplugins.get(f), f"{path}.plugins.{f}",
                                                              f"profiles.plugins.{f}")
                                for f in PLUGIN_SET_FIELDS})
        pcs = []
        for j, rpc in enumerate(d.list_(p.get("pluginConfig"), "profiles.pluginConfig", "[]v1.PluginConfig")):
            pc = d.fields(rpc, f"{path}.pluginConfig[{j}]", "profiles.pluginConfig", ("name", "args"))
            pc_name = d.str_(pc.get("name"), "profiles.pluginConfig.name") or ""
            pcs.append(PluginConfig(pc_name, _decode_args(d, pc_name, pc.get("args"), f"{path}.pluginConfig[{j}]")))
        profiles.append((Profile(name if name is not None else "", pct, Plugins(), pcs), custom))
    if d.unknown:
        raise ConfigError("strict decoding error: " + ", ".join(f'unknown field "{u}"' for u in d.unknown))

    parallelism = d.int_(top.get("parallelism"), "parallelism", "int32")
    pct = d.int_(top.get("percentageOfNodesToScore"), "percentageOfNodesToScore", "int32")
    initial = d.int_(top.get("podInitialBackoffSeconds"), "podInitialBackoffSeconds", "int64")
    maximum = d.int_(top.get("podMaxBackoffSeconds"), "podMaxBackoffSeconds", "int64")
    if not profiles:
        profiles.append((Profile(""), None))
    if len(profiles) == 1 and not _named(raw_profiles):
        profiles[0][0].scheduler_name = DEFAULT_SCHEDULER_NAME
    for prof, custom in profiles:
        _default_profile(prof, custom)
    return KubeSchedulerConfiguration(
        profiles=[prof for prof, _ in profiles],
        percentage_of_nodes_to_score=DEFAULT_PERCENTAGE_OF_NODES_TO_SCORE if pct is None else pct,
        pod_initial_backoff_seconds=DEFAULT_POD_INITIAL_BACKOFF_SECONDS if initial is None else initial,
        pod_max_backoff_seconds=DEFAULT_POD_MAX_BACKOFF_SECONDS if maximum is None else maximum,
        parallelism=DEFAULT_PARALLELISM if parallelism is None else parallelism,
    )


def _named(raw_profiles: list[Any]) -> bool:
    """Whether the single profile sets ``schedulerName`` (a nil pointer gets the default)."""
    return bool(raw_profiles) and isinstance(raw_profiles[0], dict) and raw_profiles[0].get("schedulerName") is not None


def _snake(wire: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in wire)
