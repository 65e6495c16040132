"""Validation of pods and pod templates: containers, resources, probes, scheduling constraints.

Ported from ``pkg/apis/core/validation/validation.go`` function by function (each
docstring names its upstream function), for the fields :mod:`kbook.api.core` models;
messages, bad-value rendering and field paths are upstream's, quirks included
(toleration values are reported under ``.operator``). Validation runs on defaulted
objects, as the API server's does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from kbook.api.core import (
    Affinity,
    Container,
    ContainerPort,
    EnvVar,
    ExecAction,
    HTTPGetAction,
    IntOrString,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
    PodAffinityTerm,
    PodSpec,
    PodTemplateSpec,
    Probe,
    ResourceRequirements,
    TCPSocketAction,
    Toleration,
    TopologySpreadConstraint,
    WeightedPodAffinityTerm,
)
from kbook.api.formats import (
    inclusive_range_error,
    is_http_header_name,
    is_relaxed_env_var_name,
    is_valid_label_value,
    is_valid_port_name,
    is_valid_port_num,
)
from kbook.api.model import Path
from kbook.api.resource_names import (
    HUGEPAGES_PREFIX,
    hugepage_value_error,
    is_overcommit_allowed,
    validate_container_resource_name,
    validate_resource_quantity_value,
)
from kbook.api.selectors import LabelSelector
from kbook.api.validation import (
    each,
    invalid,
    name_is_dns_label,
    name_is_dns_subdomain,
    validate_annotations,
    validate_choice,
    validate_dns1123_label,
    validate_dns1123_subdomain,
    validate_label_name,
    validate_label_selector,
    validate_labels,
    validate_nonnegative_field,
    validate_object_meta,
)
from kbook.errors import FieldError

__all__ = [
    "validate_pod",
    "validate_pod_spec",
    "validate_pod_template_spec",
    "validate_resource_requirements",
    "validate_port_num_or_name",
    "SUPPORTED_PORT_PROTOCOLS",
    "TAINT_EFFECTS",
]

Errors = list[FieldError]

_MAX_INT32 = 2**31 - 1
SUPPORTED_PORT_PROTOCOLS = ["SCTP", "TCP", "UDP"]  # sets.List(supportedPortProtocols)
TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
_POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"


# -- containers and their resources --------------------------------------------------------


def validate_resource_requirements(req: ResourceRequirements, path: Path) -> Errors:
    """``ValidateContainerResourceRequirements`` (``validateResourceRequirements`` with
    ``validateContainerResourceName``): names, quantities, requests <= limits."""
    errs: Errors = []
    lim_path, req_path = path.child("limits"), path.child("requests")
    cpu_or_memory = hugepages = False
    for name, quantity in sorted(req.limits.items()):
        p = lim_path.key(name)
        errs += validate_container_resource_name(name, p)
        errs += validate_resource_quantity_value(name, quantity, p)
        if name.startswith(HUGEPAGES_PREFIX):
            hugepages = True
            if (msg := hugepage_value_error(name, quantity)) is not None:
                errs.append(invalid(p, str(quantity), msg))
        cpu_or_memory |= name in ("cpu", "memory")
    for name, quantity in sorted(req.requests.items()):
        p = req_path.key(name)
        errs += validate_container_resource_name(name, p)
        errs += validate_resource_quantity_value(name, quantity, p)
        limit = req.limits.get(name)
        if limit is not None:
            if quantity.cmp(limit) != 0 and not is_overcommit_allowed(name):
                errs.append(invalid(req_path, str(quantity), f"must be equal to {name} limit of {limit}"))
            elif quantity.cmp(limit) > 0:
                errs.append(invalid(req_path, str(quantity), f"must be less than or equal to {name} limit of {limit}"))
        elif not is_overcommit_allowed(name):
            errs.append(FieldError.required(str(lim_path), "Limit must be set for non overcommitable resources"))
        if name.startswith(HUGEPAGES_PREFIX):
            hugepages = True
            if (msg := hugepage_value_error(name, quantity)) is not None:
                errs.append(invalid(p, str(quantity), msg))
        cpu_or_memory |= name in ("cpu", "memory")
    if hugepages and not cpu_or_memory:
        errs.append(FieldError.forbidden(str(path), "HugePages require cpu or memory"))
    return errs


def _validate_container_ports(ports: list[ContainerPort], path: Path) -> Errors:
    """``validateContainerPorts``."""
    errs: Errors = []
    names: set[str] = set()
    for i, port in enumerate(ports):
        p = path.index(i)
        if port.name:
            msgs = is_valid_port_name(port.name)
            if msgs:
                errs += each(msgs, p.child("name"), port.name)
            elif port.name in names:
                errs.append(FieldError.duplicate(str(p.child("name")), port.name))
            else:
                names.add(port.name)
        if port.container_port == 0:
            errs.append(FieldError.required(str(p.child("containerPort"))))
        else:
            errs += each(is_valid_port_num(port.container_port), p.child("containerPort"), port.container_port)
        if port.host_port:
            errs += each(is_valid_port_num(port.host_port), p.child("hostPort"), port.host_port)
        if not port.protocol:
            errs.append(FieldError.required(str(p.child("protocol"))))
        elif port.protocol not in SUPPORTED_PORT_PROTOCOLS:
            errs.append(FieldError.not_supported(str(p.child("protocol")), port.protocol, SUPPORTED_PORT_PROTOCOLS))
    return errs


def _validate_env(env: list[EnvVar], path: Path) -> Errors:
    """``ValidateEnv`` with ``AllowRelaxedEnvironmentVariableValidation`` (GA)."""
    errs: Errors = []
    for i, var in enumerate(env):
        p = path.index(i).child("name")
        if not var.name:
            errs.append(FieldError.required(str(p)))
        else:
            errs += each(is_relaxed_env_var_name(var.name), p, var.name)
    return errs


def validate_port_num_or_name(port: IntOrString, path: Path) -> Errors:
    """``ValidatePortNumOrName``."""
    if port.is_int:
        return each(is_valid_port_num(port.int_value()), path, port.int_value())
    return each(is_valid_port_name(str(port.value)), path, port.value)


def _validate_probe(probe: Probe | None, kind: str, path: Path) -> Errors:
    """``validateLivenessProbe`` / ``validateReadinessProbe`` / ``validateStartupProbe``
    around ``validateProbe`` and ``validateHandler``."""
    if probe is None:
        return []
    errs: Errors = []
    handlers = [
        ("exec", probe.exec),
        ("httpGet", probe.http_get),
        ("tcpSocket", probe.tcp_socket),
        ("grpc", probe.grpc),
    ]
    count = 0
    for name, handler in handlers:
        if handler is None:
            continue
        hp = path.child(name)
        if count:
            errs.append(FieldError.forbidden(str(hp), "may not specify more than 1 handler type"))
            continue
        count += 1
        if isinstance(handler, ExecAction):
            if not handler.command:
                errs.append(FieldError.required(str(hp.child("command"))))
        elif isinstance(handler, HTTPGetAction):
            if not handler.path:
                errs.append(FieldError.required(str(hp.child("path"))))
            errs += validate_port_num_or_name(handler.port, hp.child("port"))
            if handler.scheme not in ("HTTP", "HTTPS"):
                errs.append(FieldError.not_supported(str(hp.child("scheme")), handler.scheme, ["HTTP", "HTTPS"]))
            for header in handler.http_headers:
                errs += each(is_http_header_name(header.name), hp.child("httpHeaders"), header.name)
        elif isinstance(handler, TCPSocketAction):
            errs += validate_port_num_or_name(handler.port, hp.child("port"))
        else:
            errs += validate_port_num_or_name(IntOrString(handler.port), hp.child("port"))
    if not count:
        errs.append(FieldError.required(str(path), "must specify a handler type"))
    for attr, wire in (
        ("initial_delay_seconds", "initialDelaySeconds"),
        ("timeout_seconds", "timeoutSeconds"),
        ("period_seconds", "periodSeconds"),
        ("success_threshold", "successThreshold"),
        ("failure_threshold", "failureThreshold"),
    ):
        errs += validate_nonnegative_field(getattr(probe, attr), path.child(wire))
    grace = probe.termination_grace_period_seconds
    if grace is not None and grace <= 0:
        errs.append(invalid(path.child("terminationGracePeriodSeconds"), grace, "must be greater than 0"))
    if kind in ("liveness", "startup") and probe.success_threshold != 1:
        errs.append(invalid(path.child("successThreshold"), probe.success_threshold, "must be 1"))
    if kind == "readiness" and grace is not None:
        errs.append(invalid(path.child("terminationGracePeriodSeconds"), grace, "must not be set for readinessProbes"))
    return errs


def _validate_probes(ctr: Container, path: Path) -> Errors:
    return (
        _validate_probe(ctr.liveness_probe, "liveness", path.child("livenessProbe"))
        + _validate_probe(ctr.readiness_probe, "readiness", path.child("readinessProbe"))
        + _validate_probe(ctr.startup_probe, "startup", path.child("startupProbe"))
    )


def _validate_container_common(ctr: Container, path: Path) -> Errors:
    """``validateContainerCommon``: name, image, termination message policy, ports, env,
    pull policy, resources."""
    errs: Errors = []
    if not ctr.name:
        errs.append(FieldError.required(str(path.child("name"))))
    else:
        errs += validate_dns1123_label(ctr.name, path.child("name"))
    if not ctr.image:
        errs.append(FieldError.required(str(path.child("image"))))
    policy = ctr.termination_message_policy
    if not policy:
        errs.append(FieldError.required(str(path.child("terminationMessagePolicy"))))
    elif policy not in ("File", "FallbackToLogsOnError"):
        supported = ["File", "FallbackToLogsOnError"]
        errs.append(FieldError.not_supported(str(path.child("terminationMessagePolicy")), policy, supported))
    errs += _validate_container_ports(ctr.ports, path.child("ports"))
    errs += _validate_env(ctr.env, path.child("env"))
    pull = ctr.image_pull_policy
    if not pull:  # validatePullPolicy
        errs.append(FieldError.required(str(path.child("imagePullPolicy"))))
    elif pull not in ("Always", "IfNotPresent", "Never"):
        supported = ["Always", "IfNotPresent", "Never"]
        errs.append(FieldError.not_supported(str(path.child("imagePullPolicy")), pull, supported))
    errs += validate_resource_requirements(ctr.resources, path.child("resources"))
    return errs


def _check_host_port_conflicts(containers: list[Container], path: Path) -> Errors:
    """``checkHostPortConflicts`` (``AccumulateUniqueHostPorts``)."""
    errs: Errors = []
    seen: set[str] = set()
    for ci, ctr in enumerate(containers):
        for pi, port in enumerate(ctr.ports):
            if not port.host_port:
                continue
            key = f"{port.protocol}/{port.host_ip}/{port.host_port}"
            if key in seen:
                errs.append(FieldError.duplicate(str(path.index(ci).child("ports").index(pi).child("hostPort")), key))
            seen.add(key)
    return errs


def _validate_containers(containers: list[Container], path: Path) -> Errors:
    """``validateContainers``: at least one; unique names; no ``restartPolicy``."""
    if not containers:
        return [FieldError.required(str(path))]
    errs: Errors = []
    names: set[str] = set()
    for i, ctr in enumerate(containers):
        p = path.index(i)
        errs += _validate_container_common(ctr, p)
        if ctr.name in names:
            errs.append(FieldError.duplicate(str(p.child("name")), ctr.name))
        names.add(ctr.name)
        errs += _validate_probes(ctr, p)
        if ctr.restart_policy is not None:
            errs.append(FieldError.forbidden(str(p.child("restartPolicy")), "may not be set for non-init containers"))
    return errs + _check_host_port_conflicts(containers, path)


def _validate_init_containers(init: list[Container], regular: list[Container], path: Path) -> Errors:
    """``validateInitContainers``: sidecars (``restartPolicy: Always``) may have probes and
    lifecycle hooks; other init containers may not."""
    errs: Errors = []
    names = {c.name for c in regular}
    for i, ctr in enumerate(init):
        p = path.index(i)
        errs += _validate_container_common(ctr, p)
        if ctr.restart_policy is not None and ctr.restart_policy != "Always":
            errs.append(FieldError.not_supported(str(p.child("restartPolicy")), ctr.restart_policy, ["Always"]))
        if ctr.name in names:
            errs.append(FieldError.duplicate(str(p.child("name")), ctr.name))
        elif ctr.name:
            names.add(ctr.name)
        errs += _check_host_port_conflicts([ctr], path)
        if ctr.is_sidecar:
            errs += _validate_probes(ctr, p)
        else:
            for attr, wire in (
                ("lifecycle", "lifecycle"),
                ("liveness_probe", "livenessProbe"),
                ("readiness_probe", "readinessProbe"),
                ("startup_probe", "startupProbe"),
            ):
                if getattr(ctr, attr) is not None:
                    detail = "may not be set for init containers without restartPolicy=Always"
                    errs.append(FieldError.forbidden(str(p.child(wire)), detail))
    return errs


# -- scheduling constraints -----------------------------------------------------------------


def _validate_node_selector_requirement(rq: NodeSelectorRequirement, allow_invalid: bool, path: Path) -> Errors:
    """``ValidateNodeSelectorRequirement``."""
    errs: Errors = []
    values = path.child("values")
    if rq.operator in ("In", "NotIn"):
        if not rq.values:
            errs.append(FieldError.required(str(values), "must be specified when `operator` is 'In' or 'NotIn'"))
    elif rq.operator in ("Exists", "DoesNotExist"):
        if rq.values:
            detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            errs.append(FieldError.forbidden(str(values), detail))
    elif rq.operator in ("Gt", "Lt"):
        if len(rq.values) != 1:
            detail = "must be specified single value when `operator` is 'Lt' or 'Gt'"
            errs.append(FieldError.required(str(values), detail))
    else:
        errs.append(invalid(path.child("operator"), rq.operator, "not a valid selector operator"))
    errs += validate_label_name(rq.key, path.child("key"))
    if not allow_invalid:
        for i, value in enumerate(rq.values):
            errs += each(is_valid_label_value(value), values.index(i), value)
    return errs


def _validate_node_field_selector_requirement(rq: NodeSelectorRequirement, path: Path) -> Errors:
    """``ValidateNodeFieldSelectorRequirement``: only ``metadata.name`` In/NotIn one node."""
    errs: Errors = []
    if rq.operator in ("In", "NotIn"):
        if len(rq.values) != 1:
            detail = "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"
            errs.append(FieldError.required(str(path.child("values")), detail))
    else:
        errs.append(invalid(path.child("operator"), rq.operator, "not a valid selector operator"))
    if rq.key != "metadata.name":
        errs.append(invalid(path.child("key"), rq.key, "not a valid field selector key"))
    else:
        for i, value in enumerate(rq.values):
            errs += each(name_is_dns_subdomain(value, False), path.child("values").index(i), value)
    return errs


def _validate_node_selector_term(term: NodeSelectorTerm, allow_invalid: bool, path: Path) -> Errors:
    """``ValidateNodeSelectorTerm``."""
    errs: Errors = []
    for j, rq in enumerate(term.match_expressions):
        errs += _validate_node_selector_requirement(rq, allow_invalid, path.child("matchExpressions").index(j))
    for j, rq in enumerate(term.match_fields):
        errs += _validate_node_field_selector_requirement(rq, path.child("matchFields").index(j))
    return errs


def _validate_node_selector(selector: NodeSelector, path: Path) -> Errors:
    """``ValidateNodeSelector``."""
    terms = path.child("nodeSelectorTerms")
    if not selector.node_selector_terms:
        return [FieldError.required(str(terms), "must have at least one node selector term")]
    errs: Errors = []
    for i, term in enumerate(selector.node_selector_terms):
        errs += _validate_node_selector_term(term, False, terms.index(i))
    return errs


def _validate_label_keys(path: Path, keys: list[str], selector: LabelSelector | None) -> Errors:
    """``validateLabelKeys`` (matchLabelKeys / mismatchLabelKeys)."""
    if not keys:
        return []
    if selector is None:
        return [FieldError.forbidden(str(path), "must not be specified when labelSelector is not set")]
    errs: Errors = []
    for i, key in enumerate(keys):
        errs += validate_label_name(key, path.index(i))
    return errs


def _validate_match_label_keys(term: PodAffinityTerm, path: Path) -> Errors:
    """``validateMatchLabelKeysAndMismatchLabelKeys``."""
    selector = term.label_selector
    errs = _validate_label_keys(path.child("matchLabelKeys"), term.match_label_keys, selector)
    errs += _validate_label_keys(path.child("mismatchLabelKeys"), term.mismatch_label_keys, selector)
    if selector is not None:
        positions = {key: i for i, key in enumerate(term.match_label_keys)}
        selector_keys = set(selector.match_labels)
        for expr in selector.match_expressions:
            if expr.key in positions and expr.key in selector_keys:
                detail = "exists in both matchLabelKeys and labelSelector"
                errs.append(invalid(path.index(positions[expr.key]), expr.key, detail))
            selector_keys.add(expr.key)
    mismatch = set(term.mismatch_label_keys)
    for i, key in enumerate(term.match_label_keys):
        if key in mismatch:
            detail = "exists in both matchLabelKeys and mismatchLabelKeys"
            errs.append(invalid(path.child("matchLabelKeys").index(i), key, detail))
    return errs


def _validate_pod_affinity_term(term: PodAffinityTerm, path: Path) -> Errors:
    """``validatePodAffinityTerm``: selectors, namespaces, label keys, ``topologyKey``."""
    errs = validate_label_selector(term.label_selector, path.child("labelSelector"))
    errs += validate_label_selector(term.namespace_selector, path.child("namespaceSelector"))
    for name in term.namespaces:
        errs += each(name_is_dns_label(name, False), path.child("namespace"), name)
    errs += _validate_match_label_keys(term, path)
    if not term.topology_key:
        errs.append(FieldError.required(str(path.child("topologyKey")), "can not be empty"))
    return errs + validate_label_name(term.topology_key, path.child("topologyKey"))


def _validate_pod_affinity_terms(
    required: list[PodAffinityTerm], preferred: list[WeightedPodAffinityTerm], path: Path
) -> Errors:
    """``validatePodAffinity`` / ``validatePodAntiAffinity`` (``validateWeightedPodAffinityTerms``)."""
    errs: Errors = []
    req_path = path.child("requiredDuringSchedulingIgnoredDuringExecution")
    for i, term in enumerate(required):
        errs += _validate_pod_affinity_term(term, req_path.index(i))
    pref_path = path.child("preferredDuringSchedulingIgnoredDuringExecution")
    for j, weighted in enumerate(preferred):
        if not 0 < weighted.weight <= 100:
            errs.append(invalid(pref_path.index(j).child("weight"), weighted.weight, "must be in the range 1-100"))
        errs += _validate_pod_affinity_term(weighted.pod_affinity_term, pref_path.index(j).child("podAffinityTerm"))
    return errs


def _validate_affinity(affinity: Affinity | None, path: Path) -> Errors:
    """``validateAffinity``."""
    if affinity is None:
        return []
    errs: Errors = []
    node = affinity.node_affinity
    if node is not None:
        np = path.child("nodeAffinity")
        if node.required_during_scheduling_ignored_during_execution is not None:
            required = node.required_during_scheduling_ignored_during_execution
            errs += _validate_node_selector(required, np.child("requiredDuringSchedulingIgnoredDuringExecution"))
        pp = np.child("preferredDuringSchedulingIgnoredDuringExecution")
        for i, term in enumerate(node.preferred_during_scheduling_ignored_during_execution):
            if not 0 < term.weight <= 100:
                errs.append(invalid(pp.index(i).child("weight"), term.weight, "must be in the range 1-100"))
            errs += _validate_node_selector_term(term.preference, True, pp.index(i).child("preference"))
    for attr, wire in (("pod_affinity", "podAffinity"), ("pod_anti_affinity", "podAntiAffinity")):
        pod = getattr(affinity, attr)
        if pod is not None:
            errs += _validate_pod_affinity_terms(
                pod.required_during_scheduling_ignored_during_execution,
                pod.preferred_during_scheduling_ignored_during_execution,
                path.child(wire),
            )
    return errs


def _validate_tolerations(tolerations: list[Toleration], path: Path) -> Errors:
    """``ValidateTolerations``."""
    errs: Errors = []
    for i, tol in enumerate(tolerations):
        p = path.index(i)
        if tol.key:
            errs += validate_label_name(tol.key, p.child("key"))
        if not tol.key and tol.operator != "Exists":
            detail = 'operator must be Exists when `key` is empty, which means "match all values and all keys"'
            errs.append(invalid(p.child("operator"), tol.operator, detail))
        if tol.toleration_seconds is not None and tol.effect != "NoExecute":
            detail = "effect must be 'NoExecute' when `tolerationSeconds` is set"
            errs.append(invalid(p.child("effect"), tol.effect, detail))
        if tol.operator in ("Equal", ""):
            msgs = is_valid_label_value(tol.value)
            if msgs:
                errs.append(invalid(p.child("operator"), tol.value, ";".join(msgs)))
        elif tol.operator == "Exists":
            if tol.value:
                errs.append(invalid(p.child("operator"), tol.value, "value must be empty when `operator` is 'Exists'"))
        else:
            errs.append(FieldError.not_supported(str(p.child("operator")), tol.operator, ["Equal", "Exists"]))
        if tol.effect and tol.effect not in TAINT_EFFECTS:
            errs.append(FieldError.not_supported(str(p.child("effect")), tol.effect, TAINT_EFFECTS))
    return errs


def _validate_topology_spread_constraints(constraints: list[TopologySpreadConstraint], path: Path) -> Errors:
    """``validateTopologySpreadConstraints``."""
    errs: Errors = []
    for i, c in enumerate(constraints):
        p = path.index(i)
        if c.max_skew <= 0:
            errs.append(invalid(p.child("maxSkew"), c.max_skew, "must be greater than zero"))
        if not c.topology_key:
            errs.append(FieldError.required(str(p.child("topologyKey")), "can not be empty"))
        if c.when_unsatisfiable not in ("DoNotSchedule", "ScheduleAnyway"):
            supported = ["DoNotSchedule", "ScheduleAnyway"]
            errs.append(FieldError.not_supported(str(p.child("whenUnsatisfiable")), c.when_unsatisfiable, supported))
        if any(
            c.topology_key == o.topology_key and c.when_unsatisfiable == o.when_unsatisfiable
            for o in constraints[i + 1 :]
        ):
            pair = f"{{{c.topology_key}, {c.when_unsatisfiable}}}"
            errs.append(FieldError.duplicate(str(p.child("{topologyKey, whenUnsatisfiable}")), pair))
        if c.min_domains is not None:
            if c.min_domains <= 0:
                errs.append(invalid(p.child("minDomains"), c.min_domains, "must be greater than zero"))
            if c.when_unsatisfiable != "DoNotSchedule":
                detail = f"can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {c.when_unsatisfiable}"
                errs.append(invalid(p.child("minDomains"), c.min_domains, detail))
        policies = ((c.node_affinity_policy, "nodeAffinityPolicy"), (c.node_taints_policy, "nodeTaintsPolicy"))
        for policy, wire in policies:
            if policy is not None and policy not in ("Honor", "Ignore"):
                errs.append(FieldError.not_supported(str(p.child(wire)), policy, ["Honor", "Ignore"]))
        errs += _validate_match_label_keys_in_topology_spread(c, p.child("matchLabelKeys"))
        errs += validate_label_selector(c.label_selector, p.child("labelSelector"))
    return errs


def _validate_match_label_keys_in_topology_spread(c: TopologySpreadConstraint, path: Path) -> Errors:
    """``validateMatchLabelKeysInTopologySpread``."""
    if not c.match_label_keys:
        return []
    errs: Errors = []
    if c.label_selector is None:
        errs.append(FieldError.forbidden(str(path), "must not be specified when labelSelector is not set"))
        selector_keys: set[str] = set()
    else:
        selector_keys = set(c.label_selector.match_labels) | {e.key for e in c.label_selector.match_expressions}
    for i, key in enumerate(c.match_label_keys):
        errs += validate_label_name(key, path.index(i))
        if key in selector_keys:
            errs.append(invalid(path.index(i), key, "exists in both matchLabelKeys and labelSelector"))
    return errs


# -- pod spec -------------------------------------------------------------------------------


def _validate_pod_specific_annotations(annotations: Mapping[str, str], path: Path) -> Errors:
    """``ValidatePodSpecificAnnotations``: the pod deletion cost must be an int32."""
    cost = annotations.get(_POD_DELETION_COST)
    if cost is None:
        return []
    first_ok = cost.startswith("-") or cost == "0" or cost[:1] in set("123456789")  # validFirstDigit
    if first_ok and re.fullmatch(r"-?[0-9]+", cost) and -(2**31) <= int(cost) <= _MAX_INT32:
        return []
    return [invalid(path.key(_POD_DELETION_COST), cost, "must be a 32bit integer")]




def validate_pod_spec(spec: PodSpec, path: Path, resource_is_pod: bool = False) -> Errors:
    """``ValidatePodSpec``."""
    errs: Errors = []
    if spec.termination_grace_period_seconds is None:
        errs.append(FieldError.required(str(path.child("terminationGracePeriodSeconds"))))
    errs += _validate_containers(spec.containers, path.child("containers"))
    errs += _validate_init_containers(spec.init_containers, spec.containers, path.child("initContainers"))
    if spec.host_network:  # validatePodHostNetworkDeps
        for i, ctr in enumerate(spec.containers):
            for j, port in enumerate(ctr.ports):
                if (resource_is_pod or port.host_port) and port.host_port != port.container_port:
                    hp = path.child("containers").index(i).child("ports").index(j).child("hostPort")
                    errs.append(invalid(hp, port.host_port, "must match `containerPort` when `hostNetwork` is true"))
    errs += validate_choice(spec.restart_policy, ["Always", "OnFailure", "Never"], path.child("restartPolicy"))
    errs += validate_choice(
        spec.dns_policy, ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"], path.child("dnsPolicy")
    )
    errs += validate_labels(spec.node_selector, path.child("nodeSelector"))
    errs += _validate_affinity(spec.affinity, path.child("affinity"))
    if spec.dns_policy == "None":  # validatePodDNSConfig
        dns = path.child("dnsConfig")
        if spec.dns_config is None:
            errs.append(FieldError.required(str(dns), "must provide `dnsConfig` when `dnsPolicy` is None"))
        elif not spec.dns_config.get("nameservers"):
            detail = "must provide at least one DNS nameserver when `dnsPolicy` is None"
            errs.append(FieldError.required(str(dns.child("nameservers")), detail))
    spread = path.child("topologySpreadConstraints")
    errs += _validate_topology_spread_constraints(spec.topology_spread_constraints, spread)
    for value, wire in ((spec.service_account_name, "serviceAccountName"), (spec.node_name, "nodeName")):
        if value:
            errs += each(name_is_dns_subdomain(value, False), path.child(wire), value)
    deadline = spec.active_deadline_seconds
    if deadline is not None and not 1 <= deadline <= _MAX_INT32:
        errs.append(invalid(path.child("activeDeadlineSeconds"), deadline, inclusive_range_error(1, _MAX_INT32)))
    for value, wire in ((spec.hostname, "hostname"), (spec.subdomain, "subdomain")):
        if value:
            errs += validate_dns1123_label(value, path.child(wire))
    errs += _validate_tolerations(spec.tolerations, path.child("tolerations"))
    if spec.priority_class_name:
        name = spec.priority_class_name
        errs += each(name_is_dns_subdomain(name, False), path.child("priorityClassName"), name)
    if spec.runtime_class_name is not None:
        errs += validate_dns1123_subdomain(spec.runtime_class_name, path.child("runtimeClassName"))
    if spec.preemption_policy is not None:
        supported = ["PreemptLowerPriority", "Never"]
        errs += validate_choice(spec.preemption_policy, supported, path.child("preemptionPolicy"))
    if spec.overhead:  # validateOverhead
        errs += validate_resource_requirements(ResourceRequirements(limits=spec.overhead), path.child("overhead"))
    return errs


def _validate_images_only_for_pod(containers: list[Container], path: Path) -> Errors:
    """``validateContainersOnlyForPod``."""
    return [
        invalid(path.index(i).child("image"), ctr.image, "must not have leading or trailing whitespace")
        for i, ctr in enumerate(containers)
        if ctr.image != ctr.image.strip()
    ]


def validate_pod(pod: Pod) -> Errors:
    """``ValidatePodCreate`` (``validatePodMetadataAndSpec``)."""
    meta, spec = Path("metadata"), Path("spec")
    errs = validate_object_meta(pod.metadata, True, name_is_dns_subdomain, meta)
    errs += _validate_pod_specific_annotations(pod.metadata.annotations, meta.child("annotations"))
    errs += validate_pod_spec(pod.spec, spec, resource_is_pod=True)
    errs += _validate_images_only_for_pod(pod.spec.containers, spec.child("containers"))
    errs += _validate_images_only_for_pod(pod.spec.init_containers, spec.child("initContainers"))
    if pod.spec.ephemeral_containers:
        errs.append(FieldError.forbidden(str(spec.child("ephemeralContainers")), "cannot be set on create"))
    if pod.spec.node_name and pod.spec.scheduling_gates:
        detail = "cannot be set until all schedulingGates have been cleared"
        errs.append(FieldError.forbidden(str(spec.child("nodeName")), detail))
    return errs


def validate_pod_template_spec(template: PodTemplateSpec, path: Path) -> Errors:
    """``ValidatePodTemplateSpec``: labels and annotations (at ``<path>.labels``), the pod spec."""
    errs = validate_labels(template.metadata.labels, path.child("labels"))
    errs += validate_annotations(template.metadata.annotations, path.child("annotations"))
    errs += _validate_pod_specific_annotations(template.metadata.annotations, path.child("annotations"))
    errs += validate_pod_spec(template.spec, path.child("spec"))
    if template.spec.ephemeral_containers:
        detail = "ephemeral containers not allowed in pod template"
        errs.append(FieldError.forbidden(str(path.child("spec", "ephemeralContainers")), detail))
    return errs
