"""`full`: every parameter trains."""

from __future__ import annotations

from samunet_tune.strategies.base import Strategy
from samunet_tune.strategies.parts import MODEL_PARTS


class FullStrategy(Strategy):
    """Full fine-tuning; the most memory, and nothing frozen to keep in eval mode."""

    name = "full"
    trained_parts = MODEL_PARTS
