"""cli.py and the commands built on it (train, render, evaluate, sim_minimal): overrides, --myoassist-root,
one-line errors, and MyoAssist's command shapes (--config_file_path, --flag_*, zip paths without '.zip')."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sim_minimal
from mjx_myoassist import cli, evaluate, render, train
from mjx_myoassist.errors import ConfigError
from mjx_myoassist.models import model_id_from_path
from tests.conftest import FIXTURES, ROOT, fixture_path

SESSIONS = "myoassist/docs/assets/tutorial_rl_models"
TUTORIAL_ZIP = f"{SESSIONS}/train_session_20250728-161129_tutorial_partial_obs/trained_models/model_19939328.zip"
ROUGH_CONFIG = f"{SESSIONS}/train_session_20250803-154021_rough/session_config.json"
ROOT_OVERRIDE = "--config.env_params.myoassist_root"


@pytest.fixture
def gl_env(monkeypatch):
    """render.main picks a GL backend through os.environ: keep the test process's own."""
    monkeypatch.setenv("MUJOCO_GL", "egl")
    monkeypatch.setenv("PYOPENGL_PLATFORM", "egl")


def test_overrides_anywhere_with_or_without_equals_and_the_myoassist_root():
    parser = cli.parser("x", None)
    parser.add_argument("--n", type=int)
    args, overrides = cli.parse(parser, ["--config.a.b", "1", "--n", "3", "--config.c=[2]", "--myoassist-root", "/m"])
    assert args.n == 3 and overrides == ["--config.a.b", "1", "--config.c", "[2]", ROOT_OVERRIDE, "/m"]


def test_cli_imports_neither_jax_nor_mujoco():
    """render.py chooses the GL backend before MuJoCo loads, and --help answers at once."""
    code = "import sys, mjx_myoassist.cli; assert not {'jax', 'mujoco'} & set(sys.modules), sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize(
    "command, argv",
    [
        (train.main, ["--no-such-flag"]),
        (train.main, ["--config.total_timesteps"]),
        (evaluate.main, ["somewhere", "--no-such-flag"]),
        (render.main, ["somewhere", "--no-such-flag"]),
        (sim_minimal.main, ["--model", "no-such-model"]),
    ],
)
def test_command_line_errors_are_one_line_and_exit_2(command, argv, capsys, gl_env):
    assert command(argv) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err


def test_config_file_path_is_config():
    for argv in (["--config_file_path", "F.json"], ["--config_file_path=F.json"], ["--config", "F.json"]):
        assert train.parse_args(argv)[0].config == "F.json"


def test_myoassist_root_is_an_override_unless_resuming():
    assert train.parse_args(["--myoassist-root", "/m"])[1] == [ROOT_OVERRIDE, "/m"]
    assert train.parse_args(["--myoassist-root", "/m", "--resume", "results/s"])[1] == []


def test_flag_rendering_is_answered_with_ours(tmp_path, capsys):
    assert train.main(["--config_file_path", str(tmp_path / "missing.json"), "--flag_rendering"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "note: --flag_rendering" in err and "render.py" in err and "missing.json" in err
    assert "come in pairs" not in err
    assert not train.parse_args(["--no-flag_rendering"])[0].flag_rendering


def test_flag_realtime_evaluate_replays_the_warm_start_policy_in_the_viewer(monkeypatch):
    calls = []
    monkeypatch.setattr(render, "main", lambda argv: calls.append(argv) or 0)
    config = fixture_path(ROUGH_CONFIG)
    root = str(FIXTURES / "myoassist")
    assert train.main(["--config_file_path", str(config), "--flag_realtime_evaluate", "--myoassist-root", root]) == 0
    ((path, *rest),) = calls
    assert Path(path) == fixture_path(TUTORIAL_ZIP)  # the config names it without .zip, from MyoAssist's root
    assert rest == ["--config", str(config), "--realtime", ROOT_OVERRIDE, root]


def test_flag_realtime_evaluate_without_a_policy_names_ours(capsys):
    assert train.main(["--config", "test", "--flag_realtime_evaluate"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "prev_trained_policy_path" in err and "render.py" in err and err.count("\n") == 1


def test_train_help_lists_the_resume_overrides(capsys):
    from mjx_myoassist.session import RESUME_OVERRIDABLE

    with pytest.raises(SystemExit) as exit_info:
        train.main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0 and "RESUME_OVERRIDABLE" not in out and "mjx_myoassist.session" not in out
    assert all(f"--config.{key}" in out for key in RESUME_OVERRIDABLE)
    assert "--config_file_path" in out and "--flag_realtime_evaluate" in out


@pytest.mark.parametrize("build", [sim_minimal.build_parser, train.build_parser])
def test_every_option_has_help(build):
    assert all(action.help for action in build()._actions), [a.dest for a in build()._actions if not a.help]


def test_unknown_model_device_is_a_config_error_naming_model_path(capsys):
    path = "models/22muscle_2D/myoLeg22_2D_NOSUCHDEVICE.xml"
    with pytest.raises(ConfigError, match=r"env_params\.model_path .*NOSUCHDEVICE"):
        model_id_from_path(path)
    assert sim_minimal.main(["--config.env_params.model_path", path]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("error: env_params.model_path") and err.count("\n") == 1, err


def test_zip_path_without_suffix_is_taken_by_evaluate_and_render(tmp_path, capsys, gl_env):
    """A bare zip copy named as MyoAssist writes it: found (so the answer asks for its config), not 'missing'."""
    shutil.copy(fixture_path(TUTORIAL_ZIP), tmp_path / "model_5.zip")
    for command in (evaluate.main, render.main):
        assert command([str(tmp_path / "model_5")]) == cli.EXIT_ERROR
        err = capsys.readouterr().err
        assert "--config" in err and "does not exist" not in err, err
