"""benchmarks/README.md is rendered from benchmarks/results/*.json by benchmarks/make_readme.py."""

import importlib.util
import json
import shutil
import sys

import pytest

from tests.conftest import ROOT

BENCH = ROOT / "benchmarks"
TINY = ROOT / "tests" / "data" / "benchmarks_tiny"  # results of tiny runs of the current scripts (new schema)


@pytest.fixture(scope="module")
def make_readme():
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("make_readme", BENCH / "make_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_is_what_the_committed_results_render(make_readme):
    committed = (BENCH / "README.md").read_text()
    assert committed == make_readme.render(BENCH / "results"), "run python benchmarks/make_readme.py"


def test_a_changed_number_in_a_results_file_changes_the_readme(make_readme, tmp_path):
    for path in (BENCH / "results").glob("*.json"):
        shutil.copy(path, tmp_path)
    before = make_readme.render(tmp_path)
    data = json.loads((tmp_path / "env_throughput_cpu.json").read_text())
    data["rows"][0]["compile_s"] = 987.6
    (tmp_path / "env_throughput_cpu.json").write_text(json.dumps(data))
    after = make_readme.render(tmp_path)
    assert after != before and "| 987.6 |" in after


def test_results_of_the_current_scripts_render_with_seeds_spread_and_matched_settings(make_readme):
    text = make_readme.render(TINY)
    sb3 = json.loads((TINY / "train_vs_sb3.json").read_text())
    stand = sb3["results"]["stand"]
    assert "Not a matched comparison" not in text
    assert "raw observations on both sides" in text or "both normalise observations" in text
    assert f"{stand['ratio_mean_steps_per_s']:.2f}" in text
    assert "Training throughput, CPU" in text and "30M steps (h)" in text
    assert "Headline, training-style stepping" in text
    env = json.loads((TINY / "env_throughput_cpu.json").read_text())
    assert f"**{env['same_workload']['ratio_training_style_vs_myoassist_style']:.2f}x**" in text
    assert {r["backend"] for r in env["rows"]} == {"cpu", "mjx", "warp"}
    for row in env["rows"]:
        assert f"| {row['backend']} | {row['batch']} | {row['compile_s']:.1f} |" in text
