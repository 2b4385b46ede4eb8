"""Random draws that a component makes during training, so a stacked group can give each member its own stream.

A run trained alone draws from torch's global generator, exactly as
``torch.randn`` would: these functions call it with the same arguments,
so a component that switches to them keeps its results bit for bit. In a
stacked group (``gan train --seeds N``) the engine evaluates one member's
step for all members at once under ``torch.func.vmap``; there it points
these functions at every member's own ``torch.Generator`` (seeded by that
member's seed alone), draws each member's values from its own stream and
hands every member its slice. What a seed trains then does not depend on
the group it is trained in, and ``--seed K`` alone matches member K.

A component that declares ``stacks = True`` draws only through here
(docs/plugins.md, "Stacked training"); ``torch.randn`` inside a stacked
step would give every member the same noise, which the conformance kit's
stacked-equals-separate check catches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import torch

__all__ = ["integers", "member_draws", "normal", "stacking", "uniform"]


@dataclass(frozen=True)
class _Members:
    """The generators of a stacked group and, inside vmap, the (batched) index of the member being computed."""

    generators: Sequence[torch.Generator]
    index: torch.Tensor

    def draw(self, make: Callable[[torch.Generator], torch.Tensor]) -> torch.Tensor:
        # One draw per member from its own stream, stacked, then each member's own slice (index is batched).
        return torch.stack([make(g) for g in self.generators])[self.index]


_members: ContextVar[_Members | None] = ContextVar("gan_members", default=None)


def stacking() -> bool:
    """Whether the code now running is one member's step of a stacked group (inside ``torch.func.vmap``)."""
    return _members.get() is not None


@contextmanager
def member_draws(generators: Sequence[torch.Generator], index: torch.Tensor) -> Iterator[None]:
    """Within the block, draws come from ``generators[index]``: what the stacked engine wraps each step in."""
    token = _members.set(_Members(generators, index))
    try:
        yield
    finally:
        _members.reset(token)


def normal(*shape: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Standard normal values of ``shape`` (``torch.randn``)."""
    members = _members.get()
    if members is None:
        return torch.randn(*shape, device=device)
    return members.draw(lambda g: torch.randn(*shape, device=device, generator=g))


def uniform(*shape: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Values uniform in [0, 1) of ``shape`` (``torch.rand``)."""
    members = _members.get()
    if members is None:
        return torch.rand(*shape, device=device)
    return members.draw(lambda g: torch.rand(*shape, device=device, generator=g))


def integers(high: int, *shape: int, device: torch.device | str | None = None) -> torch.Tensor:
    """int64 values uniform in [0, high) of ``shape`` (``torch.randint``)."""
    members = _members.get()
    if members is None:
        return torch.randint(0, high, shape, device=device)
    return members.draw(lambda g: torch.randint(0, high, shape, device=device, generator=g))
