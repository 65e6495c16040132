"""Validation of Leases: ``ValidateLease`` and ``ValidateLeaseSpec``
(``pkg/apis/coordination/validation/validation.go``)."""

from __future__ import annotations

from kbook.api.coordination import Lease
from kbook.api.model import Path
from kbook.api.validation import IS_NEGATIVE_ERROR_MSG, invalid, name_is_dns_subdomain, validate_object_meta
from kbook.errors import FieldError

__all__ = ["validate_lease", "LEASE_STRATEGIES"]

LEASE_STRATEGIES = ["OldestEmulationVersion"]  # coordination.CoordinatedLeaseStrategy values


def validate_lease(lease: Lease) -> list[FieldError]:
    """``ValidateLease``: metadata (a DNS subdomain name), positive duration, non-negative
    transitions, a known strategy, and a preferred holder only with a strategy."""
    errs = validate_object_meta(lease.metadata, True, name_is_dns_subdomain, Path("metadata"))
    spec, path = lease.spec, Path("spec")
    if spec.lease_duration_seconds is not None and spec.lease_duration_seconds <= 0:
        errs.append(invalid(path.child("leaseDurationSeconds"), spec.lease_duration_seconds, "must be greater than 0"))
    if spec.lease_transitions is not None and spec.lease_transitions < 0:
        errs.append(invalid(path.child("leaseTransitions"), spec.lease_transitions, IS_NEGATIVE_ERROR_MSG))
    if spec.strategy is not None and spec.strategy not in LEASE_STRATEGIES:
        errs.append(FieldError.not_supported(str(path.child("strategy")), spec.strategy, LEASE_STRATEGIES))
    if spec.preferred_holder and not spec.strategy:
        detail = "may only be specified if `strategy` is defined"
        errs.append(FieldError.forbidden(str(path.child("preferredHolder")), detail))
    return errs
