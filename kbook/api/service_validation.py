"""Validation of Services: ``ValidateService`` and the checks it calls
(``pkg/apis/core/validation/validation.go``), after the registry has filled
``clusterIPs`` from ``clusterIP``. Allocation (cluster IPs, node ports, health check
ports) is not modelled, so what depends on it is not checked.
"""

from __future__ import annotations

import ipaddress

from kbook.api.core import Service, ServicePort
from kbook.api.formats import is_valid_cidr, is_valid_ip, is_valid_port_num, parse_ip_sloppy
from kbook.api.model import GoLiteral, Path, go_quote
from kbook.api.pod_validation import SUPPORTED_PORT_PROTOCOLS, validate_port_num_or_name
from kbook.api.validation import (
    each,
    invalid,
    name_is_dns1035_label,
    validate_choice,
    validate_dns1123_label,
    validate_dns1123_subdomain,
    validate_labels,
    validate_object_meta,
    validate_qualified_name,
)
from kbook.errors import FieldError

__all__ = ["validate_service", "validate_non_special_ip"]

Errors = list[FieldError]


def _service_port_literal(protocol: str, port: int) -> GoLiteral:
    """``%#v`` of the ``core.ServicePort{Protocol, Port}`` key of a duplicate port."""
    return GoLiteral(
        f"core.ServicePort{{Name:\"\", Protocol:{go_quote(protocol)}, AppProtocol:(*string)(nil), Port:{port}, "
        'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'
    )


def _validate_service_port(sp: ServicePort, require_name: bool, names: set[str], path: Path) -> Errors:
    """``validateServicePort``."""
    errs: Errors = []
    if require_name and not sp.name:
        errs.append(FieldError.required(str(path.child("name"))))
    elif sp.name:
        errs += validate_dns1123_label(sp.name, path.child("name"))
        if sp.name in names:
            errs.append(FieldError.duplicate(str(path.child("name")), sp.name))
        names.add(sp.name)
    errs += each(is_valid_port_num(sp.port), path.child("port"), sp.port)
    if not sp.protocol:
        errs.append(FieldError.required(str(path.child("protocol"))))
    elif sp.protocol not in SUPPORTED_PORT_PROTOCOLS:
        errs.append(FieldError.not_supported(str(path.child("protocol")), sp.protocol, SUPPORTED_PORT_PROTOCOLS))
    errs += validate_port_num_or_name(sp.target_port, path.child("targetPort"))
    if sp.app_protocol is not None:
        errs += validate_qualified_name(sp.app_protocol, path.child("appProtocol"))
    return errs


def validate_non_special_ip(value: str, path: Path) -> Errors:
    """``ValidateNonSpecialIP`` (external IPs)."""
    ip = parse_ip_sloppy(value)
    if ip is None:
        return []
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    errs: Errors = []
    if ip.is_unspecified:
        errs.append(invalid(path, value, f"may not be unspecified ({value})"))
    if ip.is_loopback or (isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("127.0.0.0/8")):
        errs.append(invalid(path, value, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if ip.is_link_local and not ip.is_multicast:
        errs.append(invalid(path, value, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
    packed = ip.packed
    v4_llm = isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("224.0.0.0/24")
    if v4_llm or (len(packed) == 16 and packed[0] == 0xFF and packed[1] & 0x0F == 0x02):
        errs.append(invalid(path, value, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
    return errs


def _validate_cluster_ips(svc: Service) -> Errors:
    """``ValidateServiceClusterIPsRelatedFields``."""
    spec, errs = svc.spec, []
    ips_path, fam_path = Path("spec").child("clusterIPs"), Path("spec").child("ipFamilies")
    if spec.cluster_ip:
        if not spec.cluster_ips:
            errs.append(FieldError.required(str(ips_path)))
        elif spec.cluster_ips[0] != spec.cluster_ip:
            errs.append(invalid(ips_path, spec.cluster_ips, "first value must match `clusterIP`"))
    elif spec.cluster_ips:
        errs.append(invalid(ips_path, spec.cluster_ips, "must be empty when `clusterIP` is not specified"))
    seen: set[str] = set()
    for i, family in enumerate(spec.ip_families):
        if family not in ("IPv4", "IPv6"):
            errs.append(FieldError.not_supported(str(fam_path.index(i)), family, ["IPv4", "IPv6"]))
        if family in seen:
            errs.append(FieldError.duplicate(str(fam_path.index(i)), family))
        seen.add(family)
    policies = ["PreferDualStack", "RequireDualStack", "SingleStack"]
    if spec.ip_family_policy is not None and spec.ip_family_policy not in policies:
        policy_path = str(Path("spec").child("ipFamilyPolicy"))
        errs.append(FieldError.not_supported(policy_path, spec.ip_family_policy, policies))
    invalid = False
    for i, ip in enumerate(spec.cluster_ips):
        if i == 0 and ip == "None":
            if len(spec.cluster_ips) > 1:
                invalid = True
                errs.append(invalid(ips_path, spec.cluster_ips, "'None' must be the first and only value"))
            continue
        msgs = is_valid_ip(ip)
        invalid = invalid or bool(msgs)
        errs += each(msgs, ips_path.index(i), ip)
    if len(spec.cluster_ips) > 2:
        errs.append(invalid(ips_path, spec.cluster_ips, "may only hold up to 2 values"))
    if invalid:
        return errs
    if len(spec.cluster_ips) > 1 and {":" in ip for ip in spec.cluster_ips} != {True, False}:
        errs.append(invalid(ips_path, spec.cluster_ips, "may specify no more than one IP for each IP family"))
    if not _is_headless(svc):
        for i, (ip, family) in enumerate(zip(spec.cluster_ips, spec.ip_families)):
            if family == "IPv4" and ":" in ip:
                errs.append(invalid(ips_path.index(i), ip, f"expected an IPv4 value as indicated by `ipFamilies[{i}]`"))
            if family == "IPv6" and ":" not in ip:
                errs.append(invalid(ips_path.index(i), ip, f"expected an IPv6 value as indicated by `ipFamilies[{i}]`"))
    return errs


def _is_headless(svc: Service) -> bool:
    return svc.spec.cluster_ips == ["None"]


def _externally_accessible(svc: Service) -> bool:
    """``ExternallyAccessible`` (pkg/api/service/util.go)."""
    kind = svc.spec.type
    return kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(svc.spec.external_ips))


_FORBIDDEN_UNLESS_LB = "may only be used when `type` is 'LoadBalancer'"


def validate_service(svc: Service) -> Errors:
    """``ValidateService``."""
    spec, sp = svc.spec, Path("spec")
    errs = validate_object_meta(svc.metadata, True, name_is_dns1035_label, Path("metadata"))
    headless = _is_headless(svc)
    if not spec.ports and not headless and spec.type != "ExternalName":
        errs.append(FieldError.required(str(sp.child("ports"))))
    if spec.type in ("LoadBalancer", "NodePort") and headless:
        detail = f"may not be set to 'None' for {spec.type} services"
        errs.append(invalid(sp.child("clusterIPs").index(0), "None", detail))
    elif spec.type == "ExternalName":
        for value, wire in ((spec.cluster_ips, "clusterIPs"), (spec.ip_families, "ipFamilies")):
            if value:
                errs.append(FieldError.forbidden(str(sp.child(wire)), "may not be set for ExternalName services"))
        if spec.ip_family_policy is not None:
            detail = "may not be set for ExternalName services"
            errs.append(FieldError.forbidden(str(sp.child("ipFamilyPolicy")), detail))
        cname = spec.external_name.removesuffix(".")
        if cname:
            errs += validate_dns1123_subdomain(cname, sp.child("externalName"))
        else:
            errs.append(FieldError.required(str(sp.child("externalName"))))
    names: set[str] = set()
    for i, port in enumerate(spec.ports):
        errs += _validate_service_port(port, len(spec.ports) > 1, names, sp.child("ports").index(i))
    errs += validate_labels(spec.selector, sp.child("selector"))
    errs += _validate_session_affinity(svc)
    if spec.type != "ExternalName":
        errs += _validate_cluster_ips(svc)
    for i, ip in enumerate(spec.external_ips):
        msgs = is_valid_ip(ip)
        ip_path = sp.child("externalIPs").index(i)
        errs += each(msgs, ip_path, ip) or validate_non_special_ip(ip, ip_path)
    errs += validate_choice(spec.type, ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"], sp.child("type"))
    if spec.type == "ClusterIP":
        for i, port in enumerate(spec.ports):
            if port.node_port:
                detail = "may not be used when `type` is 'ClusterIP'"
                errs.append(FieldError.forbidden(str(sp.child("ports").index(i).child("nodePort")), detail))
    node_ports: set[tuple[str, int]] = set()
    for i, port in enumerate(spec.ports):
        if port.node_port:
            if (port.protocol, port.node_port) in node_ports:
                errs.append(FieldError.duplicate(str(sp.child("ports").index(i).child("nodePort")), port.node_port))
            node_ports.add((port.protocol, port.node_port))
    ports: set[tuple[str, int]] = set()
    for i, port in enumerate(spec.ports):
        if (port.protocol, port.port) in ports:
            key = _service_port_literal(port.protocol, port.port)
            errs.append(FieldError.duplicate(str(sp.child("ports").index(i)), key))
        ports.add((port.protocol, port.port))
    if spec.load_balancer_source_ranges:
        ranges = sp.child("LoadBalancerSourceRanges")
        if spec.type != "LoadBalancer":
            errs.append(FieldError.forbidden(str(ranges), _FORBIDDEN_UNLESS_LB))
        for i, value in enumerate(spec.load_balancer_source_ranges):
            errs += each(is_valid_cidr(value.strip()), ranges.index(i), value.strip())
    if spec.allocate_load_balancer_node_ports is not None and spec.type != "LoadBalancer":
        errs.append(FieldError.forbidden(str(sp.child("allocateLoadBalancerNodePorts")), _FORBIDDEN_UNLESS_LB))
    if spec.type == "LoadBalancer" and spec.allocate_load_balancer_node_ports is None:
        errs.append(FieldError.required("allocateLoadBalancerNodePorts"))
    if spec.load_balancer_class is not None:
        if spec.type == "LoadBalancer":
            errs += validate_qualified_name(spec.load_balancer_class, sp.child("loadBalancerClass"))
        else:
            errs.append(FieldError.forbidden(str(sp.child("loadBalancerClass")), _FORBIDDEN_UNLESS_LB))
    errs += _validate_traffic_policies(svc)
    return errs


def _validate_session_affinity(svc: Service) -> Errors:
    """The session affinity part of ``ValidateService`` (``validateClientIPAffinityConfig``)."""
    spec, sp = svc.spec, Path("spec")
    errs = validate_choice(spec.session_affinity, ["ClientIP", "None"], sp.child("sessionAffinity"))
    config, cp = spec.session_affinity_config, sp.child("sessionAffinityConfig")
    if spec.session_affinity == "ClientIP":
        when = "when session affinity type is ClientIP"
        if config is None:
            errs.append(FieldError.required(str(cp), when))
        elif config.client_ip is None:
            errs.append(FieldError.required(str(cp.child("clientIP")), when))
        elif config.client_ip.timeout_seconds is None:
            errs.append(FieldError.required(str(cp.child("clientIP", "timeoutSeconds")), when))
        elif not 0 < config.client_ip.timeout_seconds <= 86400:
            detail = "must be greater than 0 and less than 86400"
            errs.append(invalid(cp.child("clientIP", "timeoutSeconds"), config.client_ip.timeout_seconds, detail))
    elif spec.session_affinity == "None" and config is not None:
        errs.append(FieldError.forbidden(str(cp), "must not be set when session affinity is None"))
    return errs


def _validate_traffic_policies(svc: Service) -> Errors:
    """``validateServiceExternalTrafficPolicy``, ``validateServiceInternalTrafficFieldsValue``,
    ``validateServiceTrafficDistribution``."""
    spec, sp, errs = svc.spec, Path("spec"), []
    etp = sp.child("externalTrafficPolicy")
    if not _externally_accessible(svc):
        if spec.external_traffic_policy:
            detail = "may only be set for externally-accessible services"
            errs.append(invalid(etp, spec.external_traffic_policy, detail))
    else:
        errs += validate_choice(spec.external_traffic_policy, ["Cluster", "Local"], etp)
    needs_health_check = spec.type == "LoadBalancer" and spec.external_traffic_policy == "Local"
    hc = sp.child("healthCheckNodePort")
    if not needs_health_check and spec.health_check_node_port:
        detail = "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"
        errs.append(invalid(hc, spec.health_check_node_port, detail))
    elif needs_health_check and spec.health_check_node_port:
        errs += each(is_valid_port_num(spec.health_check_node_port), hc, spec.health_check_node_port)
    itp = sp.child("internalTrafficPolicy")
    if spec.internal_traffic_policy is None:
        if spec.type in ("NodePort", "LoadBalancer", "ClusterIP"):
            errs.append(FieldError.required(str(itp)))
    elif spec.internal_traffic_policy not in ("Cluster", "Local"):
        errs.append(FieldError.not_supported(str(itp), spec.internal_traffic_policy, ["Cluster", "Local"]))
    if spec.traffic_distribution is not None and spec.traffic_distribution != "PreferClose":
        td = sp.child("trafficDistribution")
        errs.append(FieldError.not_supported(str(td), spec.traffic_distribution, ["PreferClose"]))
    return errs
