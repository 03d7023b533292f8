"""The shared test helpers: a missing MyoAssist fixture skips locally but fails under CI=true."""

import pytest

from tests.conftest import fixture_path


def test_missing_fixture_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true requires"):
        fixture_path("no/such/fixture.json")


def test_missing_fixture_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not available"):
        fixture_path("no/such/fixture.json")
