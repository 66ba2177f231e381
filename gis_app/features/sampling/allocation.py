"""How a sample of n is shared among strata (streets).

Proportional allocation gives stratum h the share n * N_h / N rounded by the largest-remainder
method; equal allocation gives every stratum n / H. Both keep at least one unit in every
non-empty stratum and never more than the stratum holds, and always add up to n. Ties in the
remainders go to the larger stratum, then to the lower stratum key, so an allocation is a
function of its inputs alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from gis_app.core.errors import ValidationError

ALLOCATIONS: Final = {"proportional": "按比例分配", "equal": "平均分配"}


def check_allocation(value: object) -> str:
    """An allocation's code (proportional when none is given)."""
    allocation = value or "proportional"
    if not isinstance(allocation, str) or allocation.strip().lower() not in ALLOCATIONS:
        allowed = "、".join(ALLOCATIONS)
        raise ValidationError(f"分配方式 {value!r} 无效（可选：{allowed}）", "allocation")
    return allocation.strip().lower()


def allocate(sizes: Mapping[str, int], n: int, method: str = "proportional") -> dict[str, int]:
    """Sample sizes per stratum adding up to n (strata with no units get none)."""
    if method not in ALLOCATIONS:
        raise ValidationError(
            f"分配方式 {method!r} 无效（可选：{'、'.join(ALLOCATIONS)}）", "allocation"
        )
    strata = {key: int(size) for key, size in sizes.items() if size > 0}
    total = sum(strata.values())
    if n > total:
        raise ValidationError(f"样本量 {n} 大于抽样框的 {total} 个点位", "n")
    if n < len(strata):
        raise ValidationError(
            f"样本量 {n} 小于有点位的街道数 {len(strata)}：每个街道至少抽 1 个", "n"
        )
    if method == "proportional":
        quota = {key: n * size / total for key, size in strata.items()}
    else:
        quota = {key: n / len(strata) for key in strata}
    alloc = {key: min(strata[key], max(1, math.floor(q))) for key, q in quota.items()}

    rank = {key: i for i, key in enumerate(sorted(strata))}

    def order(key: str) -> tuple[float, int, int]:
        return (quota[key] - alloc[key], strata[key], -rank[key])

    while sum(alloc.values()) > n:  # the minimum of one pushed us over: take back
        key = min((k for k in alloc if alloc[k] > 1), key=order)
        alloc[key] -= 1
    while sum(alloc.values()) < n:  # largest remainders first
        key = max((k for k in alloc if alloc[k] < strata[k]), key=order)
        alloc[key] += 1
    return {key: alloc.get(key, 0) for key in sizes}
