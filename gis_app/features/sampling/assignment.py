"""Double random (双随机): inspectors drawn at random for the sampled sites.

Rules: an inspector never checks a site of his or her own street; no inspector gets more
than ``cap`` sites. Sites are taken in a random order and each goes to an eligible inspector
chosen at random among the least loaded; when every eligible inspector is full, earlier
assignments are moved along augmenting paths (Kuhn's bipartite matching with capacities), so
an assignment is found whenever one exists. Everything random comes from the generator given,
so a stored seed reproduces the assignment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gis_app.core.errors import ValidationError


@dataclass(frozen=True)
class Candidate:
    id: int
    street_code: str | None  # None: a district-level inspector, eligible everywhere


def assign(
    sites: Sequence[tuple[int, str]],
    pool: Sequence[Candidate],
    cap: int,
    rng: np.random.Generator,
) -> dict[int, int]:
    """site id -> inspector id for (site id, street code) pairs."""
    if cap < 1:
        raise ValidationError("每名执法人员的上限至少为 1", "cap")
    if not sites:
        return {}
    if not pool:
        raise ValidationError("执法人员库为空：请先添加执法人员", "inspectors")
    for street in sorted({s for _, s in sites}):
        need = sum(1 for _, s in sites if s == street)
        able = [c for c in pool if c.street_code != street]
        if len(able) * cap < need:
            raise ValidationError(
                f"执法人员不足：街道 {street} 有 {need} 个抽中点位，"
                f"而不属于该街道的执法人员只有 {len(able)} 名（每人上限 {cap}）",
                "inspectors",
                street=street,
            )
    order = rng.permutation(len(sites))
    rank = rng.random((len(sites), len(pool)))  # random preference of each site
    eligible = [[j for j, c in enumerate(pool) if c.street_code != street] for _, street in sites]
    holder: list[int | None] = [None] * len(sites)
    held: list[list[int]] = [[] for _ in pool]

    def place(i: int, visited: set[int]) -> bool:
        options = sorted(eligible[i], key=lambda j: (len(held[j]), rank[i, j]))
        for j in options:
            if j in visited:
                continue
            visited.add(j)
            if len(held[j]) < cap:
                held[j].append(i)
                holder[i] = j
                return True
            for other in list(held[j]):
                held[j].remove(other)
                if place(other, visited):
                    held[j].append(i)
                    holder[i] = j
                    return True
                held[j].append(other)
        return False

    for i in order.tolist():
        if not place(i, set()):
            raise ValidationError(
                f"执法人员不足：在每人不超过 {cap} 个、且不查本街道的条件下无法为全部"
                f"{len(sites)} 个点位分配执法人员；请增加执法人员或提高上限",
                "inspectors",
            )
    return {sites[i][0]: pool[j].id for i, j in enumerate(holder) if j is not None}
