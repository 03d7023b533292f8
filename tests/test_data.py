"""mjx_myoassist.data: the policies shipped with the package do what benchmarks/README.md reports."""

import pytest

from mjx_myoassist.data import POLICIES, policy_path
from mjx_myoassist.evaluate import evaluate_policy


def test_shipped_stand_policy_stands_10_s_at_the_target_height():
    rows = evaluate_policy(policy_path("humanoid_stand"), episodes=5, seconds=10.0)
    for r in rows:
        assert r["end"] == "time_limit" and r["seconds"] == pytest.approx(10.0, abs=0.01)
        assert abs(r["torso_height_mean"] - 1.282) <= 0.05 and r["feet_contact_final"] == 2


def test_every_shipped_policy_has_weights_and_its_config():
    for name in POLICIES:
        assert {p.name for p in policy_path(name).iterdir()} >= {"policy.npz", "meta.json", "session_config.json"}


def test_unknown_policy_name_lists_the_shipped_ones():
    with pytest.raises(ValueError, match="humanoid_stand"):
        policy_path("humanoid_sit")
