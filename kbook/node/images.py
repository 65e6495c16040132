"""The kubelet's image manager: make sure a container's image is on the node before it
starts (``pkg/kubelet/images/image_manager.go`` ``EnsureImageExists``), pulling the layers
the node's layer store lacks through one serialized puller (``puller.go``
``serialImagePuller``: ``serializeImagePulls`` defaults to true), retrying failed pulls
with backoff (ImagePullBackOff).

A pull takes the missing blob bytes over the node's bandwidth (``PullPlan.seconds``);
manifest and config fetches, registry latency and unpacking are not modelled.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import Any

import simpy

from kbook.api import Container
from kbook.api.defaults import image_pull_policy
from kbook.image import Image, LayerStore
from kbook.node.backoff import Backoff
from kbook.node.timestamps import go_duration

__all__ = ["ImageManager", "PullError", "ERR_IMAGE_PULL", "IMAGE_PULL_BACKOFF", "ERR_IMAGE_NEVER_PULL"]

# pkg/kubelet/images/types.go
ERR_IMAGE_PULL = "ErrImagePull"
IMAGE_PULL_BACKOFF = "ImagePullBackOff"
ERR_IMAGE_NEVER_PULL = "ErrImageNeverPull"

Recorder = Callable[[str, str], None]  # (event reason, message)


class PullError(Exception):
    """Why a container cannot start yet: ``reason`` is its Waiting reason; ``retry_after``
    the seconds until the pull may be tried again (``None``: never, for ErrImageNeverPull)."""

    def __init__(self, reason: str, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.reason, self.message, self.retry_after = reason, message, retry_after


class ImageManager:
    """Pulls images from ``registry`` (ref -> Image) into ``store``. With ``registry=None``
    images are not modelled: every image is present and empty."""

    def __init__(self, env: simpy.Environment, registry: Mapping[str, Image] | None, store: LayerStore,
                 bandwidth_bytes_per_s: float, *, serialize_image_pulls: bool = True):
        self.env = env
        self.registry = registry
        self.store = store
        self.bandwidth = bandwidth_bytes_per_s
        self.backoff = Backoff()
        self._puller = simpy.Resource(env, capacity=1) if serialize_image_pulls else None

    def present(self, ref: str) -> bool:
        return ref in self.store.refs

    def ensure(self, container: Container, backoff_key: str, record: Recorder,
               abort: simpy.Event) -> Generator[Any, Any, Image | None]:
        """A process step: the container's image, pulled if the pull policy says so (None if
        ``abort`` fires first); raises :class:`PullError`."""
        ref = container.image
        if self.registry is None:
            return Image(layers=())
        policy = container.image_pull_policy or image_pull_policy(ref)
        if self.present(ref) and policy != "Always":
            record("Pulled", f'Container image "{ref}" already present on machine')
            return self.store.get(ref)
        if policy == "Never":
            message = f'Container image "{ref}" is not present with pull policy of Never'
            record("ErrImageNeverPull", message)
            raise PullError(ERR_IMAGE_NEVER_PULL, message)
        wait = self.backoff.remaining(backoff_key, self.env.now)
        if wait > 0:
            message = f'Back-off pulling image "{ref}"'
            record("BackOff", message)
            raise PullError(IMAGE_PULL_BACKOFF, message, wait)
        record("Pulling", f'Pulling image "{ref}"')
        asked = self.env.now
        if self._puller is None:
            return (yield from self._pull(ref, asked, backoff_key, record, abort))
        with self._puller.request() as turn:
            yield turn | abort
            if abort.triggered:
                return None
            return (yield from self._pull(ref, asked, backoff_key, record, abort))

    def _pull(self, ref: str, asked: float, backoff_key: str, record: Recorder,
              abort: simpy.Event) -> Generator[Any, Any, Image | None]:
        assert self.registry is not None
        image = self.registry.get(ref)
        if image is None:
            message = (f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
                       f'failed to resolve reference "{ref}": {ref}: not found')
            record("Failed", f'Failed to pull image "{ref}": {message}')
            self.backoff.next(backoff_key, self.env.now)
            raise PullError(ERR_IMAGE_PULL, message, 0.0)  # the next sync finds it in backoff
        started = self.env.now
        plan = self.store.plan_pull(image)
        yield self.env.timeout(plan.seconds(self.bandwidth)) | abort
        if abort.triggered:
            return None
        self.store.add(image, ref)
        size = plan.download_bytes + plan.present_bytes
        record("Pulled", f'Successfully pulled image "{ref}" in {go_duration(self.env.now - started)} '
                         f'({go_duration(self.env.now - asked)} including waiting). Image size: {size} bytes.')
        return image
