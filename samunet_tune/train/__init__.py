"""Training: the recipe schema, losses, the accelerate loop, checkpoints, logs, feature cache."""
