"""Attribution: which note, creator and wave earned a run's reads, buyers and yuan.

Both engines hand the draws of a replication to :func:`credit`, which splits
every total among the notes (and two rows that are no note's: buyers persuaded
by organic buyers, and what no note led to), so that per replication the
credits sum to the totals exactly (up to floating-point rounding: they are
shares, not draws).  ``docs/data.md`` ("Attribution") states the rules:

- reads, interactions (likes, collects, comments) and clicks of a segment go
  to its notes by their expected share of them within the horizon (the
  note's reads x seen share x rate); unique reach follows the reads;
- the campaign's buyers of day t go to the notes by their share of that
  day's purchase decisions, x_j f_j kappa(t - d_j) (x_j the note's purchase
  intents, f_j the share of its own-follower decisions that count over the
  horizon), and off-platform buyers by x_j f_j kappa_off(t - d_j);
- buyers persuaded by buyers' notes and by imitation (word of mouth) on day t
  go to the sources of the buyers so far: each note's credited buyers
  (recursively: the buyers its buyers persuaded count for it) and the
  organic buyers, by their share;
- repeat orders follow the credited buyers' days; spend is the note's price
  as paid, its share of its creator's fixed costs and the commission on its
  buyers; revenue and profit follow;
- acceleration and expansion: a paired run of the same replication without the
  campaign gives the buyers who buy anyway within the horizon, N0; the
  campaign expands the market by (conversions + organic buyers) - N0 and
  accelerates the rest of its conversions; each note's conversions split in
  the segment's proportion.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from .model import STREAMS, BuyersStep, build_post_table, draw_block
from .scenario import Scenario

__all__ = ["CREDIT_METRICS", "ORGANIC", "UNTRACED", "credit", "credit_block", "credit_counts", "credit_buyers",
           "delayed", "no_campaign_buyers", "attribution_table", "attribution_frame", "past_export"]

#: What attribution credits, per note and replication.
CREDIT_METRICS: tuple[str, ...] = (
    "reads", "unique_reach", "interactions", "likes", "collects", "comments", "clicks",
    *(f"conversions_{s}" for s in STREAMS), "conversions", "repeat_orders", "acceleration", "expansion",
    "spend", "revenue", "profit")
#: The row of buyers persuaded (by their notes or by imitation) by people who bought organically.
ORGANIC = "(organic buyers)"
#: The row of what no note led to (the discrete-event engine's search ads; empty in the model).
UNTRACED = "(not from a note)"


def _per(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den <= 0."""
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _onehot(table) -> np.ndarray:
    m = np.zeros((table.n_posts, len(table.segment_names)))
    m[np.arange(table.n_posts), table.segment] = 1.0
    return m


def _lagged(table, kernel: np.ndarray) -> np.ndarray:
    """kernel[t - d_j] for every note and day, shape (P, horizon)."""
    lag = np.arange(table.horizon)[None, :] - table.day[:, None]
    return np.where(lag >= 0, kernel[np.clip(lag, 0, table.horizon - 1)], 0.0)


def _rates(table) -> dict[str, np.ndarray]:
    ir = table.interaction_rate
    return {"reads": np.ones(table.n_posts), "interactions": ir, "likes": ir * table.like_share,
            "collects": ir * table.collect_share,
            "comments": ir * (1.0 - table.like_share - table.collect_share), "clicks": table.ctr}


def credit_counts(table, expected_reads: np.ndarray, drawn: dict, reach: np.ndarray,
                  untraced: np.ndarray | None = None) -> tuple[dict, dict]:
    """Each note's share of its segment's drawn reads, interactions, likes, collects, comments and
    clicks (``drawn``, each (B, S)) by its expected share of them, and of the segment's distinct
    readers (``reach``, (B, S)) by its share of the reads.

    ``expected_reads`` (B, P) are each note's expected reads within the horizon;
    ``untraced`` (B, S), reads that are also clicks and belong to no note (the
    discrete-event engine's search-ad clicks), which are taken out first.
    Returns ``(notes, row)``: (B, P) arrays per metric, and :data:`UNTRACED`'s (B,).
    """
    onehot, seg = _onehot(table), table.segment
    notes, row = {}, {}
    for name, rate in _rates(table).items():
        e = expected_reads * rate
        n = np.asarray(drawn[name], float)
        if untraced is not None and name in ("reads", "clicks"):
            n = n - untraced
        notes[name] = e * _per(n, e @ onehot)[:, seg]
        row[name] = np.asarray(drawn[name], float).sum(axis=1) - notes[name].sum(axis=1)
    share = _per(reach, np.asarray(drawn["reads"], float))
    notes["unique_reach"] = notes["reads"] * share[:, seg]
    row["unique_reach"] = np.asarray(reach, float).sum(axis=1) - notes["unique_reach"].sum(axis=1)
    return notes, row


def delayed(x: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """out[..., t] = sum_d x[..., t - d] pmf[d]: decisions by day from intents by day (last axis)."""
    out = np.zeros_like(x, dtype=float)
    h = x.shape[-1]
    for d in range(min(pmf.size, h)):
        if pmf[d]:
            out[..., d:] += pmf[d] * x[..., :h - d]
    return out


def credit_buyers(table, got: np.ndarray, on: Callable[[int], np.ndarray],
                  off: Callable[[int], np.ndarray] | None = None, *, commission: np.ndarray | None = None,
                  other: Callable[[int], np.ndarray] | None = None,
                  trace: Callable[..., None] | None = None) -> tuple[dict, dict]:
    """Split a run's buyers, day by day, among the notes.

    ``got`` (5, H, B, S) holds :class:`kolsim.model.BuyersStep`'s outputs by
    day (campaign, off-platform, buyers' notes, imitation, organic); ``on(t)``
    and ``off(t)`` give each note's expected purchase decisions of day t on RED
    and off it, (B, P); ``other(t)`` (B, S) the day's decisions no note led to
    (search ads), which compete with the notes for the campaign's buyers;
    ``commission`` (H, B, S) the commission paid on each day's campaign buyers,
    split by each note's decisions weighted by its commission rate;
    ``trace(t, streams, rows)``, when given, is called every day with the day's
    per-note credit of each stream ((B, P) each) and the rows' ((B, S) each).

    Returns ``(notes, rows)``: per-note arrays (B, P) of the four streams,
    ``buyer_days`` (the credited buyers summed over the days' starts, which
    repeat orders follow) and ``commission``; and for :data:`ORGANIC` and
    :data:`UNTRACED` the same, (B,) each.
    """
    P, H = table.n_posts, table.horizon
    B, S = got.shape[2], got.shape[3]
    onehot, seg = _onehot(table), table.segment
    zero_n, zero_s = (lambda: np.zeros((B, P))), (lambda: np.zeros((B, S)))
    notes = {k: zero_n() for k in (*STREAMS, "buyer_days", "commission")}
    rows = {r: {k: zero_s() for k in (*STREAMS, "buyer_days", "commission")} for r in (ORGANIC, UNTRACED)}
    cum = zero_n()            # each note's credited buyers so far
    org = zero_s()            # organic buyers so far (no note's)
    org_credit = zero_s()     # credited buyers that organic buyers persuaded, so far
    untraced = zero_s()       # credited buyers no note led to, so far
    for t in range(H):
        c, o, g, w, organic = (got[k, t].astype(float) for k in range(5))
        notes["buyer_days"] += cum
        rows[ORGANIC]["buyer_days"] += org_credit
        rows[UNTRACED]["buyer_days"] += untraced
        x_on = on(t)
        rest_on = np.zeros((B, S)) if other is None else other(t)
        per = _per(c, x_on @ onehot + rest_on)
        c_j = x_on * per[:, seg]
        c_rest = c - c_j @ onehot                     # the search ads' share, and any that no note explains
        if commission is not None:
            cw = x_on * table.commission
            a_j = cw * _per(commission[t], cw @ onehot)[:, seg]
            notes["commission"] += a_j
            rows[UNTRACED]["commission"] += commission[t] - a_j @ onehot
        o_j = np.zeros((B, P))
        if off is not None:
            x_off = off(t)
            o_j = x_off * _per(o, x_off @ onehot)[:, seg]
        o_rest = o - o_j @ onehot
        # buyers' notes and imitation: by the sources of the buyers so far (today's included)
        src = cum + c_j + o_j
        src_org = org + org_credit + organic
        src_rest = untraced + c_rest + o_rest
        den = src @ onehot + src_org + src_rest
        rest = den <= 0                                  # nobody bought yet: imitation of the day's own
        share_g, share_w = _per(g, den), _per(w, den)   # organic buyers, credited to them
        g_j, w_j = src * share_g[:, seg], src * share_w[:, seg]
        g_org = np.where(rest, g, src_org * share_g)
        w_org = np.where(rest, w, src_org * share_w)
        g_rest, w_rest = src_rest * share_g, src_rest * share_w
        for k, v in zip(STREAMS, (c_j, o_j, g_j, w_j)):
            notes[k] += v
        for k, v in zip(STREAMS, (0.0, 0.0, g_org, w_org)):
            rows[ORGANIC][k] += v
        for k, v in zip(STREAMS, (c_rest, o_rest, g_rest, w_rest)):
            rows[UNTRACED][k] += v
        if trace is not None:
            trace(t, dict(zip(STREAMS, (c_j, o_j, g_j, w_j))),
                  {ORGANIC: dict(zip(STREAMS, (0.0 * c, 0.0 * o, g_org, w_org))),
                   UNTRACED: dict(zip(STREAMS, (c_rest, o_rest, g_rest, w_rest)))})
        cum = cum + c_j + o_j + g_j + w_j
        org = org + organic
        org_credit = org_credit + g_org + w_org
        untraced = untraced + c_rest + o_rest + g_rest + w_rest
    return notes, {r: {k: v.sum(axis=1) for k, v in d.items()} for r, d in rows.items()} | {
        "_by_segment": rows}


def no_campaign_buyers(table, rng: np.random.Generator, size: int, rest=None) -> np.ndarray:
    """Buyers of each segment within the horizon without the campaign (organic adoption and the
    word of mouth it starts), (size, S): :class:`kolsim.model.BuyersStep` with no decisions.

    ``rest``, the campaign run's log of its daily organic-or-imitation draws ``(n, p, drawn)``,
    each (H, size, S), pairs the two runs on common random numbers: each day's draw here is the
    inverse binomial CDF of the uniform that gives the campaign run's draw (its randomised
    probability integral transform, F(x - 1) + V f(x), V uniform, which is uniform whatever the
    past), so the run has exactly the no-campaign distribution and moves with the campaign run.
    """
    S = len(table.segment_names)
    step = BuyersStep(table, (size, S))
    if rest is not None:
        n_c, p_c, x_c = rest

        def rest_from(t: int, n, p):
            x, m, q = np.asarray(x_c[t], float), np.asarray(n_c[t], float), np.asarray(p_c[t], float)
            u = stats.binom.cdf(x - 1, m, q) + rng.random(x.shape) * stats.binom.pmf(x, m, q)
            n = np.broadcast_to(np.asarray(n), x.shape)
            got = stats.binom.ppf(np.clip(u, 1e-300, 1.0 - 1e-16), n, np.broadcast_to(p, x.shape))
            return np.clip(np.nan_to_num(got), 0, n).astype(np.int64)

        step.rest_from = rest_from
    zero = np.zeros((size, S), np.int64)
    total = np.zeros((size, S), np.int64)
    for _ in range(table.horizon):
        total += sum(step(zero, zero, rng))
    return total


def credit(table, counts: tuple[dict, dict], buyers: tuple[dict, dict], *, repeats, note_spend, baseline,
           organic_by_segment, other_spend=None) -> dict[str, np.ndarray]:
    """Every metric of :data:`CREDIT_METRICS` per note, (B, P), and per row of no note,
    ``"<row>:<metric>"`` (B,), from the splits of :func:`credit_counts` and :func:`credit_buyers`.

    ``repeats`` (B,) are the run's repeat orders, ``note_spend`` (B, P) what each note cost
    (its price as paid, its share of its creator's fixed costs, its feed boosts),
    ``other_spend`` (B,) spend no note led to (search ads), ``baseline`` (B, S) the buyers
    without the campaign (:func:`no_campaign_buyers`) and ``organic_by_segment`` (B, S) the
    run's organic buyers.
    """
    notes, rows = buyers
    rows = dict(rows)
    by_seg = rows.pop("_by_segment")
    count_notes, count_row = counts
    out = dict(count_notes)
    onehot, seg = _onehot(table), table.segment
    zero = np.zeros(note_spend.shape[0])
    for k in STREAMS:
        out[f"conversions_{k}"] = notes[k]
    out["conversions"] = sum(notes[k] for k in STREAMS)
    row_conv = {r: sum(rows[r][k] for k in STREAMS) for r in rows}
    # repeat orders by the credited buyers' days
    days_total = notes["buyer_days"].sum(axis=1) + sum(rows[r]["buyer_days"] for r in rows)
    rep = np.asarray(repeats, float) * _per(np.ones_like(days_total), days_total)
    out["repeat_orders"] = notes["buyer_days"] * rep[:, None]
    # acceleration and expansion, segment by segment
    conv_seg = out["conversions"] @ onehot + sum(sum(by_seg[r][k] for k in STREAMS) for r in by_seg)
    expansion = conv_seg + organic_by_segment - baseline            # (B, S)
    share = _per(expansion, conv_seg)
    out["expansion"] = out["conversions"] * share[:, seg]
    out["acceleration"] = out["conversions"] - out["expansion"]
    out["spend"] = note_spend + notes["commission"]
    price = table.price or 0.0
    margin = table.margin if table.margin is not None else 1.0
    out["revenue"] = price * (out["conversions"] + out["repeat_orders"])
    out["profit"] = out["revenue"] * margin - out["spend"]
    for r in rows:
        conv_r = sum(by_seg[r][k] for k in STREAMS)
        vals = {"conversions": row_conv[r], "repeat_orders": rows[r]["buyer_days"] * rep,
                "expansion": (conv_r * share).sum(axis=1), "spend": rows[r]["commission"]}
        if r == UNTRACED:
            vals.update(count_row)
            if other_spend is not None:
                vals["spend"] = vals["spend"] + other_spend
        vals["acceleration"] = vals["conversions"] - vals["expansion"]
        vals["revenue"] = price * (vals["conversions"] + vals["repeat_orders"])
        vals["profit"] = vals["revenue"] * margin - vals["spend"]
        for k in STREAMS:
            vals[f"conversions_{k}"] = rows[r][k]
        for m in CREDIT_METRICS:
            out[f"{r}:{m}"] = vals.get(m, zero)
    return out


def credit_block(table, parts: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The Monte Carlo engine's attribution of one block (``parts`` from
    :func:`kolsim.model.draw_block` with ``keep=True``); ``rng`` draws the paired no-campaign
    run after the block's own draws."""
    x = parts["intent_reads"]
    if parts["kept"] is not None:
        x = x * (1.0 - table.own_share * (1.0 - parts["kept"][:, table.creator_index]))
    k_on = _lagged(table, table.kernel)
    k_off = _lagged(table, table.offsite_kernel) if table.offsite_ratio > 0 else None
    got = parts["got"]
    buyers = credit_buyers(table, got, lambda t: x * k_on[:, t],
                           None if k_off is None else (lambda t: x * k_off[:, t]),
                           commission=parts["commission"])
    seen = table.kernel.cumsum()[table.horizon - 1 - table.day]  # each note's share of its reads in the horizon
    counts = credit_counts(table, parts["note_reads"] * seen, parts["drawn"], parts["reach"])
    B = x.shape[0]
    return credit(table, counts, buyers, repeats=parts["repeats"],
                  note_spend=parts["note_spend"] + table.fixed_share,
                  baseline=no_campaign_buyers(table, rng, B, parts["rest"]), organic_by_segment=got[4].sum(axis=0))


# --------------------------------------------------------------------------- #
# Summaries
# --------------------------------------------------------------------------- #
def attribution_table(result, by: str = "creator") -> pd.DataFrame:
    """Mean credit per creator, wave or note over a run's replications, with standard errors.

    ``result`` is a :class:`kolsim.SimulationResult` simulated with
    ``attribute=True``.  One row per creator (or wave, or note) and one per
    row of no note (:data:`ORGANIC`, :data:`UNTRACED`, when they hold
    anything); columns ``<metric>`` (the mean over replications) and
    ``<metric>_se`` (its standard error) for :data:`CREDIT_METRICS`, and
    ``share_of_conversions``.  Summed over the rows, each metric's mean is the
    run's mean total.
    """
    cr = getattr(result, "credit", None)
    if not cr:
        raise ValueError("this run has no attribution: simulate with attribute=True (--attribution)")
    if by not in ("creator", "wave", "note"):
        raise ValueError(f"by must be 'creator', 'wave' or 'note' (got {by!r})")
    t = result.table
    if by == "note":
        labels = np.array([f"N{j + 1:05d}" for j in range(t.n_posts)], object)
        inverse = np.arange(t.n_posts)
    else:
        labels, inverse = np.unique((t.creator if by == "creator" else t.wave).astype(str), return_inverse=True)
    G = np.zeros((t.n_posts, len(labels)))
    G[np.arange(t.n_posts), inverse] = 1.0
    n = next(iter(cr.values())).shape[0]
    rows: dict[str, dict] = {}

    def stats(name: str, values: np.ndarray) -> dict:
        mean = values.mean(axis=0)
        se = values.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full_like(mean, np.nan)
        return {name: mean, f"{name}_se": se}

    cols: dict[str, np.ndarray] = {}
    for m in CREDIT_METRICS:
        cols.update(stats(m, cr[m] @ G))
    frame = pd.DataFrame(cols)
    frame.insert(0, by, labels)
    frame.insert(1, "notes", G.sum(axis=0).astype(int))
    if by != "wave":
        first = np.array([np.flatnonzero(inverse == i)[0] for i in range(len(labels))], np.int64)
        frame.insert(1, "tier", t.tier[first])
        frame.insert(2, "wave", t.wave[first])
        if by == "note":
            frame.insert(1, "kol_id", t.creator[first])
            frame.insert(4, "day", t.day[first])
    for r in (ORGANIC, UNTRACED):
        vals = {m: cr[f"{r}:{m}"] for m in CREDIT_METRICS}
        scale = {m: 1.0 + np.abs(cr[m]).sum(axis=1).max(initial=0.0) for m in CREDIT_METRICS}
        if not any(np.any(np.abs(v) > 1e-9 * scale[m]) for m, v in vals.items()):  # rounding only
            continue
        row = {by: r, "notes": 0}
        for m, v in vals.items():
            row.update({k: float(np.ravel(x)[0]) for k, x in stats(m, v[:, None]).items()})
        rows[r] = row
    if rows:
        frame = pd.concat([frame, pd.DataFrame(list(rows.values()))], ignore_index=True)
    total = frame["conversions"].sum()
    frame["share_of_conversions"] = frame["conversions"] / total if total > 0 else 0.0
    return frame


# --------------------------------------------------------------------------- #
# A past campaign's export, simulated
# --------------------------------------------------------------------------- #
def _creator_facts(scenario: Scenario) -> dict[str, tuple[float, str]]:
    """Each creator's (followers, category) as the scenario gives them."""
    out: dict[str, tuple[float, str]] = {}
    product = scenario.campaign.category
    for w in scenario.waves:
        c = 0
        for code, count in w.tiers.items():
            for _ in range(count):
                out[f"{w.name}/{code}#{c + 1}"] = (float(scenario.tiers[code].followers), w.category or product)
                c += 1
    if scenario.plan is not None:
        pool = scenario.plan.pool
        for it in scenario.plan.items:
            out[it.kol_id] = (float(pool.row(it.kol_id)["followers"]), pool.category_of(it.kol_id))
    return out


def past_export(scenario: Scenario, rng=0, start: str = "2026-01-01") -> pd.DataFrame:
    """One simulated replication of a scenario as a past campaign's per-note export
    (``docs/data.md``, "The calibration export"): one row per delivered note and day with its
    reads, likes, collects, comments, interactions, clicks and tracked orders (the campaign
    stream), integers split from the model's draws; the note's spend on its publication day;
    and one row per day without a note holding the orders no note tracked (off-platform, buyers'
    notes, imitation and organic buyers).  ``start`` is day 0's date.

    Examples
    --------
    >>> import kolsim
    >>> from kolsim.attribution import past_export
    >>> e = past_export(kolsim.load_scenario("scenarios/micro_seeding.toml"), rng=1)
    >>> list(e.columns)[:6]
    ['note_id', 'kol_id', 'tier', 'category', 'followers', 'publish_date']
    """
    g = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    table = build_post_table(scenario)
    out = draw_block(table, g, 1, keep=True)
    parts = out["parts"]
    cr = credit_block(table, parts, g)
    P, H = table.n_posts, table.horizon
    day0 = pd.Timestamp(start)
    facts = _creator_facts(scenario)
    k_on = _lagged(table, table.kernel)
    # whole numbers: each segment's count split among its notes, each note's over its days
    note_counts = {}
    for name in ("reads", "likes", "collects", "comments", "clicks"):
        share = cr[name][0]
        n = np.zeros(P, np.int64)
        for s in range(len(table.segment_names)):
            idx = np.flatnonzero(table.segment == s)
            tot = int(parts["drawn"][name][0, s])
            if idx.size and tot:
                p = share[idx] / share[idx].sum() if share[idx].sum() > 0 else np.full(idx.size, 1 / idx.size)
                n[idx] = g.multinomial(tot, p)
        note_counts[name] = n
    x = parts["intent_reads"][0]
    if parts["kept"] is not None:
        x = x * (1.0 - table.own_share * (1.0 - parts["kept"][0, table.creator_index]))
    orders = np.zeros((P, H), np.int64)
    got = parts["got"]  # (5, H, 1, S)
    for t in range(H):
        for s in range(len(table.segment_names)):
            c = int(got[0, t, 0, s])
            idx = np.flatnonzero(table.segment == s)
            w = x[idx] * k_on[idx, t]
            if c and w.sum() > 0:
                orders[idx, t] = g.multinomial(c, w / w.sum())
    untracked = got[1:].sum(axis=(0, 2, 3)) + got[0].sum(axis=(1, 2)) - orders.sum(axis=0)  # (H,)
    rows = []
    delivered = parts["delivered"][0]
    for j in np.flatnonzero(delivered):
        d = int(table.day[j])
        days = np.arange(d, H)
        per_day = {}
        kappa = table.kernel[: H - d]
        p = kappa / kappa.sum()
        for name, n in note_counts.items():
            per_day[name] = g.multinomial(int(n[j]), p)
        followers, category = facts.get(table.creator[j], (np.nan, ""))
        for i, day in enumerate(days):
            rows.append({
                "note_id": f"N{j + 1:05d}", "kol_id": table.creator[j], "tier": table.tier[j],
                "category": category, "followers": int(round(followers)),
                "publish_date": (day0 + pd.Timedelta(days=d)).strftime("%Y-%m-%d"),
                "date": (day0 + pd.Timedelta(days=int(day))).strftime("%Y-%m-%d"),
                "reads": int(per_day["reads"][i]), "likes": int(per_day["likes"][i]),
                "collects": int(per_day["collects"][i]), "comments": int(per_day["comments"][i]),
                "interactions": int(per_day["likes"][i] + per_day["collects"][i] + per_day["comments"][i]),
                "clicks": int(per_day["clicks"][i]), "orders": int(orders[j, day]),
                "spend": round(float(cr["spend"][0, j]), 2) if i == 0 else 0.0})
    for day in range(H):
        rows.append({"note_id": "", "kol_id": "", "date": (day0 + pd.Timedelta(days=day)).strftime("%Y-%m-%d"),
                     "orders": int(untracked[day])})
    cols = ["note_id", "kol_id", "tier", "category", "followers", "publish_date", "date", "reads", "likes",
            "collects", "comments", "interactions", "clicks", "orders", "spend"]
    frame = pd.DataFrame(rows, columns=cols)
    for k in ("followers", "reads", "likes", "collects", "comments", "interactions", "clicks", "orders"):
        frame[k] = frame[k].astype("Int64")  # whole numbers, empty on the rows without a note
    return frame


def attribution_frame(result) -> pd.DataFrame:
    """The attribution of a run as one table (``attribution.csv``): a row per wave
    (``level = "wave"``), then per creator (``"creator"``), then the rows of no note
    (``"other"``), each with ``name``, ``tier``, ``wave``, ``notes`` and the mean and standard
    error of every credited metric (:func:`attribution_table`)."""
    waves = attribution_table(result, "wave")
    creators = attribution_table(result, "creator")
    other = creators["creator"].isin([ORGANIC, UNTRACED])
    parts = []
    for level, frame, key in (("wave", waves[~waves["wave"].isin([ORGANIC, UNTRACED])], "wave"),
                              ("creator", creators[~other], "creator"), ("other", creators[other], "creator")):
        f = frame.rename(columns={key: "name"}).copy()
        if key == "wave":
            f["wave"] = f["name"]
        f.insert(0, "level", level)
        parts.append(f)
    out = pd.concat(parts, ignore_index=True)
    first = ["level", "name", "tier", "wave", "notes"]
    return out[first + [c for c in out.columns if c not in first]]
