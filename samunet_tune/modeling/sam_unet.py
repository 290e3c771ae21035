"""SamUNet: SAM's frozen ViT with a parallel ResNet branch fused in, and a multi-scale decoder.

Data flow for an SxS image (S = 256 in the paper):

    image ─┬─ conv_branch ──> F1..F4 (S/4 .. S/32)
           │                    │ fusion[i] (added just before global block i)
           └─ image_encoder (SAM ViT) ──> tokens (S/16) ── neck ──> embedding (256, S/16)
                    │ after global blocks 0..2: bridges[i] ──┐
                    neck_upsampler(embedding) ───────────────┴─> multi-scale feature (32, S/4)
    prompts ── prompt_encoder ──> mask_decoder(embedding, multi-scale) ──> logits (1, S/4)

Module names are ours; `samunet_tune.convert` maps the reference checkpoint's names onto them.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import PyTorchModelHubMixin
from segment_anything.modeling import ImageEncoderViT, PromptEncoder, TwoWayTransformer
from torch import nn

from samunet_tune.modeling.attention import set_attention_backend
from samunet_tune.modeling.config import SamUNetConfig
from samunet_tune.modeling.conv_branch import ConvBranch
from samunet_tune.modeling.fusion import FeatureBridge, FusionAdapter, NeckUpsampler
from samunet_tune.modeling.mask_decoder import MaskDecoder
from samunet_tune.modeling.memory import run_checkpointed
from samunet_tune.modeling.prompts import Prompts
from samunet_tune.modeling.weights_io import hub_model_folder, load_state_dict_strict, resolve_weights_file

MODEL_CARD_TEMPLATE = """---
{{ card_data }}
---

# SAM-UNet

A [SAM-UNet](https://arxiv.org/abs/2408.09886v1) model saved with
[samunet-tune](https://pypi.org/project/samunet-tune/): Segment Anything's ViT with a parallel
ResNet branch fused before each global-attention block and a multi-scale mask decoder, for
promptable (box, points) medical image segmentation.

Research use only: not a medical device, not for clinical decisions.

```python
from samunet_tune import SamUNet, SamUNetPredictor
model = SamUNet.from_pretrained("{{ repo_id | default('path/to/folder', true) }}")
predictor = SamUNetPredictor(model)
```
"""


@dataclass
class ImageEncoding:
    """What the image side computes once per image and every prompt reuses.

    Args:
        embedding: (B, prompt_embed_dim, S/16, S/16) neck output.
        multi_scale: (B, feature_dim, S/4, S/4) neck upsampled + the three bridges.
    """

    embedding: torch.Tensor
    multi_scale: torch.Tensor

    def select(self, index: torch.Tensor) -> "ImageEncoding":
        return ImageEncoding(self.embedding[index], self.multi_scale[index])


class SamUNet(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="samunet-tune",
    pipeline_tag="image-segmentation",
    license="apache-2.0",
    tags=["medical-imaging", "segment-anything", "sam-unet"],
    paper_url="https://arxiv.org/abs/2408.09886v1",
    model_card_template=MODEL_CARD_TEMPLATE,
):
    """SAM-UNet. Build it with `samunet_tune.create_model(name)` or from a `SamUNetConfig`.

    Args:
        config: the architecture; a dict is accepted (that is how config.json comes back).
    """

    def __init__(self, config: SamUNetConfig | dict | None = None) -> None:
        super().__init__()
        if config is None:
            config = SamUNetConfig()
        elif isinstance(config, dict):
            config = SamUNetConfig.from_dict(config)
        self.config = config
        self._hub_mixin_config = config  # what save_pretrained writes to config.json

        grid = config.token_grid
        self.image_encoder = ImageEncoderViT(
            img_size=config.image_size,
            patch_size=config.patch_size,
            embed_dim=config.vit_embed_dim,
            depth=config.vit_depth,
            num_heads=config.vit_num_heads,
            mlp_ratio=config.vit_mlp_ratio,
            out_chans=config.prompt_embed_dim,
            qkv_bias=True,
            norm_layer=lambda dim: nn.LayerNorm(dim, eps=1e-6),
            use_rel_pos=True,
            window_size=config.vit_window_size,
            global_attn_indexes=tuple(config.vit_global_attn_indexes),
        )
        set_attention_backend(self.image_encoder, config.vit_attention)  # same weights either way
        self.activation_checkpointing = False  # samunet_tune.modeling.memory.set_activation_checkpointing
        self.conv_branch = ConvBranch(config.conv_branch)
        self.fusion = nn.ModuleList(
            FusionAdapter(stage, channels, config.vit_embed_dim)
            for stage, channels in enumerate(self.conv_branch.channels)
        )
        self.bridges = nn.ModuleList(
            FeatureBridge(config.vit_embed_dim, config.prompt_embed_dim, config.feature_dim) for _ in range(3)
        )
        self.neck_upsampler = NeckUpsampler(config.prompt_embed_dim, config.feature_dim)
        self.prompt_encoder = PromptEncoder(
            embed_dim=config.prompt_embed_dim,
            image_embedding_size=(grid, grid),
            input_image_size=(config.image_size, config.image_size),
            mask_in_chans=config.mask_in_chans,
        )
        self.mask_decoder = MaskDecoder(
            transformer_dim=config.prompt_embed_dim,
            transformer=TwoWayTransformer(
                depth=config.decoder_depth,
                embedding_dim=config.prompt_embed_dim,
                mlp_dim=config.decoder_mlp_dim,
                num_heads=config.decoder_num_heads,
            ),
            feature_dim=config.feature_dim,
        )

    # image side ---------------------------------------------------------------------------
    def encode_image(self, images: torch.Tensor) -> ImageEncoding:
        """Normalised (B, 3, S, S) images -> ImageEncoding (the cacheable image features)."""
        vit = self.image_encoder
        global_blocks = self.config.vit_global_attn_indexes
        conv_features = self.conv_branch(images)

        tokens = vit.patch_embed(images)  # (B, S/16, S/16, C), channels last as in SAM
        if vit.pos_embed is not None:
            tokens = tokens + vit.pos_embed
        multi_scale = None
        for index, block in enumerate(vit.blocks):
            if index in global_blocks:
                stage = global_blocks.index(index)
                tokens = tokens + self.fusion[stage](conv_features[stage]).permute(0, 2, 3, 1)
            tokens = run_checkpointed(block, tokens) if self.activation_checkpointing else block(tokens)
            if index in global_blocks[:3]:
                bridged = self.bridges[global_blocks.index(index)](tokens.permute(0, 3, 1, 2))
                multi_scale = bridged if multi_scale is None else multi_scale + bridged
        embedding = vit.neck(tokens.permute(0, 3, 1, 2))
        multi_scale = self.neck_upsampler(embedding) + multi_scale
        return ImageEncoding(embedding=embedding, multi_scale=multi_scale)

    # prompt side --------------------------------------------------------------------------
    def decode(self, encoding: ImageEncoding, prompts: Prompts) -> torch.Tensor:
        """Low-res (N, 1, S/4, S/4) logits for N prompts over already-encoded images."""
        image_index = prompts.resolve_image_index(encoding.embedding.shape[0])
        points = None if prompts.points is None else (prompts.points, prompts.point_labels)
        sparse, dense = self.prompt_encoder(points=points, boxes=prompts.boxes, masks=prompts.masks)
        if sparse.dtype != encoding.embedding.dtype:
            sparse, dense = sparse.to(encoding.embedding.dtype), dense.to(encoding.embedding.dtype)
        selected = encoding.select(image_index)
        return self.mask_decoder(
            image_embeddings=selected.embedding,
            image_pe=self.prompt_encoder.get_dense_pe().to(selected.embedding.dtype),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multi_scale_features=selected.multi_scale,
        )

    def forward(self, images: "torch.Tensor | ImageEncoding", prompts: Prompts) -> torch.Tensor:
        """Training forward (with gradients, unlike segment-anything's `Sam.forward`).

        Args:
            images: (B, 3, S, S) normalised images (see `samunet_tune.modeling.transforms`), or
                an ImageEncoding computed earlier (the feature cache passes those, through the
                same forward so DDP and peft wrappers see a normal call).
            prompts: N prompts, any number per image, in the model frame.

        Returns:
            (N, 1, S/4, S/4) mask logits.
        """
        if isinstance(images, ImageEncoding):
            return self.decode(images, prompts)
        prompts.resolve_image_index(images.shape[0])  # fail before the expensive encoder
        return self.decode(self.encode_image(images), prompts)

    # hub ----------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | Path,
        *,
        revision: str | None = None,
        cache_dir: str | Path | None = None,
        force_download: bool = False,
        local_files_only: bool = False,
        token: str | bool | None = None,
        **kwargs: Any,
    ) -> "SamUNet":
        """Load a `save_pretrained` folder or a Hub repo id, strictly, in eval mode.

        Every tensor must match: a missing or unexpected key is an error, not a partial load.
        A repo id (`revision`: branch, tag or commit) is read from the Hugging Face cache when
        HF_HUB_OFFLINE is set; with no cached copy, or no network, a HubUnavailableError says so
        at once. LoRA adapters (folders or repos) load with `samunet_tune.hub.load_pretrained`.
        """
        folder = Path(pretrained_model_name_or_path)
        if not folder.is_dir():
            folder = hub_model_folder(
                str(pretrained_model_name_or_path),
                revision=revision,
                cache_dir=cache_dir,
                force_download=force_download,
                local_files_only=local_files_only,
                token=token,
            )
        if (folder / "adapter_config.json").is_file():
            raise ValueError(
                f"{pretrained_model_name_or_path} holds LoRA adapter files, not a full model: load it with its "
                f"base model by samunet_tune.hub.load_pretrained({str(pretrained_model_name_or_path)!r}), "
                "or merge it first"
            )
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(
                f"{folder / 'config.json'} is missing: {folder} is not a save_pretrained folder "
                "(it needs config.json and model.safetensors)"
            )
        # A local folder from here on: the mixin reads config.json, _from_pretrained the weights.
        return super().from_pretrained(folder, **kwargs)

    @classmethod
    def _from_pretrained(
        cls,
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        map_location: str = "cpu",
        **model_kwargs: Any,
    ) -> "SamUNet":
        weights_file = resolve_weights_file(
            model_id,
            revision=revision,
            cache_dir=cache_dir,
            force_download=force_download,
            local_files_only=local_files_only,
            token=token,
        )
        model = cls(**model_kwargs)
        load_state_dict_strict(model, weights_file, device=map_location)
        return model.eval()

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)
