"""The share of closed sites truly rectified, estimated from a spot check's results.

Design: a stratified sample (strata = streets), without replacement, equal probabilities
within a stratum. Only inspected units count (units not yet inspected are treated as missing
at random within their street).

- Per street: p_h = passed / inspected, with a Wilson score interval whose sample size is the
  effective one under the finite population correction, m_h (N_h - 1) / (N_h - m_h)
  (Cochran). Wilson's interval keeps to [0, 1] and stays honest for small streets and shares
  near 0 or 1, where the normal interval would collapse to a point; a census (m_h = N_h) has
  no sampling error at all.
- District: the stratified estimator p = sum W_h p_h with W_h = N_h / N and variance
  sum W_h^2 (1 - m_h/N_h) s_h^2 / m_h, s_h^2 = m_h p_h (1 - p_h) / (m_h - 1); a street with a
  single inspected unit contributes s_h^2 = 1/4 (the largest possible: one unit says nothing
  about the spread). The interval is Wilson's with the effective sample size
  p (1 - p) / variance (Kish), falling back to the simple-random one when that is undefined.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Tally:
    population: int  # N_h: units of the stratum in the frame
    sampled: int  # n_h
    inspected: int  # m_h
    passed: int


@dataclass(frozen=True)
class Estimate:
    population: int
    sampled: int
    inspected: int
    passed: int
    share: float | None
    low: float | None
    high: float | None
    complete: bool = True

    def to_dict(self) -> dict[str, object]:
        return {
            "population": self.population,
            "sampled": self.sampled,
            "inspected": self.inspected,
            "passed": self.passed,
            "failed": self.inspected - self.passed,
            "share": self.share,
            "ci_low": self.low,
            "ci_high": self.high,
            "complete": self.complete,
        }


def effective_size(inspected: int, population: int) -> float:
    """m (N - 1) / (N - m): the sample size a with-replacement design would need."""
    if inspected >= population:
        return math.inf
    return inspected * (population - 1) / (population - inspected)


def wilson(share: float, n_eff: float, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion observed on n_eff effective units."""
    if math.isinf(n_eff):
        return share, share
    z2 = z * z
    centre = (share + z2 / (2 * n_eff)) / (1 + z2 / n_eff)
    half = z / (1 + z2 / n_eff) * math.sqrt(share * (1 - share) / n_eff + z2 / (4 * n_eff**2))
    return max(0.0, centre - half), min(1.0, centre + half)


def estimate_stratum(t: Tally) -> Estimate:
    if t.inspected == 0:
        return Estimate(t.population, t.sampled, 0, 0, None, None, None, False)
    share = t.passed / t.inspected
    low, high = wilson(share, effective_size(t.inspected, t.population))
    return Estimate(
        t.population,
        t.sampled,
        t.inspected,
        t.passed,
        share,
        low,
        high,
        t.inspected == t.sampled,
    )


def estimate_stratified(tallies: Mapping[str, Tally]) -> Estimate:
    """The district's share from its streets' tallies (strata with no result are left out)."""
    population = sum(t.population for t in tallies.values())
    sampled = sum(t.sampled for t in tallies.values())
    seen = {k: t for k, t in tallies.items() if t.inspected > 0}
    inspected = sum(t.inspected for t in seen.values())
    passed = sum(t.passed for t in seen.values())
    complete = all(t.inspected == t.sampled for t in tallies.values())
    if not seen:
        return Estimate(population, sampled, 0, 0, None, None, None, False)
    covered = sum(t.population for t in seen.values())
    share = 0.0
    variance = 0.0
    for t in seen.values():
        weight = t.population / covered
        p_h = t.passed / t.inspected
        share += weight * p_h
        if t.inspected >= t.population:
            continue  # a census of the street: no sampling error
        s2 = 0.25 if t.inspected == 1 else t.inspected * p_h * (1 - p_h) / (t.inspected - 1)
        variance += weight**2 * (1 - t.inspected / t.population) * s2 / t.inspected
    share = min(1.0, max(0.0, share))
    if inspected >= covered:
        n_eff = math.inf
    elif variance > 0 and 0 < share < 1:
        n_eff = share * (1 - share) / variance
    else:
        n_eff = effective_size(inspected, covered)
    low, high = wilson(share, n_eff)
    return Estimate(population, sampled, inspected, passed, share, low, high, complete)
