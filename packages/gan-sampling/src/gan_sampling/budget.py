"""The proposal bound every rejection-style sampler honours, so none loops forever."""

from __future__ import annotations

from gan_core import GanError

#: proposals per requested image when the user gives no --max-proposals
DEFAULT_PROPOSALS_PER_IMAGE = 1000


def proposal_limit(n: int, max_proposals: int | None) -> int:
    return max_proposals if max_proposals is not None else n * DEFAULT_PROPOSALS_PER_IMAGE


def out_of_proposals(name: str, accepted: int, n: int, proposals: int) -> GanError:
    return GanError(
        f"sampler '{name}' accepted {accepted} of the {n} images asked for after {proposals} proposals "
        "(its proposal bound); raise --max-proposals or make the sampler accept more (see gan plugins show "
        f"{name})"
    )
