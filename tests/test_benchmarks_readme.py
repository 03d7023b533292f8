"""benchmarks/README.md is rendered from benchmarks/results/*.json by ``python -m benchmarks.readme``."""

import json
import shutil

import pytest

from benchmarks.readme import render
from tests.conftest import ROOT

BENCH = ROOT / "benchmarks"
TINY = ROOT / "tests" / "data" / "benchmarks_tiny"  # results of tiny runs of the current scripts


@pytest.fixture
def results(tmp_path):
    """A copy of the committed results to change."""
    for path in (BENCH / "results").glob("*.json"):
        shutil.copy(path, tmp_path)
    return tmp_path


def edit(folder, name, change):
    data = json.loads((folder / f"{name}.json").read_text())
    change(data)
    (folder / f"{name}.json").write_text(json.dumps(data))


def test_readme_is_what_the_committed_results_render():
    committed = (BENCH / "README.md").read_text()
    assert committed == render(BENCH / "results"), "run python -m benchmarks.readme"


def test_every_results_file_has_its_section():
    text = render(BENCH / "results")
    titles = ["Env stepping, CPU", "Training throughput, CPU", "Training vs Stable-Baselines3", "Physics rate",
              "MyoAssist's published policy", "Backend cost of the 600 Hz option", "Every MyoAssist model",
              "Learning: our trainer", "From scratch to walking", "GPU projection",
              "MyoAssist's rough-terrain policy"]  # fmt: skip
    assert all(title in text for title in titles)


def test_a_changed_number_in_a_results_file_changes_the_readme(results):
    before = render(results)
    edit(results, "env_throughput_cpu", lambda d: d["rows"][0].__setitem__("compile_s", 987.6))
    edit(results, "physics_rate", lambda d: d["rows"]["600_euler"]["cost_c_one_thread"].__setitem__(
        "ms_per_control_step", 12.345))  # fmt: skip
    after = render(results)
    assert after != before and "| 987.6 |" in after and "| 12.35 |" in after


def test_walk_from_scratch_reads_not_yet_until_the_run_walks_then_its_cost(results):
    def not_walked(d):
        d.update(walked=False, env_steps_to_walk=None, wall_s_to_walk=None, wall_s_with_compile_to_walk=None)

    edit(results, "walk_from_scratch", not_walked)
    assert "| walks: env steps | not yet | 20,000,000 |" in render(results)

    def walked(d):
        d.update(walked=True, env_steps_to_walk=4_194_304, wall_s_to_walk=5400.0, wall_s_with_compile_to_walk=5436.0,
                 policy_path="benchmarks/results/walk_from_scratch_policy")  # fmt: skip
        episode = {"seconds": 10.0, "distance": 11.5}
        d["command_line_checks"] = {"cpu_1200hz_mjx_ready_contacts": {"walked": True, "episodes": [episode] * 5}}

    edit(results, "walk_from_scratch", walked)
    text = render(results)
    assert "| walks: env steps | 4,194,304 | 20,000,000 |" in text
    assert "| walks: wall time (h), compile excluded | 1.50 | 3.6 (32 processes) |" in text
    assert "| walks: core-hours (wall time x cores), compile excluded | 3.0 | 115.2 |" in text  # 2 cores
    assert "`benchmarks/results/walk_from_scratch_policy`" in text
    assert "| `cpu_1200hz_mjx_ready_contacts` | yes | 5/5 | 11.50-11.50 |" in text


def test_earlier_runs_show_their_own_policys_random_starts_under_either_record_name(results):
    def measured(d):
        for run, name, walked in zip(d["earlier_runs"][:2], ["ours", "ours_last_checkpoint"], [39, 33], strict=True):
            run["random_starts"] = {"episodes": 40, "seed": 1234, name: {"policy": "x", "walked": walked, "failed": []}}

    edit(results, "walk_from_scratch", measured)
    rows = [line for line in render(results).splitlines() if line.startswith("| 1c259a0 |") or
            line.startswith("| 33a0f98 |")]  # fmt: skip
    assert len(rows) == 2 and "| 39/40 |" in rows[0] and "| 33/40 |" in rows[1]


def test_the_walking_policys_gait_shows_beside_the_published_policys(results):
    from benchmarks.readme_walk import GAIT_ROWS

    def gait(d):
        ours = {key: 1.0 for key in GAIT_ROWS} | {"cadence_steps_per_min": 116.72}
        d["gait"] = {"command": ["mjx-render", "<policy>"], "ours": ours,
                     "myoassist_published": {key: 2.0 for key in GAIT_ROWS}}  # fmt: skip

    edit(results, "walk_from_scratch", gait)
    assert "| cadence (steps/min) | 116.72 | 2.00 |" in render(results)


def test_results_of_the_current_scripts_render_with_seeds_spread_and_matched_settings():
    text = render(TINY)
    sb3 = json.loads((TINY / "train_vs_sb3.json").read_text())
    assert f"**{sb3['results']['stand']['ratio_mean_steps_per_s']:.2f}**" in text
    assert "Training throughput, CPU" in text and "30M steps (h)" in text
    env = json.loads((TINY / "env_throughput_cpu.json").read_text())
    assert f"**{env['same_workload']['ratio_training_style_vs_myoassist_style']:.2f}x**" in text
    assert {r["backend"] for r in env["rows"]} == {"cpu", "mjx", "warp"}
    for row in env["rows"]:
        assert f"| {row['backend']} | {row['batch']} | {row['compile_s']:.1f} |" in text
    assert f"| {env['date']} | {env['commit']} |" in text  # the run table of a harness header
