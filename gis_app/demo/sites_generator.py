"""Synthetic illegal-construction sites (点位) for the demo district.

Pure data: numpy draws from ``numpy.random.default_rng(seed)``, so the same streets, ``n``,
``seed`` and ``today`` always give the same sites. Points are denser in old residential blocks
(a mixture of Gaussian hotspots, more of them in the old-neighbourhood streets, plus a uniform
background) and always lie strictly inside a street polygon.

Everything personal is fake: names are drawn from fixed lists of surnames and given-name
characters, phone numbers are random digits behind real mobile prefixes. Road names are real
Hedong roads, but which street each road is assigned to is approximate; community (社区) names
are invented, except 文华里社区 (named in the subdistricts CSV).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

#: Share of points drawn from the uniform background instead of a hotspot.
BACKGROUND_SHARE = 0.3
#: Points keep at least this distance (degrees, about 1 m) from a street boundary.
_EDGE_MARGIN_DEG = 1e-5
_METRES_PER_DEG_LAT = 111_320.0
_LOCAL_UTC_OFFSET_S = 8 * 3600  # Asia/Shanghai, no daylight saving time
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class _StreetProfile:
    """Per-street vocabulary: code prefix, roads, communities, old-neighbourhood flag."""

    prefix: str
    roads: tuple[str, ...]
    communities: tuple[str, ...]
    old: bool = False


_PROFILES: dict[str, _StreetProfile] = {
    "120102001": _StreetProfile(  # 大王庄
        "DWZ",
        ("十一经路", "六纬路", "七纬路", "八纬路", "九纬路", "十经路", "海河东路"),
        ("八纬路社区", "六纬路社区", "十一经路社区", "大王庄社区", "嘉华里社区", "天星里社区"),
        old=True,
    ),
    "120102002": _StreetProfile(  # 大直沽
        "DZG",
        ("大直沽中路", "大直沽东路", "大直沽八号路", "海河东路", "十一经路", "六纬路"),
        ("文华里社区", "大直沽社区", "东风里社区", "红光里社区", "富强里社区", "福东里社区"),
        old=True,
    ),
    "120102003": _StreetProfile(  # 中山门
        "ZSM",
        ("中山门一号路", "中山门二号路", "中山门四号路", "津塘路", "红星路"),
        ("中山门一号路社区", "光华里社区", "新兴里社区", "建新里社区", "红星里社区"),
        old=True,
    ),
    "120102004": _StreetProfile(  # 富民路
        "FML",
        ("富民路", "海河东路", "东兴路", "泰兴路"),
        ("富民里社区", "东兴里社区", "泰兴里社区", "海河东里社区"),
    ),
    "120102005": _StreetProfile(  # 二号桥
        "EHQ",
        ("津塘路", "华龙道", "成林道", "卫国道", "昆仑路"),
        ("二号桥社区", "津塘村社区", "月牙河社区", "东华里社区", "成林里社区"),
    ),
    "120102006": _StreetProfile(  # 春华
        "CHH",
        ("春华街", "新开路", "十三经路", "海河东路"),
        ("春华里社区", "新开里社区", "站前里社区", "华兴里社区"),
    ),
    "120102007": _StreetProfile(  # 唐家口
        "TJK",
        ("唐口路", "十三经路", "卫国道", "七纬路", "八纬路", "红星路"),
        ("唐口新村社区", "唐家口社区", "十三经路社区", "卫国里社区", "丰盛里社区", "红旗里社区"),
        old=True,
    ),
    "120102008": _StreetProfile(  # 向阳楼
        "XYL",
        ("卫国道", "红星路", "十三经路", "新开路", "华昌大街"),
        ("向阳楼社区", "向阳里社区", "华昌里社区", "光明里社区", "东升里社区"),
        old=True,
    ),
    "120102009": _StreetProfile(  # 常州道
        "CZD",
        ("常州道", "万东路", "华昌大街", "卫国道"),
        ("常州道社区", "万东里社区", "华馨苑社区", "晨阳里社区"),
    ),
    "120102010": _StreetProfile(  # 上杭路
        "SHL",
        ("上杭路", "津塘路", "六纬路", "红星路", "大直沽东路"),
        ("上杭路社区", "津塘里社区", "工农里社区", "新华里社区", "胜利里社区", "团结里社区"),
        old=True,
    ),
    "120102011": _StreetProfile(  # 东新
        "DXN",
        ("振东路", "昆仑路", "程林道", "卫国道", "津塘路"),
        ("东新里社区", "振东里社区", "昆仑里社区", "龙潭里社区"),
    ),
    "120102012": _StreetProfile(  # 鲁山道
        "LSD",
        ("鲁山道", "嵩山道", "凤山道", "万东路", "华龙道"),
        ("鲁山道社区", "嵩山里社区", "凤山里社区", "华龙里社区", "碧山里社区"),
    ),
}
_GENERIC_ROADS = ("建设路", "人民路", "和平路", "解放路", "胜利路")
_GENERIC_COMMUNITIES = ("建设里社区", "和平里社区", "幸福里社区", "团结里社区")

# kind: (share, median-area multiplier, address details)
_KINDS: dict[str, tuple[float, float, tuple[str, ...]]] = {
    "rooftop": (0.22, 1.0, ("楼顶", "楼顶平台", "顶层平台")),
    "courtyard": (0.24, 0.8, ("院内", "后院", "院内东侧")),
    "extension": (0.14, 0.9, ("北侧", "南侧", "东侧", "西侧", "一楼外接")),
    "steel_shed": (0.16, 1.4, ("院内", "楼顶", "东侧空地", "门前")),
    "enclosure": (0.08, 2.5, ("门前", "北侧空地", "西侧绿地", "楼间空地")),
    "storefront": (0.11, 1.1, ("底商", "底商门前", "临街底商")),
    "other": (0.05, 1.0, ("院内", "北侧", "门前", "楼后")),
}
_AREA_MEDIAN_M2 = 25.0
_AREA_SIGMA = 0.95

# status: share of all sites (quota, not a coin toss, so the mix is stable for any seed)
_STATUS_SHARES: dict[str, float] = {
    "closed": 0.50,
    "awaiting_acceptance": 0.10,
    "in_progress": 0.20,
    "registered": 0.14,
    "new": 0.06,
}
_OVERDUE_SHARE = 0.08  # of all sites: open, not new, current deadline already past
_EXTENSION_SHARE = 0.06  # of the sites with a deadline, apart from new ones

_SURNAMES = tuple(
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏"
)
_GIVEN = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红文斌凤云春海波宝林鹏飞淑珍"
    "宏利德福俊庆永立新"
)
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139",
    "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "180", "181", "182", "183", "185", "186", "187", "188", "189",
)  # fmt: skip

_NOTES = (
    "已约谈相对人",
    "相对人承诺自行拆除",
    "需协调物业配合",
    "已下达限期整改通知书",
    "涉及多户共用",
    "产权单位配合整改",
    "相对人外出，已电话联系",
    "已张贴告知书",
)
_FLAG_NOTES = {
    "flag_central_inspection": "中央环保督察交办点位",
    "flag_hardship": "相对人生活困难，已联系民政",
    "flag_renovation": "纳入旧楼区改造",
    "flag_obstruction": "执法遇阻挠，已报公安",
}


@dataclass(frozen=True)
class _Hotspots:
    """Gaussian cluster centres (degrees), spreads (degrees) and mixture weights."""

    lon: np.ndarray
    lat: np.ndarray
    sigma_lon: np.ndarray
    sigma_lat: np.ndarray
    weight: np.ndarray


def _profile(code: str) -> _StreetProfile:
    """The street's vocabulary; a generic one for streets of other districts."""
    return _PROFILES.get(code) or _StreetProfile(
        f"S{code[-3:]}", _GENERIC_ROADS, _GENERIC_COMMUNITIES
    )


def inner_geometries(streets: gpd.GeoDataFrame) -> list[shapely.Geometry]:
    """Street polygons shrunk by the edge margin, prepared for fast point tests."""
    inner = []
    for geom in streets.geometry:
        shrunk = geom.buffer(-_EDGE_MARGIN_DEG)
        shrunk = geom if shrunk.is_empty else shrunk
        shapely.prepare(shrunk)
        inner.append(shrunk)
    return inner


def _uniform_in(geom: shapely.Geometry, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` uniform points (count x 2) inside ``geom`` by rejection."""
    minx, miny, maxx, maxy = geom.bounds
    found = np.empty((0, 2))
    while len(found) < count:
        xy = np.column_stack(
            [rng.uniform(minx, maxx, 8 * count), rng.uniform(miny, maxy, 8 * count)]
        )
        found = np.vstack([found, xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]])
    return found[:count]


def street_hotspots(
    streets: gpd.GeoDataFrame, inner: list[shapely.Geometry], rng: np.random.Generator
) -> _Hotspots:
    """Three weighted hotspots in each old-neighbourhood street, one in every other street."""
    centres, sigmas_m, weights = [], [], []
    for code, geom in zip(streets["code"], inner, strict=True):
        old = _profile(str(code)).old
        count = 3 if old else 1
        centres.append(_uniform_in(geom, count, rng))
        sigmas_m.append(rng.uniform(150.0, 400.0, count))
        weights.append(rng.uniform(1.0, 2.0, count) if old else rng.uniform(0.5, 1.0, count))
    xy = np.vstack(centres)
    sigma_lat = np.concatenate(sigmas_m) / _METRES_PER_DEG_LAT
    weight = np.concatenate(weights)
    return _Hotspots(
        lon=xy[:, 0],
        lat=xy[:, 1],
        sigma_lon=sigma_lat / np.cos(np.radians(xy[:, 1])),
        sigma_lat=sigma_lat,
        weight=weight / weight.sum(),
    )


def sample_points(
    inner: list[shapely.Geometry], hotspots: _Hotspots, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` points (lon, lat rounded to 7 decimals) and the index of the street holding each."""
    minx, miny, maxx, maxy = shapely.total_bounds(inner)
    lons, lats, owners = [], [], []
    need = n
    while need > 0:
        m = max(256, int(need * 2.5))
        background = rng.random(m) < BACKGROUND_SHARE
        comp = rng.choice(len(hotspots.weight), size=m, p=hotspots.weight)
        z = rng.standard_normal((m, 2))
        lon = np.where(
            background,
            rng.uniform(minx, maxx, m),
            hotspots.lon[comp] + z[:, 0] * hotspots.sigma_lon[comp],
        ).round(7)
        lat = np.where(
            background,
            rng.uniform(miny, maxy, m),
            hotspots.lat[comp] + z[:, 1] * hotspots.sigma_lat[comp],
        ).round(7)
        owner = np.full(m, -1)
        for i, geom in enumerate(inner):
            free = np.flatnonzero(owner < 0)
            owner[free[shapely.contains_xy(geom, lon[free], lat[free])]] = i
        keep = np.flatnonzero(owner >= 0)[:need]
        lons.append(lon[keep])
        lats.append(lat[keep])
        owners.append(owner[keep])
        need -= len(keep)
    return np.concatenate(lons), np.concatenate(lats), np.concatenate(owners)


def _quota_labels(
    shares: dict[str, float], n: int, rng: np.random.Generator, rest: str
) -> np.ndarray:
    """Labels in exact proportions (``rest`` takes the rounding remainder), shuffled."""
    counts = {key: round(share * n) for key, share in shares.items() if key != rest}
    counts[rest] = n - sum(counts.values())
    labels = np.concatenate([np.full(c, key, dtype=object) for key, c in counts.items()])
    return rng.permutation(labels)


def _deadlines(
    status: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Committed and current deadlines and the registration day as day offsets from today,
    plus a mask of the sites that have a deadline at all."""
    n = len(status)
    is_new = status == "new"
    is_closed = status == "closed"
    is_open = ~is_new & ~is_closed

    extension = ~is_new & (rng.random(n) < _EXTENSION_SHARE)
    extra_days = np.where(extension, rng.integers(30, 121, n), 0)
    # closed: committed deadline mostly past, some closed early (deadline still ahead)
    closed_committed = np.where(
        rng.random(n) < 0.85, rng.integers(-365, 0, n), rng.integers(0, 271, n)
    )
    # open: exactly the overdue quota have their current deadline in the past
    overdue = np.zeros(n, dtype=bool)
    open_idx = np.flatnonzero(is_open)
    overdue[rng.permutation(open_idx)[: min(len(open_idx), round(_OVERDUE_SHARE * n))]] = True
    open_current = np.where(overdue, rng.integers(-180, 0, n), rng.integers(1, 366, n))
    # new (patrol finds): no deadline yet or one 1-3 months ahead
    has_deadline = ~is_new | (rng.random(n) < 0.5)
    new_current = rng.integers(30, 92, n)

    current = np.where(
        is_closed, closed_committed + extra_days, np.where(is_open, open_current, new_current)
    )
    committed = current - extra_days

    # registration: 1-24 months ago, 20-540 days before the committed deadline
    low = np.maximum(-730, committed - 540)
    high = np.minimum(-30, committed - 20)
    created = low + np.floor(rng.random(n) * (high - low + 1)).astype(int)
    created = np.where(is_new, rng.integers(-29, 0, n), created)
    return committed, current, created, has_deadline


def _flags(n: int, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The four flags and the disposition (central-inspection points are always demolished)."""
    flags = {
        "flag_central_inspection": rng.random(n) < 0.04,
        "flag_hardship": rng.random(n) < 0.05,
        "flag_renovation": rng.random(n) < 0.08,
        "flag_obstruction": rng.random(n) < 0.03,
    }
    demolish = np.where(flags["flag_renovation"], rng.random(n) < 0.1, rng.random(n) < 0.457)
    demolish |= flags["flag_central_inspection"]
    return flags, np.where(demolish, "demolish", "rectify")


def _areas(kinds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Log-normal areas in m² (median about 25), scaled by kind, rounded to 0.1."""
    factor = np.array([_KINDS[k][1] for k in kinds]) if len(kinds) else np.empty(0)
    raw = _AREA_MEDIAN_M2 * factor * np.exp(_AREA_SIGMA * rng.standard_normal(len(kinds)))
    return np.clip(raw, 1.0, 5000.0).round(1)


def generate_sites(
    streets: gpd.GeoDataFrame,
    n: int = 1500,
    seed: int = 20210222,
    *,
    today: date,
) -> list[dict[str, Any]]:
    """``n`` synthetic sites inside ``streets`` (columns code, geometry), deterministic."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError("n must be an integer")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n == 0:
        return []
    if streets.empty:
        raise ValueError("streets is empty: no polygon to place sites in")
    if streets.crs is not None and streets.crs.to_epsg() != 4326:
        streets = streets.to_crs(4326)
    streets = streets.reset_index(drop=True)
    codes = [str(code) for code in streets["code"]]

    rng = np.random.default_rng(seed)
    inner = inner_geometries(streets)
    hotspots = street_hotspots(streets, inner, rng)
    lon, lat, owner = sample_points(inner, hotspots, int(n), rng)
    order = np.argsort(owner, kind="stable")
    draws = _draw_attributes(n, rng, today)
    return _site_records(codes, lon[order], lat[order], owner[order], draws)


@dataclass
class _Draws:
    """Every random value of the sites but their points, as plain Python lists (indexing
    numpy scalars in the loop is slow), drawn in one fixed order: the seed decides them."""

    kind: list[str]
    area: list[float]
    status: list[str]
    disposition: list[str]
    flag_keys: list[str]
    flag_rows: list[tuple[bool, ...]]
    created_ts: list[float]
    committed_ord: list[int]
    current_ord: list[int]
    name: list[str]
    road: list[float]
    community: list[float]
    house: list[int]
    detail: list[float]
    mobile_prefix: list[int]
    mobile_rest: list[int]
    note: list[int]
    plain_note: list[bool]


def _draw_attributes(n: int, rng: np.random.Generator, today: date) -> _Draws:
    kind_names = list(_KINDS)
    kinds = rng.choice(kind_names, size=n, p=[_KINDS[k][0] for k in kind_names])
    areas = _areas(kinds, rng)
    status = _quota_labels(_STATUS_SHARES, n, rng, rest="registered")
    committed, current, created, has_deadline = _deadlines(status, rng)
    created_seconds = rng.integers(8 * 3600 + 1800, 17 * 3600 + 1800, n)
    flags, disposition = _flags(n, rng)
    road_pick = rng.random(n)
    community_pick = rng.random(n)
    house_no = np.minimum(1 + np.floor(rng.exponential(45.0, n)), 260).astype(int)
    detail_pick = rng.random(n)
    surname = rng.integers(0, len(_SURNAMES), n)
    given = rng.integers(0, len(_GIVEN), (n, 2))
    two_given = rng.random(n) < 0.7
    mobile_prefix = rng.integers(0, len(_MOBILE_PREFIXES), n)
    mobile_rest = rng.integers(0, 100_000_000, n)
    note_pick = rng.integers(0, len(_NOTES), n)
    plain_note = rng.random(n) < 0.45

    today_ordinal = today.toordinal()
    created_ts = (
        (today_ordinal - _EPOCH_ORDINAL + created) * 86400 + created_seconds - _LOCAL_UTC_OFFSET_S
    )
    names = [
        _SURNAMES[s] + _GIVEN[g1] + (_GIVEN[g2] if two else "")
        for s, g1, g2, two in zip(
            surname.tolist(),
            given[:, 0].tolist(),
            given[:, 1].tolist(),
            two_given.tolist(),
            strict=True,
        )
    ]
    return _Draws(
        kind=kinds.tolist(),
        area=areas.tolist(),
        status=status.tolist(),
        disposition=disposition.tolist(),
        flag_keys=list(flags),
        flag_rows=list(zip(*(values.tolist() for values in flags.values()), strict=True)),
        created_ts=created_ts.tolist(),
        committed_ord=np.where(has_deadline, today_ordinal + committed, 0).tolist(),
        current_ord=np.where(has_deadline, today_ordinal + current, 0).tolist(),
        name=names,
        road=road_pick.tolist(),
        community=community_pick.tolist(),
        house=house_no.tolist(),
        detail=detail_pick.tolist(),
        mobile_prefix=mobile_prefix.tolist(),
        mobile_rest=mobile_rest.tolist(),
        note=note_pick.tolist(),
        plain_note=plain_note.tolist(),
    )


def _site_records(
    codes: list[str], lon: np.ndarray, lat: np.ndarray, owner: np.ndarray, draws: _Draws
) -> list[dict[str, Any]]:
    """The sites as rows, numbered street by street (HD-<street prefix>-0001…)."""
    profiles = [_profile(code) for code in codes]
    counts = np.bincount(owner, minlength=len(codes)).tolist()
    widths = [max(4, len(str(count))) for count in counts]
    sequence = [0] * len(codes)
    lon_list, lat_list, owner_list = lon.tolist(), lat.tolist(), owner.tolist()
    sites: list[dict[str, Any]] = []
    for i in range(len(owner_list)):
        street = owner_list[i]
        profile = profiles[street]
        sequence[street] += 1
        kind = draws.kind[i]
        details = _KINDS[kind][2]
        site_flags = dict(zip(draws.flag_keys, draws.flag_rows[i], strict=True))
        notes = [_FLAG_NOTES[key] for key, on in site_flags.items() if on]
        is_new = draws.status[i] == "new"
        if is_new:
            notes.insert(0, "巡查发现，已拍照取证")
        elif draws.plain_note[i]:
            notes.append(_NOTES[draws.note[i]])
        committed, current = draws.committed_ord[i], draws.current_ord[i]
        sites.append(
            {
                "code": f"HD-{profile.prefix}-{sequence[street]:0{widths[street]}d}",
                "lon": lon_list[i],
                "lat": lat_list[i],
                "street_code": codes[street],
                "address": (
                    f"{profile.roads[int(draws.road[i] * len(profile.roads))]}{draws.house[i]}号"
                    f"{details[int(draws.detail[i] * len(details))]}"
                ),
                "community": profile.communities[
                    int(draws.community[i] * len(profile.communities))
                ],
                "kind": kind,
                "area_m2": draws.area[i],
                "person_name": draws.name[i],
                "person_contact": (
                    f"{_MOBILE_PREFIXES[draws.mobile_prefix[i]]}{draws.mobile_rest[i]:08d}"
                ),
                "disposition": draws.disposition[i],
                **site_flags,
                "status": draws.status[i],
                "committed_deadline": date.fromordinal(committed) if committed else None,
                "current_deadline": date.fromordinal(current) if current else None,
                "created_at": datetime.fromtimestamp(draws.created_ts[i], UTC),
                "source": "patrol" if is_new else "ledger",
                "note": "；".join(notes),
            }
        )
    return sites
