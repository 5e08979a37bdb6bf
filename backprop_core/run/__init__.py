"""Experiments: build from a config, train, checkpoint, predict."""
