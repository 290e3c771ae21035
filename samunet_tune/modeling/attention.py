"""Fast ViT attention: SAM's attention through `scaled_dot_product_attention`, same weights.

segment-anything's `Attention` materialises the (L, L) score matrix, adds the decomposed
relative-position terms (rel_h + rel_w) in a second full-size tensor and softmaxes a third.
`SdpaAttention` builds the same relative-position bias once and hands it to
`torch.nn.functional.scaled_dot_product_attention` as the float `attn_mask`, whose fused kernel
never stores the scores.

`SdpaBlock` also skips work on the padding of windowed blocks. SAM zero-pads the normalised
tokens up to a multiple of the window (a 16x16 grid at 256 becomes 28x28: 3x the tokens) and runs
`qkv`, attention and `proj` for every padded token. A padded token's q/k/v is `qkv(0)` whatever
the image, so we project only the real tokens, fill the padding with `qkv(0)` (it still serves as
keys and values, exactly as in SAM), ask queries only at real tokens, and project back only the
real outputs.

Both are subclasses that add no parameters: `set_attention_backend` swaps the class of the
existing modules, so state_dict keys, LoRA layers injected into `attn.qkv`/`attn.proj`, and every
checkpoint stay as they are.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from segment_anything.modeling.image_encoder import Attention, Block, get_rel_pos
from torch import nn

ATTENTION_BACKENDS = ("sdpa", "reference")


def relative_position_bias(
    q: torch.Tensor,
    rel_pos_h: torch.Tensor,
    rel_pos_w: torch.Tensor,
    query_size: tuple[int, int],
    key_size: tuple[int, int] | None = None,
) -> torch.Tensor:
    """SAM's decomposed relative-position term as a (B, heads, Lq, Lk) additive attention mask.

    Args:
        q: (B, heads, Lq, head_dim) unscaled queries, Lq = query_size[0] * query_size[1].
        rel_pos_h, rel_pos_w: the block's relative-position tables (interpolated when the grid
            differs from the one they were trained for, as segment-anything does).
        query_size: the queries' grid; it is the top-left corner of the key grid (the real
            tokens of an edge window), or the whole of it.
        key_size: the keys' grid; None means query_size.
    """
    query_h, query_w = query_size
    key_h, key_w = key_size or query_size
    batch, heads, _, head_dim = q.shape
    grid_q = q.reshape(batch, heads, query_h, query_w, head_dim)
    table_h = get_rel_pos(key_h, key_h, rel_pos_h)[:query_h].to(q.dtype)  # (query_h, key_h, head_dim)
    table_w = get_rel_pos(key_w, key_w, rel_pos_w)[:query_w].to(q.dtype)
    rel_h = torch.einsum("bnhwc,hkc->bnhwk", grid_q, table_h)
    rel_w = torch.einsum("bnhwc,wkc->bnhwk", grid_q, table_w)
    # einsum returns permuted strides, and a broadcast add follows its inputs' layout: made
    # contiguous first (they are small), the (Lq, Lk) sum comes out contiguous and the reshape is
    # free instead of copying the largest tensor of the block once more.
    bias = rel_h.contiguous()[..., :, None] + rel_w.contiguous()[..., None, :]
    return bias.reshape(batch, heads, query_h * query_w, key_h * key_w)


class SdpaAttention(Attention):
    """segment-anything's `Attention` (same parameters) computed by scaled_dot_product_attention."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.attend(self.qkv(x)))

    def attend(self, qkv: torch.Tensor) -> torch.Tensor:
        """(B, H, W, 3*dim) projected tokens -> (B, H, W, dim) attention output, before `proj`."""
        batch, height, width, _ = qkv.shape
        q, k, v = qkv.reshape(batch, height * width, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        bias = None
        if self.use_rel_pos:
            bias = relative_position_bias(q, self.rel_pos_h, self.rel_pos_w, (height, width))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)  # default scale = head_dim**-0.5
        return out.transpose(1, 2).reshape(batch, height, width, -1)

    def attend_windows(self, qkv: torch.Tensor, window: int, padding: torch.Tensor | None) -> torch.Tensor:
        """SAM's windowed attention over (B, H, W, 3*dim) projected real tokens -> (B, H, W, dim).

        The grid is padded to whole windows with `padding` (the projection of a zero token, what
        SAM's zero-padded positions hold; needed only when H or W is not a multiple of `window`),
        which serves as keys and values as in SAM; queries are asked only at real tokens, so the
        edge windows' padded rows and columns cost no attention.
        """
        batch, height, width, channels = qkv.shape
        pad_h, pad_w = -height % window, -width % window
        if pad_h or pad_w:
            padded = padding.expand(batch, height + pad_h, width + pad_w, channels).contiguous()
            padded[:, :height, :width] = qkv
            qkv = padded
        rows, cols = qkv.shape[1] // window, qkv.shape[2] // window
        grid = qkv.view(batch, rows, window, cols, window, channels)
        # Windows fall in up to four groups by how many of their rows and columns are real.
        row_groups = _window_groups(rows, window, pad_h)
        col_groups = _window_groups(cols, window, pad_w)
        out_rows = []
        for row_slice, query_h in row_groups:
            out_cols = []
            for col_slice, query_w in col_groups:
                group = grid[:, row_slice, :, col_slice]  # (B, n_rows, window, n_cols, window, 3*dim)
                if group.numel():
                    out_cols.append(self._attend_window_group(group, query_h, query_w))
            if out_cols:
                out_rows.append(torch.cat(out_cols, dim=2))
        return torch.cat(out_rows, dim=1)

    def _attend_window_group(self, group: torch.Tensor, query_h: int, query_w: int) -> torch.Tensor:
        """(B, n_rows, window, n_cols, window, 3*dim) -> (B, n_rows*query_h, n_cols*query_w, dim)."""
        batch, n_rows, window, n_cols, _, channels = group.shape
        heads, dim = self.num_heads, channels // 3
        tokens = group.permute(0, 1, 3, 2, 4, 5).reshape(-1, window, window, 3, heads, dim // heads)
        q = tokens[:, :query_h, :query_w, 0].reshape(-1, query_h * query_w, heads, dim // heads).transpose(1, 2)
        k, v = tokens.flatten(1, 2)[:, :, 1:].permute(2, 0, 3, 1, 4).unbind(0)  # (windows, heads, window**2, hd)
        bias = None
        if self.use_rel_pos:
            sizes = (query_h, query_w), (window, window)
            bias = relative_position_bias(q, self.rel_pos_h, self.rel_pos_w, *sizes)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        out = out.transpose(1, 2).reshape(batch, n_rows, n_cols, query_h, query_w, dim)
        return out.permute(0, 1, 3, 2, 4, 5).reshape(batch, n_rows * query_h, n_cols * query_w, dim)


def _window_groups(count: int, window: int, pad: int) -> list[tuple[slice, int]]:
    """(windows, real rows in each) along one axis: the last window holds the padding."""
    if not pad:
        return [(slice(0, count), window)]
    return [(slice(0, count - 1), window), (slice(count - 1, count), window - pad)]


class SdpaBlock(Block):
    """segment-anything's `Block` (same parameters) that skips padded tokens in windowed attention."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.window_size == 0 or not isinstance(self.attn, SdpaAttention):
            return super().forward(x)
        shortcut = x
        x = self.norm1(x)
        padding = None
        if x.shape[1] % self.window_size or x.shape[2] % self.window_size:
            # SAM pads with zero tokens: their projection is qkv(0) (the bias, plus whatever an
            # adapter adds), computed in the graph so that its gradient matches SAM's too.
            padding = self.attn.qkv(x.new_zeros(1, 1, 1, x.shape[-1]))
        x = self.attn.attend_windows(self.attn.qkv(x), self.window_size, padding)
        x = shortcut + self.attn.proj(x)
        return x + self.mlp(self.norm2(x))


def _vit_blocks(model: nn.Module) -> nn.ModuleList:
    """The ViT blocks of a SamUNet (possibly wrapped by DDP, torch.compile or peft) or of an ImageEncoderViT."""
    if isinstance(getattr(model, "blocks", None), nn.ModuleList):
        return model.blocks
    return _samunet(model).image_encoder.blocks


def _samunet(model: nn.Module) -> nn.Module:
    from samunet_tune.strategies.parts import base_samunet

    return base_samunet(model)


def set_attention_backend(model: nn.Module, backend: str) -> nn.Module:
    """Choose how the ViT computes attention; parameters and state_dict keys do not change.

    Args:
        model: a SamUNet (or a wrapped one), or a segment-anything ImageEncoderViT. A SamUNet's
            `config.vit_attention` follows, so `save_pretrained` records the choice.
        backend: "sdpa" (fused scaled_dot_product_attention, padding skipped in windowed blocks)
            or "reference" (segment-anything's own modules).

    Returns:
        the same model, for chaining.
    """
    if backend not in ATTENTION_BACKENDS:
        raise ValueError(f"vit attention backend {backend!r} is not one of {ATTENTION_BACKENDS}")
    fast = backend == "sdpa"
    for block in _vit_blocks(model):
        if not isinstance(block, Block) or not isinstance(block.attn, Attention):
            raise TypeError(
                f"set_attention_backend expects segment-anything Blocks with an Attention, found "
                f"{type(block).__name__} with {type(getattr(block, 'attn', None)).__name__}"
            )
        block.__class__ = SdpaBlock if fast else Block
        block.attn.__class__ = SdpaAttention if fast else Attention
    if not isinstance(getattr(model, "blocks", None), nn.ModuleList):
        _samunet(model).config.vit_attention = backend
    return model


def attention_backend(model: nn.Module) -> str:
    """The backend `set_attention_backend` last set: "sdpa", "reference", or "mixed" if blocks differ."""
    fast = {isinstance(block.attn, SdpaAttention) for block in _vit_blocks(model)}
    return "mixed" if len(fast) > 1 else ("sdpa" if fast == {True} else "reference")
