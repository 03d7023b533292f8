"""The Colab notebooks run top to bottom on CPU (tiny switch) and show a plot and a video frame."""

import json

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = ["train_on_gpu.ipynb", "humanoid.ipynb"]


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes(name, tmp_path, monkeypatch):
    monkeypatch.setenv("MJX_NOTEBOOK_TINY", "1")
    monkeypatch.setenv("MUJOCO_GL", "osmesa")
    monkeypatch.setenv("PYOPENGL_PLATFORM", "osmesa")
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
