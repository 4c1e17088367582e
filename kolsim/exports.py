"""Creator-marketplace exports as they come: column names, units, tier and category names.

A planner's candidate list comes from a marketplace or data tool (RED's 蒲公英, 千瓜, 新红 …) in
Chinese, with counts like "12.3万", prices like "¥3,500", engagement like "4.7%", tiers named
头部/腰部/尾部/素人 and categories named 美妆/时尚/美食.  :func:`convert` turns such a table into
the pool format (``docs/scenarios.md``) under a :class:`ColumnMap`: a built-in profile
(:data:`PROFILES`), the common names recognised without one, or a mapping file
(``docs/data.md``).  Every conversion is listed in the :class:`ImportReport` and every value it
cannot read is reported (all of them, with row and column); nothing is dropped.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

from .defaults import CATEGORIES, TIER_FOLLOWER_RANGE, TIERS
from .errors import PoolError
from .pool import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from .text import name_key, printable

__all__ = ["ColumnMap", "ImportReport", "PROFILES", "COMMON_ALIASES", "TIER_NAMES", "CATEGORY_NAMES",
           "parse_column_map", "convert", "parse_number"]

#: How a column's cells are read: ``count`` (万, w, k, M, 亿, thousands separators), ``money``
#: (the same, with ¥ / ￥ / 元 / RMB), ``share`` (a percentage with %, or a fraction), ``text``.
KINDS = ("count", "money", "share", "text")

#: The kind of each pool column (columns not listed are text).
COLUMN_KINDS: dict[str, str] = {
    "followers": "count", "reads_per_note": "count", "expected_conversions": "count",
    "monthly_posts": "count", "max_daily_follower_gain": "count", "max_weekly_posts": "count",
    "likes_collects_total": "count", "min_posts": "count",
    "cost_per_post": "money", "hiring_fee": "money",
    "engagement_rate": "share", "fake_share": "share", "interaction_rate": "share", "ctr": "share",
    "cvr": "share", "post_probability": "share", "wrong_gender_share": "share", "like_read_ratio": "share",
    "relevance": "share", "follower_share": "share",
}

#: Header names recognised without a profile, per pool column (compared by name_key, spaces and
#: underscores ignored).  ``image_price`` and ``video_price`` are the two prices a marketplace
#: quotes; ``--price`` chooses which becomes ``cost_per_post``.
COMMON_ALIASES: dict[str, tuple[str, ...]] = {
    "kol_id": ("kol_id", "达人id", "达人ID", "小红书号", "红书号", "小红书id", "账号id", "博主id", "用户id", "creator_id",
               "creator id", "account_id", "user_id", "id"),
    "tier": ("tier", "等级", "达人等级", "达人量级", "量级", "层级", "达人类型", "level"),
    "category": ("category", "类目", "内容类目", "达人类目", "领域", "内容领域", "垂类", "行业", "标签", "niche", "vertical"),
    "followers": ("followers", "粉丝量", "粉丝数", "粉丝", "粉丝总数", "fans", "follower_count", "followers_count"),
    "cost_per_post": ("cost_per_post", "报价", "笔记报价", "合作报价", "price", "cost", "quote"),
    "image_price": ("image_price", "图文报价", "图文价格", "图文笔记报价", "图文笔记价格", "photo_price", "image_note_price"),
    "video_price": ("video_price", "视频报价", "视频价格", "视频笔记报价", "视频笔记价格", "video_note_price"),
    "engagement_rate": ("engagement_rate", "互动率", "平均互动率", "engagement", "er"),
    "monthly_posts": ("monthly_posts", "月发文数", "月均发文", "月均笔记数", "近30天笔记数", "近30天发文", "发文频率",
                      "posts_per_month"),
    "reads_per_note": ("reads_per_note", "平均阅读", "平均阅读量", "笔记平均阅读", "阅读中位数", "avg_reads", "average_reads"),
    "hiring_fee": ("hiring_fee", "服务费", "签约费", "fee"),
    "fake_share": ("fake_share", "水粉率", "疑似水粉占比", "fake_followers"),
    "like_read_ratio": ("like_read_ratio", "赞阅比", "点赞阅读比"),
    "likes_collects_total": ("likes_collects_total", "获赞与收藏", "赞藏总数", "获赞收藏"),
}

#: Tier names of marketplaces and data tools (by name_key) -> kolsim tier.  [A]: the industry's
#: loose labels; 肩部 (between 头部 and 腰部) is read as mid.
TIER_NAMES: dict[str, str] = {
    "明星": "celebrity", "名人": "celebrity", "明星达人": "celebrity", "celebrity": "celebrity",
    "头部": "top", "头部达人": "top", "头部kol": "top", "top": "top",
    "肩部": "mid", "肩部达人": "mid", "腰部": "mid", "腰部达人": "mid", "腰部kol": "mid", "mid": "mid",
    "尾部": "micro", "尾部达人": "micro", "底部": "micro", "micro": "micro", "初级": "koc", "初级达人": "koc",
    "素人": "koc", "素人达人": "koc", "koc": "koc", "nano": "koc",
}

#: Category names (by name_key) -> kolsim category.  [A]
CATEGORY_NAMES: dict[str, str] = {
    "美妆": "beauty", "彩妆": "beauty", "美妆个护": "beauty", "个护": "beauty", "美容": "beauty",
    "护肤": "skincare", "护肤品": "skincare",
    "时尚": "fashion", "穿搭": "fashion", "服饰": "fashion", "时尚穿搭": "fashion",
    "美食": "food", "食品": "food", "美食饮品": "food", "零食": "food",
    "旅行": "travel", "旅游": "travel", "出行": "travel",
    "母婴": "mother_baby", "亲子": "mother_baby", "育儿": "mother_baby",
    "宠物": "pets", "萌宠": "pets",
    "健身": "fitness", "运动": "fitness", "运动健身": "fitness",
    "家居": "home", "家居家装": "home", "家装": "home", "家居生活": "home",
    "奢侈品": "luxury", "奢品": "luxury", "轻奢": "luxury",
}

_FIELD_DOC = "the pool's columns (docs/scenarios.md), image_price or video_price"


@dataclass(frozen=True)
class ColumnMap:
    """How an export's table becomes a pool.

    ``columns``: per pool column, the header names it may have (first found wins); ``tiers`` and
    ``categories``: the export's names (compared by ``name_key``) -> kolsim's; ``price``: which
    quoted price becomes ``cost_per_post`` (``image`` or ``video``) when the export gives both;
    ``percent``: columns whose bare numbers are percentages (4.7 means 4.7 %).
    """

    name: str
    columns: Mapping[str, tuple[str, ...]]
    tiers: Mapping[str, str] = field(default_factory=lambda: dict(TIER_NAMES))
    categories: Mapping[str, str] = field(default_factory=lambda: dict(CATEGORY_NAMES))
    price: str = "image"
    percent: frozenset = frozenset()


#: Built-in profiles of common export layouts (docs/data.md lists their columns).
PROFILES: dict[str, ColumnMap] = {
    "pugongying": ColumnMap("pugongying", {
        "kol_id": ("小红书号",), "nickname": ("达人昵称",), "tier": ("达人等级",), "category": ("内容类目",),
        "followers": ("粉丝数",), "image_price": ("图文报价",), "video_price": ("视频报价",),
        "engagement_rate": ("互动率",), "monthly_posts": ("近30天笔记数",), "reads_per_note": ("阅读中位数",)}),
    "qiangua": ColumnMap("qiangua", {
        "kol_id": ("红书号",), "nickname": ("昵称",), "tier": ("达人类型",), "category": ("标签",),
        "followers": ("粉丝数",), "image_price": ("图文价格",), "video_price": ("视频价格",),
        "engagement_rate": ("平均互动率",), "monthly_posts": ("月均发文",), "likes_collects_total": ("获赞与收藏",)}),
    "common": ColumnMap("common", COMMON_ALIASES),
}


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name_key(str(name)))


_UNITS = {"万": 1e4, "w": 1e4, "k": 1e3, "千": 1e3, "m": 1e6, "百万": 1e6, "亿": 1e8}
_NUMBER = re.compile(r"^([+-]?\d+(?:\.\d+)?)(万|w|k|千|m|百万|亿)?$")


def parse_number(cell: Any, kind: str, *, percent: bool = False) -> tuple[float | None, str | None]:
    """(value, how it was read) of one cell, or (None, why not); a blank cell is (nan, None).

    >>> parse_number("12.3万", "count"), parse_number("¥3,500", "money"), parse_number("4.7%", "share")
    ((123000.0, '万 = 10,000'), (3500.0, '¥ and thousands separators'), (0.047, '% = /100'))
    """
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return math.nan, None
    if isinstance(cell, bool):
        return None, "is true/false, not a number"
    if isinstance(cell, (int, float)):
        if kind == "share" and percent:
            return float(cell) / 100, "a percentage: /100"
        return float(cell), None
    raw = str(cell)
    text = name_key(raw).replace(" ", "")
    if not text or text in ("-", "--", "—", "/", "暂无"):
        return math.nan, None if not text else f"{raw.strip()!r} read as blank"
    how = []
    if kind == "money":
        for sym in ("¥", "￥", "rmb", "cny", "元"):
            if sym in text:
                text = text.replace(sym, "")
                how.append("¥")
    if "," in text:
        if not re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?(万|w|k|千|m|百万|亿|%)?", text):
            return None, "has commas that are not thousands separators (12,300 or 12300; a decimal point is .)"
        text = text.replace(",", "")
        how.append("thousands separators")
    if kind == "share" and text.endswith("%"):
        try:
            return float(text[:-1]) / 100, "% = /100"
        except ValueError:
            return None, "is not a percentage"
    m = _NUMBER.match(text)
    if not m or kind == "text":
        allowed = {"count": "a number, with 万, w, k, M or 亿 if needed (12.3万, 1.2w, 3.5k)",
                   "money": "an amount in RMB (3500, ¥3,500, 0.35万)",
                   "share": "a percentage (4.7%) or a fraction (0.047)"}.get(kind, "text")
        return None, f"is not {allowed}"
    value = float(m.group(1))
    unit = m.group(2)
    if unit:
        value *= _UNITS[unit]
        how.append(f"{unit} = {_UNITS[unit]:,.0f}")
    if kind == "share":
        if percent:
            return value / 100, "a percentage: /100"
        if value > 1:
            return None, "is above 1 without %: write 4.7% (or 0.047), or mark the column as percent in a mapping"
    return value, (" and ".join(how) if how else None)


@dataclass
class ImportReport:
    """What an import did: the columns it found, every conversion, every value it could not read."""

    source: str
    profile: str
    columns: dict[str, str] = field(default_factory=dict)        # pool column -> export header
    unused: list[str] = field(default_factory=list)                # export headers kept as they are
    conversions: list[tuple[str, str, int]] = field(default_factory=list)  # (column, how, cells)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (where, what)

    def lines(self) -> list[str]:
        out = [f"{self.source}: read with the {self.profile!r} columns"]
        out += [f"  {col} <- {head!r}" for col, head in self.columns.items()]
        if self.unused:
            out.append(f"  kept as they are: {', '.join(map(repr, self.unused))}")
        out += [f"  {col}: {how} ({n:,} cell{'s' if n != 1 else ''})" for col, how, n in self.conversions]
        return out

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.conversions, columns=["column", "conversion", "cells"])


def parse_column_map(data: Mapping[str, Any], source: str = "mapping") -> ColumnMap:
    """A mapping file's tables (``docs/data.md``): ``[columns]`` pool column = "header" or
    ["header", …]; ``[tiers]`` and ``[categories]`` name = kolsim name; ``price = "image" | "video"``;
    ``percent = [columns]``; ``profile`` = a built-in profile it extends."""
    def bad(msg, where):
        return PoolError(msg, file=source, where=where)

    known = set(data) - {"profile", "columns", "tiers", "categories", "price", "percent"}
    if known:
        raise bad(f"unknown key(s) {', '.join(sorted(known))}; allowed: profile, columns, tiers, categories, "
                  "price, percent", "mapping")
    base_name = data.get("profile", "common")
    if base_name not in PROFILES:
        raise bad(f"unknown profile {base_name!r}; built in: {', '.join(PROFILES)}", "profile")
    base = PROFILES[base_name]
    columns = {k: tuple(v) for k, v in base.columns.items()}
    pool_columns = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | {"image_price", "video_price", "nickname"}
    for col, heads in dict(data.get("columns", {})).items():
        if col not in pool_columns:
            raise bad(f"{col!r} is not one of {_FIELD_DOC}", f"columns.{col}")
        heads = [heads] if isinstance(heads, str) else heads
        if not isinstance(heads, list) or not heads or not all(isinstance(h, str) and h.strip() for h in heads):
            raise bad(f"must be a header name or a list of them (got {heads!r})", f"columns.{col}")
        columns[col] = tuple(heads) + columns.get(col, ())
    tiers, cats = dict(base.tiers), dict(base.categories)
    for table, target, allowed in (("tiers", tiers, TIERS), ("categories", cats, None)):
        for name, to in dict(data.get(table, {})).items():
            to_key = name_key(str(to))
            if not isinstance(to, str) or (allowed is not None and to_key not in allowed) or not to_key:
                what = f"one of {', '.join(allowed)}" if allowed else "a category name"
                raise bad(f"must be {what} (got {to!r})", f"{table}.{name}")
            target[name_key(str(name))] = to_key
    price = data.get("price", base.price)
    if price not in ("image", "video"):
        raise bad(f"must be image or video (got {price!r})", "price")
    percent = data.get("percent", [])
    if not isinstance(percent, list) or any(COLUMN_KINDS.get(c) != "share" for c in percent):
        shares = ", ".join(c for c, k in COLUMN_KINDS.items() if k == "share")
        raise bad(f"must list share columns ({shares}) (got {percent!r})", "percent")
    return ColumnMap(str(source), columns, tiers, cats, price, frozenset(percent))


def _tier_from_followers(f: float) -> str | None:
    for t in TIERS:
        lo, hi = TIER_FOLLOWER_RANGE[t]
        if lo <= f < hi:
            return t
    return "koc" if f < TIER_FOLLOWER_RANGE["koc"][0] else None


def convert(frame: pd.DataFrame, cmap: ColumnMap, places: list[str], source: str) -> tuple[pd.DataFrame, ImportReport]:
    """The export's table (cells as read) as a pool table, with the report of what was done.

    Raises PoolError listing every cell it could not read (row and column) and every required
    column it could not find."""
    report = ImportReport(source=source, profile=cmap.name)
    headers = list(frame.columns)
    by_key: dict[str, int] = {}
    for j, h in enumerate(headers):
        by_key.setdefault(_key(h), j)
    taken: dict[str, int] = {}
    for col, heads in cmap.columns.items():
        for h in heads:
            j = by_key.get(_key(h))
            if j is not None and j not in taken.values():
                taken[col] = j
                report.columns[col] = headers[j]
                break
    price_col = {"image": "image_price", "video": "video_price"}[cmap.price]
    other = "video_price" if price_col == "image_price" else "image_price"
    if "cost_per_post" not in taken:
        src = price_col if price_col in taken else other if other in taken else None
        if src is not None:
            taken["cost_per_post"] = taken.pop(src)
            report.columns["cost_per_post"] = report.columns.pop(src)
            report.conversions.append(("cost_per_post", f"the {src.split('_')[0]} price {headers[taken['cost_per_post']]!r}",
                                       len(frame)))
    missing = [c for c in REQUIRED_COLUMNS if c not in taken and not (c == "tier" and "followers" in taken)]
    if missing:
        aliases = "; ".join(f"{c}: {', '.join(cmap.columns.get(c, ())[:6]) or '(none)'}" for c in missing)
        raise PoolError(f"no column for {', '.join(missing)} among the headers {', '.join(map(repr, headers))} "
                        f"(names looked for: {aliases}); name them in a mapping file (--columns MAP.toml, "
                        "docs/data.md)", file=source, where="header")
    out = pd.DataFrame(index=range(len(frame)))
    problems: list[tuple[str, str]] = []
    counts: dict[tuple[str, str], int] = {}
    for col, j in taken.items():
        kind = COLUMN_KINDS.get(col, "text") if col not in ("image_price", "video_price") else "money"
        header = headers[j]
        cells = frame.iloc[:, j].tolist()
        values = []
        for i, c in enumerate(cells):
            if col in ("tier", "category"):
                values.append(_name(c, col, cmap, places[i], header, problems, counts))
                continue
            if kind == "text":
                values.append(c)
                continue
            v, how = parse_number(c, kind, percent=col in cmap.percent)
            if v is None:
                problems.append((places[i], f"column {header!r} ({col}): {printable(str(c), 40)!r} {how}"))
                values.append(None)
                continue
            if how:
                counts[(col, how)] = counts.get((col, how), 0) + 1
            values.append(v)
        out[col] = values
    if "tier" not in taken:
        tiers = []
        for i, f in enumerate(out["followers"]):
            t = _tier_from_followers(f) if isinstance(f, float) and math.isfinite(f) else None
            tiers.append(t)
        out["tier"] = tiers
        counts[("tier", "from followers by the tiers' follower ranges (docs/model.md)")] = len(out)
    for (col, how), n in counts.items():
        report.conversions.append((col, how, n))
    if problems:
        row = {p: i for i, p in enumerate(places)}
        problems.sort(key=lambda pr: row.get(pr[0], -1))  # row by row, as the file reads
        raise PoolError.of(problems, file=source)
    for j, h in enumerate(headers):
        if j not in taken.values():
            name = str(h)
            out[name if name not in out.columns else f"export_{name}"] = frame.iloc[:, j].tolist()
            report.unused.append(name)
    order = [c for c in REQUIRED_COLUMNS] + [c for c in out.columns if c not in REQUIRED_COLUMNS]
    return out[order], report


def _name(cell, col: str, cmap: ColumnMap, place: str, header: str, problems: list, counts: dict):
    """A tier or category cell in kolsim's names: mapped names are converted and counted, kolsim's
    own names pass, others are a problem (tiers) or kept as they are (categories: a notice later)."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)) or not str(cell).strip():
        return cell
    k = name_key(str(cell))
    table = cmap.tiers if col == "tier" else cmap.categories
    if k in table:
        to = table[k]
        if to != k:
            counts[(col, f"{cell} -> {to}")] = counts.get((col, f"{cell} -> {to}"), 0) + 1
        return to
    if col == "tier":
        if k in TIERS:
            return k
        problems.append((place, f"column {header!r} (tier): {printable(str(cell), 40)!r} is not a tier name kolsim "
                                f"knows (头部, 腰部, 尾部, 初级, 素人, KOC, or {', '.join(TIERS)}); map it under "
                                "[tiers] in a mapping file"))
        return None
    if k not in CATEGORIES:
        counts[(col, f"{cell} kept as it is (not a kolsim category)")] = \
            counts.get((col, f"{cell} kept as it is (not a kolsim category)"), 0) + 1
    return cell
