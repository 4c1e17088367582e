"""kolsim report: one self-contained HTML page, checked in a real headless browser (issue 17 item 6).

The browser test needs Chromium (``.ci/run`` installs it with apt-get); without it, it is skipped
and says so.  Its screenshot is written to ``test-artifacts/report.png``.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kolsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
                if shutil.which(b)), None)

#: Injected into a copy of the page: records script errors, failed loads and console errors, and
#: after loading writes what it saw (and every image's natural size) into the DOM.
_CHECK = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  __errors.push(e.message || ('failed to load ' + ((e.target && (e.target.src || e.target.href)) || '?').slice(0, 60)));
}, true);
var __ce = console.error; console.error = function () { __errors.push([].join.call(arguments, ' ')); __ce.apply(console, arguments); };
window.addEventListener('load', function () {
  var im = Array.prototype.slice.call(document.images);
  document.body.setAttribute('data-check', JSON.stringify({
    images: im.length, sizes: im.map(function (i) { return [i.naturalWidth, i.naturalHeight]; }), errors: __errors}));
});
</script>"""


def _run(args):
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.stderr
    return res


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    _run(["simulate", "scenarios/perfume_launch.toml", "--runs", "200", "--out", str(d / "sim")])
    _run(["compare", "scenarios/perfume_launch.toml", "scenarios/snack_viral.toml", "--runs", "100",
          "--out", str(d / "cmp")])
    _run(["optimize", "scenarios/optimize_skincare.toml", "--candidates", "scenarios/pools/synthetic_300.csv",
          "--simulate", "100", "--out", str(d / "opt")])
    _run(["sweep", "scenarios/perfume_launch.toml", "--vary", "tiers.micro.cvr=0.01:0.03:3", "--runs", "100",
          "--out", str(d / "sw")])
    _run(["sweep", "scenarios/micro_seeding.toml", "--method", "sobol", "--samples", "4",
          "--vary", "tiers.micro.cvr=0.01:0.04", "--vary", "tiers.micro.reach=0.2:0.4", "--runs", "50",
          "--metric", "conversions", "--out", str(d / "sobol")])
    page = d / "report.html"
    res = _run(["report", str(d / "sim"), str(d / "cmp"), str(d / "opt"), str(d / "sw"), str(d / "sobol"),
                "--out", str(page), "--title", "Launch <review>"])
    assert "5 run(s)" in res.stdout
    return page


def test_report_is_one_self_contained_page(report):
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    # nothing to fetch: every image is inline, no script, no link to another file or host
    srcs = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", text)
    assert srcs and all(s.startswith(("data:image/png;base64,", "#")) for s in srcs), srcs[:5]
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert "<title>Launch &lt;review&gt;</title>" in text  # what a user gave is escaped
    for part in ("What does the campaign", "Which of Perfume launch, Snack viral challenge does better",
                 "Which creators", "How does conversions move with tiers.micro.cvr", "Sensitivity indices",
                 "Provenance", "scenario_hash"):
        assert html.escape(part) in text or part in text, part
    assert text.count("data:image/png;base64,") >= 8


@pytest.mark.skipif(BROWSER is None, reason="no Chromium on this machine (.ci/run installs it)")
def test_report_loads_in_a_headless_browser(report, tmp_path):
    checked = tmp_path / "checked.html"
    checked.write_text(report.read_text(encoding="utf-8").replace("<head>", "<head>" + _CHECK, 1), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([BROWSER, *flags, "--enable-logging=stderr", "--virtual-time-budget=10000", "--dump-dom",
                          checked.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'data-check="([^"]*)"', dom.stdout)
    assert found, dom.stderr[-2000:]
    seen = json.loads(html.unescape(found.group(1)))
    assert seen["errors"] == []
    assert seen["images"] >= 8 and all(w > 0 and h > 0 for w, h in seen["sizes"]), seen["sizes"]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    subprocess.run([BROWSER, *flags, f"--screenshot={shot}", "--window-size=1280,4000", report.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000


@pytest.mark.parametrize("args, says", [
    (["report", "scenarios", "--out", "r.html"], "is not a kolsim output folder"),
    (["report", "nowhere", "--out", "r.html"], "is not a directory"),
])
def test_bad_report_inputs_exit_2(tmp_path, monkeypatch, args, says):
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and says in res.stderr, res.stderr
    assert not Path("r.html").exists()


def test_report_needs_an_html_name(report, tmp_path):
    res = CliRunner().invoke(main, ["report", str(report.parent / "sim"), "--out", str(tmp_path / "r.txt")])
    assert res.exit_code == 2 and "must end in .html" in res.stderr


def test_damaged_folders_are_refused_with_their_name(tmp_path):
    run = tmp_path / "sim"
    _run(["simulate", "scenarios/micro_seeding.toml", "--runs", "50", "--out", str(run)])
    (run / "summary.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["report", str(run), "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 2 and "summary.csv: is damaged: it lacks the column(s) metric" in res.stderr
    assert not (tmp_path / "r.html").exists()
    for name, content, says in (("distributions.png", b"garbage", "not a PNG image"),
                                ("summary.json", b"{}", "holds 'provenance'"), ("summary.json", b"[1]", "not a JSON object")):
        _run(["simulate", "scenarios/micro_seeding.toml", "--runs", "50", "--out", str(run)])
        (run / name).write_bytes(content)
        res = CliRunner().invoke(main, ["report", str(run), "--out", str(tmp_path / "r.html")])
        assert res.exit_code == 2 and says in res.stderr and name in res.stderr, res.stderr


def test_an_output_folder_with_files_of_the_users_is_not_replaced(tmp_path):
    run = tmp_path / "sim"
    _run(["simulate", "scenarios/micro_seeding.toml", "--runs", "50", "--out", str(run)])
    mine = run / "my.toml"
    mine.write_text("schema_version = 1\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["simulate", "scenarios/micro_seeding.toml", "--runs", "50", "--out", str(run)])
    assert res.exit_code == 2 and "also holds files it did not write (my.toml)" in res.stderr
    assert mine.exists()


def test_compare_needs_two_scenarios():
    res = CliRunner().invoke(main, ["compare", "scenarios/micro_seeding.toml", "--runs", "10"])
    assert res.exit_code == 2 and "needs at least two scenarios" in res.stderr
