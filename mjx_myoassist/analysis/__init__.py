"""Gait analysis, plots and videos of replayed policies."""
