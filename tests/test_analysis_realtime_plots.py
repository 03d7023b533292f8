"""MyoAssist's realtime_plotting_info plots (analysis/realtime_plots.py), drawn by render for each entry."""

import json

import numpy as np
import pytest
from scipy.signal import butter, filtfilt

from mjx_myoassist.analysis.realtime_plots import draw_realtime_info
from mjx_myoassist.analysis.session_report import render_session
from mjx_myoassist.errors import ConfigError
from tests.conftest import FIXTURES, fixture_path

PUBLISHED = "myoassist/docs/assets/tutorial_rl_models/train_session_20250728-161129_tutorial_partial_obs"
SPEED = {"category": "joint_data", "name": "pelvis_tx", "property_type": "qvel", "y_lim": [0, 2.5],
         "plot_duration_type": "total", "filter": {"type": "butter", "order": 2, "cutoff": 2, "fs": 30}}  # fmt: skip
HIP = {"category": "joint_data", "name": "hip_flexion_r", "property_type": "qpos", "y_lim": [-30, 40], "y_scale": 57.3}
ENTRIES = [
    {"num_timesteps": 150, "velocity_mode": "UNIFORM", "min_target_velocity": 1.25, "max_target_velocity": 1.25,
     "realtime_plotting_info": [SPEED, HIP]},
    {"num_timesteps": 90, "velocity_mode": "SINUSOIDAL", "min_target_velocity": 1.0, "max_target_velocity": 1.5,
     "target_velocity_period": 3.0, "realtime_plotting_info": [SPEED]},
]  # fmt: skip


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The published tutorial policy replayed by render (no video), its config given two plotted entries."""
    surrogate = fixture_path("recorded/surrogate_short_reference_gait.npz")
    overrides = ["--config.env_params.myoassist_root", str(FIXTURES / "myoassist"),
                 "--config.env_params.reference_data_path", str(surrogate),
                 "--config.evaluate_param_list", json.dumps(ENTRIES)]  # fmt: skip
    return render_session(fixture_path(f"{PUBLISHED}/session_config.json").parent, out=tmp_path_factory.mktemp("rt"),
                          video=False, overrides=overrides)  # fmt: skip


def test_render_draws_each_entrys_plots(rendered):
    assert {"realtime_plots_entry0.png", "realtime_plots_entry1.png"} <= set(rendered.report["files"])
    for i in range(2):
        assert (rendered.analysis_dir / f"realtime_plots_entry{i}.png").stat().st_size > 10_000


def test_speed_panel_is_the_filtered_pelvis_speed_against_the_entrys_target(rendered):
    traj = rendered.trajectory
    assert traj.steps == 150
    np.testing.assert_allclose(traj.metrics["target_velocity"], 1.25, atol=1e-6)  # the entry's schedule
    speed_axes, hip_axes = draw_realtime_info(traj, [SPEED, HIP]).axes
    speed_line, target_line = speed_axes.get_lines()
    b, a = butter(2, 2 / 15)
    pelvis = traj.qvel[1:, traj.model.jnt_dofadr[traj.model.joint("pelvis_tx").id]]
    np.testing.assert_allclose(speed_line.get_ydata(), filtfilt(b, a, pelvis))
    np.testing.assert_allclose(target_line.get_ydata(), 1.25, atol=1e-6)
    assert speed_axes.get_ylim() == (0, 2.5)
    cycle_lines = hip_axes.get_lines()
    mean = cycle_lines[-1].get_ydata()
    assert len(cycle_lines) >= 3 and cycle_lines[-1].get_xdata()[-1] == 100  # strides (grey) and their mean
    assert -30 < mean.min() < mean.max() < 40 and mean.max() - mean.min() > 20  # degrees (y_scale 57.3)
    assert hip_axes.get_ylim() == (-30, 40)


def test_a_series_the_plots_cannot_draw_is_named(rendered):
    with pytest.raises(ConfigError, match="category 'muscle_data'"):
        draw_realtime_info(rendered.trajectory, [{**SPEED, "category": "muscle_data"}])
    with pytest.raises(ConfigError, match="joint_data 'hip_r'"):
        draw_realtime_info(rendered.trajectory, [{**HIP, "name": "hip_r"}])
