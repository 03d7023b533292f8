"""Pure-JAX PPO: networks, losses, normalizer, training loop, checkpoints."""
