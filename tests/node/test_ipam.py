"""host-local IPAM: round robin after the last address, released addresses come back."""

import pytest

from kbook.node.ipam import HostLocalIPAM, IPAMError


def test_round_robin_skips_the_gateway_and_reuses_released_addresses():
    ipam = HostLocalIPAM("10.128.0.0/29")  # hosts .1-.6; .1 is the gateway
    got = [ipam.allocate() for _ in range(5)]
    assert got == ["10.128.0.2", "10.128.0.3", "10.128.0.4", "10.128.0.5", "10.128.0.6"]
    with pytest.raises(IPAMError, match="no IP addresses available in range set: 10.128.0.2-10.128.0.6"):
        ipam.allocate()
    ipam.release("10.128.0.4")
    ipam.release("10.128.0.2")
    assert ipam.allocate() == "10.128.0.2"  # after the last one reserved (.6), wrapping
    assert ipam.allocate() == "10.128.0.4"


def test_a_node_churning_pods_never_runs_out():
    ipam = HostLocalIPAM("10.128.0.0/24")
    live = []
    for _ in range(2000):
        live.append(ipam.allocate())
        if len(live) > 100:
            ipam.release(live.pop(0))
    assert len(set(live)) == len(live) == 100
