"""Tests of samunet_tune.data and the built-in dataset plugins."""
