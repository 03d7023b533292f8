"""Checkpoint -> CPU MuJoCo replay (no MJX involved)."""
