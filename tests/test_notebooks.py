"""The Colab notebooks run top to bottom on CPU (tiny switch) and show a plot and a video frame."""

import json

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = ["train_on_gpu.ipynb", "humanoid.ipynb"]
GPU_PRESET = "imitation_tutorial_22_partial_obs_many_envs"


def test_gpu_notebook_and_scaling_doc_use_the_many_envs_preset():
    """The GPU recipe is the packaged many-envs preset, run as it is outside the TINY switch."""
    from mjx_myoassist.config import load_config

    notebook = nbformat.read(ROOT / "notebooks" / "train_on_gpu.ipynb", as_version=4)
    (train,) = [c.source for c in notebook.cells if "Session.new(config" in c.source]
    assert f'preset = "{GPU_PRESET}"' in train
    outside_tiny = train.split("if TINY:")[0]
    assert "--config." not in outside_tiny.replace("--config.env_params.myoassist_root", ""), outside_tiny
    config = load_config(GPU_PRESET)
    assert config.env_params.num_envs >= 1024 and config.ppo_params.n_epochs == 30
    assert f"--config {GPU_PRESET}" in (ROOT / "docs" / "scaling.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes(name, tmp_path, monkeypatch):
    monkeypatch.setenv("MJX_NOTEBOOK_TINY", "1")
    monkeypatch.delenv("MUJOCO_GL", raising=False)  # the notebooks choose EGL or OSMesa, as on Colab
    monkeypatch.delenv("PYOPENGL_PLATFORM", raising=False)
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    NotebookClient(
        notebook, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    plots = [o for o in outputs if "image/png" in o.get("data", {})]
    html = [o.get("data", {}).get("text/html", "") for o in outputs]
    frames = [h for h in html if "<img" in h]  # mediapy.show_image
    videos = [h for h in html if "<video" in h]  # mediapy.show_video
    assert len(plots) >= 2, "expected the live return plot and the analysis plots"
    assert frames and videos, "expected a video frame and an inline video"
    sessions = sorted((tmp_path / "results").glob("train_session_*"))
    assert sessions, "the notebook wrote no training session"
    for session in sessions:  # the TINY switch reached the notebook: its short runs went to the end
        config = json.loads((session / "session_config.json").read_text())
        log = json.loads((session / "train_log.json").read_text())
        assert config["total_timesteps"] == 64 and log[-1]["step"] >= 64
    if name == "humanoid.ipynb":  # the shipped stand policy stands, before any training
        printed = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
        assert "stood 10 s in 5 of 5 episodes" in printed, printed
    if name == "train_on_gpu.ipynb":  # the many-envs preset, shrunk only by the TINY overrides
        (config,) = [json.loads((s / "session_config.json").read_text()) for s in sessions]
        assert config["env_params"]["physics_sim_framerate"] == 600
        assert config["env_params"]["reference_data_path"].endswith("policy_gait_60s_mtp_reference.npz")
