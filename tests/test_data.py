"""mjx_myoassist.data: the policies shipped with the package do what benchmarks/README.md reports."""

import pytest

from mjx_myoassist.data import POLICIES, policy_path
from mjx_myoassist.evaluate import evaluate_policy


def test_shipped_stand_policy_stands_10_s_at_the_target_height():
    rows = evaluate_policy(policy_path("humanoid_stand"), episodes=5, seconds=10.0)
    for r in rows:
        assert r["end"] == "time_limit" and r["seconds"] == pytest.approx(10.0, abs=0.01)
        assert abs(r["torso_height_mean"] - 1.282) <= 0.05 and r["feet_contact_final"] == 2


def test_shipped_kneel_policy_kneels_3_s_in_place():
    """5 of 5 episodes of 3 s end on a knee with the torso upright (within 45 deg), having moved at most 0.3 m."""
    rows = evaluate_policy(policy_path("humanoid_kneel"), episodes=5, seconds=3.0)
    for r in rows:
        assert r["end"] == "time_limit" and r["seconds"] == pytest.approx(3.0, abs=0.01)
        assert r["knees_contact_final"] >= 1 and r["upright_angle_final"] <= 45.0 and abs(r["distance"]) <= 0.3
        assert 0.4 < r["torso_height_final"] < 0.9  # down from the stand's 1.28 m, not fallen


def test_every_shipped_policy_has_weights_and_its_config():
    for name in POLICIES:
        assert {p.name for p in policy_path(name).iterdir()} >= {"policy.npz", "meta.json", "session_config.json"}


def test_unknown_policy_name_lists_the_shipped_ones():
    with pytest.raises(ValueError, match="humanoid_stand"):
        policy_path("humanoid_sit")
