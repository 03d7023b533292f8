import dataclasses

from mjx_myoassist.config import REFERENCE_SECTIONS, config_reference_markdown
from tests.conftest import ROOT


def test_every_config_field_has_a_docstring():
    missing = [
        f"{cls.__name__}.{f.name}"
        for _, cls in REFERENCE_SECTIONS
        for f in dataclasses.fields(cls)
        if not f.metadata.get("doc", "").strip()
    ]
    assert not missing, f"config fields without a docstring: {missing}"


def test_config_reference_is_generated_not_hand_edited():
    committed = (ROOT / "docs" / "config_reference.md").read_text()
    assert committed == config_reference_markdown(), "run python scripts/generate_config_reference.py"


def test_readme_starts_with_install_and_test_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    head = "\n".join(lines[:8])
    assert 'pip install -e ".[dev]"' in head and "python -m pytest" in head and "train_mjx.py" in head
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest\n" in ci
