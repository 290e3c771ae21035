"""`decoder-only`: only the prompt encoder and the mask decoder train."""

from __future__ import annotations

from samunet_tune.strategies.base import Strategy


class DecoderOnlyStrategy(Strategy):
    """The whole image side is frozen, so its features can be computed once and cached."""

    name = "decoder-only"
    trained_parts = ("prompt_encoder", "mask_decoder")
