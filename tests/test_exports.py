"""Marketplace exports as they come (docs/data.md): units, names, profiles, mapping files, and
every unreadable cell reported at once with nothing written."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from click.testing import CliRunner

import kolsim
from kolsim.cli import main
from kolsim.errors import PoolError
from kolsim.exports import parse_number

EXPORT = "scenarios/pools/marketplace_export.csv"
SOURCE = "scenarios/pools/synthetic_300.csv"


@pytest.mark.parametrize("cell, kind, value", [
    ("12.3万", "count", 123_000), ("1.2w", "count", 12_000), ("1.2W", "count", 12_000), ("3.5k", "count", 3_500),
    ("2M", "count", 2_000_000), ("1.5亿", "count", 150_000_000), ("12,300", "count", 12_300), ("８,５００", "count", 8_500),
    ("¥3,500", "money", 3_500), ("￥1092", "money", 1_092), ("3500元", "money", 3_500), ("RMB 3,500", "money", 3_500),
    ("0.35万", "money", 3_500), ("4.7%", "share", 0.047), ("0.047", "share", 0.047), (" 12 ", "count", 12),
    (17, "count", 17), (0.02, "share", 0.02),
])
def test_cells_are_read_with_their_units(cell, kind, value):
    v, _ = parse_number(cell, kind)
    assert v == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("cell, kind, says", [
    ("abc", "count", "is not a number"), ("4.7", "share", "above 1 without %"), ("¥¥", "money", "amount in RMB"),
    ("12.3万人", "count", "is not a number"),
    ("1,2345", "count", "not thousands separators"), ("1,5", "share", "not thousands separators"), ("4.7%%", "share", "not a percentage"), (True, "count", "true/false"),
])
def test_unreadable_cells_say_what_is_allowed(cell, kind, says):
    v, why = parse_number(cell, kind)
    assert v is None and says in why


def test_blank_markers_and_percent_columns():
    assert math.isnan(parse_number("--", "count")[0]) and math.isnan(parse_number("", "money")[0])
    assert math.isnan(parse_number(None, "share")[0])
    assert parse_number("4.7", "share", percent=True)[0] == pytest.approx(0.047)


def test_the_shipped_export_imports_through_its_profile_as_the_pool_it_came_from():
    pool, report = kolsim.load_export(EXPORT, profile="pugongying")
    src = pd.read_csv(SOURCE).head(len(pool)).set_index("kol_id")
    got = pool.frame.set_index("kol_id")
    assert list(got.index) == list(src.index)
    assert (got["tier"] == src["tier"]).all() and (got["category"] == src["category"]).all()
    # 万 with two decimals: within 50 followers
    assert ((got["followers"] - src["followers"]).abs() <= 50.0 + 1e-9).all()
    assert (got["cost_per_post"] == src["cost_per_post"]).all()   # the image price
    assert ((got["engagement_rate"] - src["engagement_rate"]).abs() < 5e-5 + 1e-12).all()
    assert (got["monthly_posts"] == src["monthly_posts"]).all()
    assert "video_price" in got and "nickname" in got             # kept, not dropped
    convs = {(c, h) for c, h, _ in report.conversions}
    assert ("followers", "万 = 10,000") in convs and ("engagement_rate", "% = /100") in convs
    assert ("tier", "尾部达人 -> micro") in convs and ("category", "护肤 -> skincare") in convs
    assert sum(n for c, h, n in report.conversions if c == "tier") == len(pool)


def test_the_common_names_are_recognised_without_a_profile_and_video_prices_chosen():
    pool, report = kolsim.load_export(EXPORT)
    assert report.columns["followers"] == "粉丝数" and "达人昵称" in report.unused
    video, _ = kolsim.load_export(EXPORT, price="video")
    assert (video.frame["cost_per_post"] > pool.frame["cost_per_post"]).all()


def test_the_imported_export_optimises(tmp_path):
    r = CliRunner().invoke(main, ["optimize", "scenarios/optimize_skincare.toml", "--candidates", EXPORT,
                                  "--profile", "pugongying", "--simulate", "0", "--time-limit", "20"])
    assert r.exit_code == 0, r.output
    assert "status: optimal" in r.output


def test_every_malformed_cell_is_reported_in_one_run_and_nothing_is_written(tmp_path):
    src = pd.read_csv(EXPORT, encoding="utf-8-sig", dtype=str)
    bad = src.copy()
    bad.loc[2, "粉丝数"] = "很多"         # line 4
    bad.loc[4, "互动率"] = "4.7"          # line 6
    bad.loc[7, "达人等级"] = "超级达人"     # line 9
    bad.loc[11, "粉丝数"] = "1.2万人"      # line 13
    bad.loc[20, "图文报价"] = "面议"        # line 22
    path = tmp_path / "bad_export.csv"
    bad.to_csv(path, index=False, encoding="utf-8-sig")
    out = tmp_path / "pool.csv"
    r = CliRunner().invoke(main, ["pool", "import", str(path), "--profile", "pugongying", "--out", str(out)])
    assert r.exit_code == 2, r.output
    err = r.stderr
    for line, column, value in (("line 4", "粉丝数", "很多"), ("line 6", "互动率", "4.7"), ("line 9", "达人等级", "超级达人"),
                                ("line 13", "粉丝数", "1.2万人"), ("line 22", "图文报价", "面议")):
        assert any(line in ln and column in ln and value in ln for ln in err.splitlines()), (line, err)
    assert "Traceback" not in err
    assert not out.exists()


def test_pool_import_writes_the_pool_and_lists_the_conversions(tmp_path):
    out = tmp_path / "pool.csv"
    r = CliRunner().invoke(main, ["pool", "import", EXPORT, "--profile", "pugongying", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "tier: 素人 -> koc" in r.output and "wrote 150 creators" in r.output
    again = kolsim.load_pool(out)
    assert len(again) == 150 and set(again.frame["tier"]) <= {"koc", "micro", "mid", "top", "celebrity"}


def test_a_mapping_file_names_columns_units_tiers_and_categories(tmp_path):
    df = pd.DataFrame({"博主编号": ["a1", "a2", "a3"], "粉丝总量": ["1.5w", "8,000", "32万"],
                       "合作价": ["¥2,000", "¥600", "¥9,800"], "互动": ["4.7", "2", "0.9"],
                       "档位": ["潜力达人", "素人", "腰部"], "方向": ["护肤美容", "美妆", "宠物用品"]})
    path = tmp_path / "export.xlsx"
    df.to_excel(path, index=False)
    mapping = tmp_path / "map.toml"
    mapping.write_text('percent = ["engagement_rate"]\n[columns]\nkol_id = "博主编号"\nfollowers = "粉丝总量"\n'
                       'cost_per_post = "合作价"\nengagement_rate = "互动"\ntier = "档位"\ncategory = "方向"\n'
                       '[tiers]\n"潜力达人" = "micro"\n[categories]\n"护肤美容" = "skincare"\n', encoding="utf-8")
    pool, report = kolsim.load_export(path, columns=mapping)
    f = pool.frame
    assert list(f["followers"]) == [15_000, 8_000, 320_000]
    assert list(f["tier"]) == ["micro", "koc", "mid"]
    assert list(f["engagement_rate"]) == pytest.approx([0.047, 0.02, 0.009])
    assert list(f["category"]) == ["skincare", "beauty", "宠物用品"]   # unknown: kept, and reported
    assert any("宠物用品 kept as it is" in h for _, h, _ in report.conversions)


@pytest.mark.parametrize("toml, where", [
    ('colums = {}\n', "unknown key"), ('[columns]\nfans = "粉丝"\n', "columns.fans"),
    ('[tiers]\n"超头部" = "mega"\n', "tiers.超头部"), ('price = "gif"\n', "price"),
    ('percent = ["followers"]\n', "percent"), ('profile = "nope"\n', "profile"),
])
def test_a_bad_mapping_file_says_which_key(tmp_path, toml, where):
    mapping = tmp_path / "map.toml"
    mapping.write_text(toml, encoding="utf-8")
    with pytest.raises(PoolError) as e:
        kolsim.load_export(EXPORT, columns=mapping)
    assert where in str(e.value)


def test_an_export_without_a_required_column_names_what_was_looked_for(tmp_path):
    path = tmp_path / "e.csv"
    pd.DataFrame({"小红书号": ["a"], "粉丝数": ["1万"]}).to_csv(path, index=False)
    with pytest.raises(PoolError, match="no column for category, cost_per_post") as e:
        kolsim.load_export(path)
    assert "mapping file" in str(e.value)


def test_without_a_tier_column_the_tier_follows_from_the_followers(tmp_path):
    path = tmp_path / "e.csv"
    pd.DataFrame({"小红书号": ["a", "b", "c"], "粉丝数": ["5,000", "3万", "120万"], "类目": ["美妆"] * 3,
                  "报价": ["¥500", "¥3,000", "¥40,000"]}).to_csv(path, index=False)
    pool, report = kolsim.load_export(path)
    assert list(pool.frame["tier"]) == ["koc", "micro", "top"]
    assert any(c == "tier" and "from followers" in h for c, h, _ in report.conversions)


def test_a_campaign_category_no_candidate_is_in_is_a_notice():
    from kolsim.optimize import build_problem

    s = kolsim.load_scenario("scenarios/optimize_skincare.toml")
    f = pd.read_csv(SOURCE)
    pool = kolsim.Pool.from_frame(f[f["category"] != "skincare"].astype({"kol_id": str}))
    notes = build_problem(s, pool).notices
    assert any("no candidate is in the campaign's category 'skincare'" in n and "beauty" in n for n in notes)
    assert not any("campaign's category" in n for n in build_problem(s, kolsim.load_pool(SOURCE)).notices)
