"""Data: dataset plugins, prompt simulation, transforms."""
