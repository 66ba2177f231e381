"""The sampling engine without a database: methods, balance, allocation, sizes, estimates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gis_app.core.errors import ValidationError
from gis_app.features.sampling import design
from gis_app.features.sampling.allocation import allocate
from gis_app.features.sampling.assignment import Candidate, assign
from gis_app.features.sampling.balance import balance, pielou, voronoi_sums, voronoi_variance
from gis_app.features.sampling.estimate import Tally, estimate_stratified, estimate_stratum, wilson
from gis_app.features.sampling.grts import grts_sample
from gis_app.features.sampling.pivotal import lpm_sample, lpm_sample_prob


def _points(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 2)) * 5000.0


# ---------------------------------------------------------------- methods


@pytest.mark.parametrize("method", ["lpm", "grts", "srs"])
def test_same_seed_same_sample_other_seed_other_sample(method) -> None:
    xy = _points(500)
    strata = [f"s{i % 4}" for i in range(500)]
    first = design.draw(xy, strata, 40, method, 12345)
    again = design.draw(xy, strata, 40, method, 12345)
    other = design.draw(xy, strata, 40, method, 12346)
    assert first.positions.tolist() == again.positions.tolist()
    assert first.strata == again.strata
    assert set(first.positions.tolist()) != set(other.positions.tolist())


@pytest.mark.parametrize("sampler", [lpm_sample, grts_sample])
@pytest.mark.parametrize("n", [1, 7, 50, 199])
def test_exact_sample_size_without_repeats(sampler, n) -> None:
    xy = _points(200, seed=n)
    picked = sampler(xy, n, np.random.default_rng(n))
    assert len(picked) == n == len(set(picked.tolist()))
    assert picked.min() >= 0 and picked.max() < 200


def test_whole_frame_when_n_reaches_it() -> None:
    xy = _points(30)
    for sampler in (lpm_sample, grts_sample):
        assert sorted(sampler(xy, 30, np.random.default_rng(0)).tolist()) == list(range(30))


@pytest.mark.slow
@pytest.mark.parametrize("sampler", [lpm_sample, grts_sample])
def test_every_unit_has_its_inclusion_probability(sampler) -> None:
    """Over many draws each unit is picked about n/N of the time (design-unbiased)."""
    xy = _points(120, seed=3)
    rng = np.random.default_rng(99)
    counts = np.zeros(120)
    draws = 1500
    for _ in range(draws):
        counts[sampler(xy, 12, rng)] += 1
    freq = counts / draws
    # binomial sd at p=0.1 over 1500 draws is 0.0077: 4.5 sd, and the mean is exact
    assert abs(freq.mean() - 0.1) < 1e-12
    assert np.abs(freq - 0.1).max() < 0.035


@pytest.mark.slow
def test_lpm_keeps_unequal_probabilities() -> None:
    xy = _points(60, seed=4)
    prob = np.linspace(0.05, 0.95, 60)
    prob *= 15 / prob.sum()
    rng = np.random.default_rng(5)
    counts = np.zeros(60)
    for _ in range(2000):
        picked = lpm_sample_prob(xy, prob, rng)
        assert len(picked) == 15
        counts[picked] += 1
    assert np.abs(counts / 2000 - prob).max() < 0.05


@pytest.mark.slow
def test_spatially_balanced_methods_beat_simple_random_sampling() -> None:
    """On 2,000 uniform points with n = 100 (the anchor figures: SRS about 0.34, GRTS
    0.10-0.12, LPM 0.08-0.10), averaged over 30 draws each."""
    xy = _points(2000, seed=7)
    prob = np.full(2000, 100 / 2000)
    rng = np.random.default_rng(8)
    mean = {
        name: np.mean([balance(xy, prob, f(xy, 100, rng)).variance for _ in range(30)])
        for name, f in design.DRAWERS.items()
    }
    assert 0.28 < mean["srs"] < 0.40
    assert mean["lpm"] < 0.35 * mean["srs"]  # the goal: at least 65 % lower
    assert mean["grts"] < 0.45 * mean["srs"]
    assert mean["lpm"] < mean["grts"]


def test_stratified_draw_follows_the_allocation() -> None:
    xy = _points(300)
    strata = ["a"] * 200 + ["b"] * 90 + ["c"] * 10
    result = design.draw(xy, strata, 30, "lpm", 1, "proportional")
    assert result.allocation == {"a": 20, "b": 9, "c": 1}
    got = {k: result.strata.count(k) for k in "abc"}
    assert got == result.allocation
    assert all(strata[p] == s for p, s in zip(result.positions, result.strata, strict=True))
    assert math.isclose(result.prob.sum(), 30)
    assert math.isclose(result.prob[0], 0.1) and math.isclose(result.prob[-1], 0.1)


def test_balance_report_is_reproducible_and_compares_like_with_like() -> None:
    xy = _points(600, seed=9)
    strata = [f"s{int(x // 2500)}{int(y // 2500)}" for x, y in xy]
    result = design.draw(xy, strata, 60, "lpm", 5)
    first = design.balance_against_srs(xy, strata, result, 5, draws=40)
    assert first == design.balance_against_srs(xy, strata, result, 5, draws=40)
    assert first.draws == 40
    assert first.sample.variance < first.srs_within_strata.variance < first.srs.variance


# ---------------------------------------------------------------- balance


def test_voronoi_sums_by_hand() -> None:
    # frame on a line at 0, 1, 2, 10, 11; sample {0, 10}: polygon of 0 holds 0, 1, 2
    xy = np.array([[0, 0], [1, 0], [2, 0], [10, 0], [11, 0]], dtype=float)
    prob = np.full(5, 0.4)
    sums = voronoi_sums(xy, prob, np.array([0, 3]))
    assert np.allclose(sums, [1.2, 0.8])
    assert math.isclose(voronoi_variance(sums), 0.04)
    # spsurvey works on proportions p = v / n; its mse is our variance / n**2
    p = sums / 2
    assert math.isclose(np.mean((p - 0.5) ** 2) * 4, voronoi_variance(sums))
    assert math.isclose(pielou(sums), 1 + (0.6 * math.log(0.6) + 0.4 * math.log(0.4)) / math.log(2))
    assert pielou(np.array([1.0, 1.0, 1.0])) == pytest.approx(0.0)


# ---------------------------------------------------------------- allocation


@pytest.mark.parametrize("method", ["proportional", "equal"])
def test_allocations_add_up_for_many_inputs(method) -> None:
    rng = np.random.default_rng(11)
    for _ in range(300):
        k = int(rng.integers(1, 13))
        sizes = {f"s{i:02d}": int(rng.integers(0, 400)) for i in range(k)}
        nonempty = sum(1 for v in sizes.values() if v)
        total = sum(sizes.values())
        if nonempty == 0:
            continue
        n = int(rng.integers(nonempty, total + 1))
        alloc = allocate(sizes, n, method)
        assert sum(alloc.values()) == n
        for key, size in sizes.items():
            assert (alloc[key] >= 1) == (size > 0)
            assert alloc[key] <= size


def test_proportional_and_equal_allocation_by_hand() -> None:
    assert allocate({"a": 50, "b": 30, "c": 20}, 10) == {"a": 5, "b": 3, "c": 2}
    # largest remainder: quotas 10.81, 1.08, 0.11 -> the small street still gets one
    assert allocate({"a": 100, "b": 10, "c": 1, "d": 0}, 12) == {"a": 10, "b": 1, "c": 1, "d": 0}
    assert allocate({"a": 5, "b": 5, "c": 5}, 7, "equal") == {"a": 3, "b": 2, "c": 2}
    assert allocate({"a": 100, "b": 3, "c": 1}, 30, "equal") == {"a": 26, "b": 3, "c": 1}


def test_allocation_refusals() -> None:
    with pytest.raises(ValidationError) as exc:
        allocate({"a": 5, "b": 5, "c": 5}, 2)
    assert exc.value.field == "n" and "至少抽 1 个" in exc.value.message
    with pytest.raises(ValidationError) as exc:
        allocate({"a": 5}, 6)
    assert exc.value.field == "n"
    with pytest.raises(ValidationError) as exc:
        allocate({"a": 5}, 2, "neyman")
    assert exc.value.field == "allocation"


# ---------------------------------------------------------------- sample size


def test_size_modes() -> None:
    assert design.resolve_size(1000, 12, "gbt2828").n == 80
    assert design.resolve_size(1000, 12, "gbt2828").code_letter == "J"
    assert design.resolve_size(1000, 12, "gbt2828", level="S-4").n == 20
    assert design.resolve_size(1000, 12, "percent", "5").n == 50
    assert design.resolve_size(1001, 12, "percent", 5).n == 51  # rounded up
    assert design.resolve_size(1000, 12, "fixed", "37").n == 37
    raised = design.resolve_size(20, 12, "gbt2828")  # letter C: 5, below one per street
    assert raised.n == 12 and raised.raised_to_strata and raised.code_letter == "C"


@pytest.mark.parametrize(
    ("mode", "value", "frame", "field", "words"),
    [
        ("fixed", "-3", 100, "n", "负数"),
        ("fixed", "0", 100, "n", "至少为 1"),
        ("fixed", "101", 100, "n", "大于抽样框"),
        ("fixed", "2.5", 100, "n", "整数"),
        ("fixed", "十个", 100, "n", "数字"),
        ("fixed", None, 100, "n", "请填写"),
        ("percent", "0", 100, "n", "百分比"),
        ("percent", "120", 100, "n", "百分比"),
        ("fixed", "5", 0, "frame", "抽样框为空"),
        ("gbt2828", None, 0, "frame", "抽样框为空"),
        ("sqrt", "5", 100, "size_mode", "无效"),
    ],
)
def test_size_refusals_name_the_field(mode, value, frame, field, words) -> None:
    with pytest.raises(ValidationError) as exc:
        design.resolve_size(frame, 1, mode, value)
    assert exc.value.field == field and words in exc.value.message


def test_seed_and_method_checks() -> None:
    assert design.check_seed("42") == 42
    for bad in ("-1", str(2**63), "abc", True):
        with pytest.raises(ValidationError) as exc:
            design.check_seed(bad)
        assert exc.value.field == "seed"
    with pytest.raises(ValidationError) as exc:
        design.check_method("cluster")
    assert exc.value.field == "method"


# ---------------------------------------------------------------- estimates


def test_wilson_interval_known_values() -> None:
    low, high = wilson(0.5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    low, high = wilson(1.0, 20)  # all passed: the interval still has width
    assert high == 1.0 and low == pytest.approx(0.8389, abs=1e-4)


def test_street_estimate_with_finite_population_correction() -> None:
    small = estimate_stratum(Tally(population=10, sampled=5, inspected=5, passed=4))
    large = estimate_stratum(Tally(population=10_000, sampled=5, inspected=5, passed=4))
    assert small.share == large.share == 0.8
    assert (small.high - small.low) < (large.high - large.low)  # the FPC narrows it
    census = estimate_stratum(Tally(population=6, sampled=6, inspected=6, passed=3))
    assert census.low == census.high == 0.5
    none = estimate_stratum(Tally(population=6, sampled=2, inspected=0, passed=0))
    assert none.share is None and not none.complete


def test_district_estimate_is_stratified() -> None:
    tallies = {
        "a": Tally(population=900, sampled=45, inspected=45, passed=45),
        "b": Tally(population=100, sampled=5, inspected=5, passed=0),
    }
    est = estimate_stratified(tallies)
    assert est.share == pytest.approx(0.9)  # weights 0.9 and 0.1, not the pooled 45/50
    assert est.low < 0.9 < est.high and est.low >= 0 and est.high <= 1
    one = estimate_stratified({**tallies, "c": Tally(50, 1, 1, 1)})
    assert one.low < one.share < one.high  # a single-unit street still widens it
    assert estimate_stratified({"a": Tally(10, 2, 0, 0)}).share is None


# ---------------------------------------------------------------- double random


def test_assignment_rules_and_reproducibility() -> None:
    sites = [(100 + i, f"s{i % 3}") for i in range(30)]
    pool = [Candidate(i, f"s{i % 3}") for i in range(1, 7)] + [Candidate(7, None)]
    first = assign(sites, pool, 5, np.random.default_rng(4))
    assert first == assign(sites, pool, 5, np.random.default_rng(4))
    assert first != assign(sites, pool, 5, np.random.default_rng(5))
    streets = {c.id: c.street_code for c in pool}
    street_of = dict(sites)
    assert set(first) == {s for s, _ in sites}
    assert all(streets[i] != street_of[s] for s, i in first.items())
    assert max(list(first.values()).count(i) for i in streets) <= 5


def test_assignment_moves_earlier_choices_when_needed() -> None:
    # one inspector per street, cap 1: only the two "rotations" work; greedy can get stuck
    sites = [(1, "a"), (2, "b"), (3, "c")]
    pool = [Candidate(10, "a"), Candidate(11, "b"), Candidate(12, "c")]
    for seed in range(20):
        got = assign(sites, pool, 1, np.random.default_rng(seed))
        assert sorted(got.values()) == [10, 11, 12]
        assert got[1] != 10 and got[2] != 11 and got[3] != 12


def test_assignment_refuses_too_few_eligible_inspectors() -> None:
    sites = [(1, "a"), (2, "a"), (3, "a")]
    with pytest.raises(ValidationError) as exc:
        assign(sites, [Candidate(1, "a"), Candidate(2, "b")], 2, np.random.default_rng(0))
    assert exc.value.field == "inspectors" and "执法人员不足" in exc.value.message
    with pytest.raises(ValidationError) as exc:
        assign(sites, [], 2, np.random.default_rng(0))
    assert exc.value.field == "inspectors"
    with pytest.raises(ValidationError) as exc:
        assign(sites, [Candidate(2, "b")], 0, np.random.default_rng(0))
    assert exc.value.field == "cap"


def test_auto_takes_the_pivotal_method_then_grts_for_very_large_frames() -> None:
    assert design.DEFAULT_METHOD == "auto"
    assert design.resolve_method("auto", design.AUTO_LPM_LIMIT) == "lpm"
    assert design.resolve_method("auto", design.AUTO_LPM_LIMIT + 1) == "grts"
    assert design.resolve_method("srs", 10**6) == "srs"
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1000, size=(400, 2))
    strata = ["a"] * 400
    auto = design.draw(xy, strata, 20, "auto", 9)
    lpm = design.draw(xy, strata, 20, "lpm", 9)
    assert auto.positions.tolist() == lpm.positions.tolist()  # the same draw, reproducible
