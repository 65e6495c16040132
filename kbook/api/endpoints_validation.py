"""Validation of Endpoints: ``ValidateEndpoints``, ``validateEndpointSubsets``,
``validateEndpointAddress`` and ``validateEndpointPort``
(``pkg/apis/core/validation/validation.go``)."""

from __future__ import annotations

from kbook.api.endpoints import EndpointAddress, EndpointPort, Endpoints
from kbook.api.formats import is_valid_ip, is_valid_port_num
from kbook.api.model import Path
from kbook.api.pod_validation import SUPPORTED_PORT_PROTOCOLS
from kbook.api.service_validation import validate_non_special_ip
from kbook.api.validation import (
    each,
    name_is_dns_subdomain,
    validate_dns1123_label,
    validate_object_meta,
)
from kbook.errors import FieldError

__all__ = ["validate_endpoints"]

Errors = list[FieldError]


def _validate_address(address: EndpointAddress, path: Path) -> Errors:
    """``validateEndpointAddress``: a valid, non-special IP; hostname a DNS label; node name a DNS subdomain."""
    ip_path = path.child("ip")
    errs = each(is_valid_ip(address.ip), ip_path, address.ip)
    if address.hostname:
        errs += validate_dns1123_label(address.hostname, path.child("hostname"))
    if address.node_name is not None:
        errs += each(name_is_dns_subdomain(address.node_name, False), path.child("nodeName"), address.node_name)
    return errs + validate_non_special_ip(address.ip, ip_path)


def _validate_port(port: EndpointPort, require_name: bool, path: Path) -> Errors:
    """``validateEndpointPort``: a name when there are several ports, a valid number and protocol."""
    errs: Errors = []
    if require_name and not port.name:
        errs.append(FieldError.required(str(path.child("name"))))
    elif port.name:
        errs += validate_dns1123_label(port.name, path.child("name"))
    errs += each(is_valid_port_num(port.port), path.child("port"), port.port)
    if not port.protocol:
        errs.append(FieldError.required(str(path.child("protocol"))))
    elif port.protocol not in SUPPORTED_PORT_PROTOCOLS:
        errs.append(FieldError.not_supported(str(path.child("protocol")), port.protocol, SUPPORTED_PORT_PROTOCOLS))
    return errs


def validate_endpoints(endpoints: Endpoints) -> Errors:
    """``ValidateEndpoints``: metadata, then each subset's addresses and ports."""
    errs = validate_object_meta(endpoints.metadata, True, name_is_dns_subdomain, Path("metadata"))
    for i, subset in enumerate(endpoints.subsets):
        path = Path("subsets").index(i)
        if not subset.addresses and not subset.not_ready_addresses:
            errs.append(FieldError.required(str(path), "must specify `addresses` or `notReadyAddresses`"))
        for j, address in enumerate(subset.addresses):
            errs += _validate_address(address, path.child("addresses").index(j))
        for j, address in enumerate(subset.not_ready_addresses):
            errs += _validate_address(address, path.child("notReadyAddresses").index(j))
        for j, port in enumerate(subset.ports):
            errs += _validate_port(port, len(subset.ports) > 1, path.child("ports").index(j))
    return errs
