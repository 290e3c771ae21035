"""Seeded phantom images: organ-like shapes with texture and noise, in CT, MR and endoscopy ranges.

Made by us, so the project has data to run on with no download and no licence question. Shapes
are ellipses whose radius is modulated by a few low harmonics of the angle (smooth, organ-like
outlines); texture is smoothed noise; intensities follow each modality: CT in HU as int16 (air
-1000, fat -100, liver ~65, spine ~450, enhancing lesion ~120), MR as float32 with a bias field and
Rician-like noise, endoscopy as RGB uint8 with mucosa colours, vignetting and specular spots.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import ndimage

MODALITY_CLASSES = {
    "ct": ("liver", "spleen", "lesion"),
    "mr": ("brain", "ventricle", "tumor"),
    "endoscopy": ("polyp",),
}


def blob(shape: tuple[int, int], rng: np.random.Generator, center: tuple[float, float],
         radii: tuple[float, float], wobble: float = 0.15) -> np.ndarray:
    """A smoothly deformed, rotated ellipse; centre and radii are fractions of the image size."""
    height, width = shape
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    dy, dx = yy - center[0] * height, xx - center[1] * width
    angle = rng.uniform(0, np.pi)
    u, v = dx * np.cos(angle) + dy * np.sin(angle), -dx * np.sin(angle) + dy * np.cos(angle)
    radius = np.hypot(u / max(radii[1] * width, 1.0), v / max(radii[0] * height, 1.0))
    theta = np.arctan2(v, u)
    boundary = np.ones_like(theta)
    for harmonic in (2, 3, 4):
        boundary += rng.uniform(-wobble, wobble) / harmonic * np.cos(harmonic * theta + rng.uniform(0, 2 * np.pi))
    mask = radius <= boundary
    if not mask.any():  # tiny images: keep at least the centre pixel
        mask[min(int(center[0] * height), height - 1), min(int(center[1] * width), width - 1)] = True
    return mask


def smooth_noise(shape: tuple[int, int], rng: np.random.Generator, scale: float) -> np.ndarray:
    """Zero-mean, unit-ish noise with features about `scale` pixels wide."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma=max(scale, 0.5))
    return field / (field.std() + 1e-6)


def _ct(shape, rng):
    body = blob(shape, rng, (0.5, 0.5), (0.42, 0.46), wobble=0.08)
    inner = ndimage.binary_erosion(body, iterations=max(1, shape[0] // 40))  # subcutaneous fat outside
    image = np.where(body, -100.0, -1000.0)
    image[inner] = -10 + 25 * smooth_noise(shape, rng, shape[0] / 30)[inner]  # fat and bowel mixture
    spine = blob(shape, rng, (0.78, 0.5), (0.06, 0.06), wobble=0.1) & inner
    image[spine] = 450.0
    masks = {}
    liver = blob(shape, rng, (rng.uniform(0.4, 0.5), rng.uniform(0.3, 0.38)), (0.2, 0.15)) & inner
    spleen = blob(shape, rng, (rng.uniform(0.4, 0.55), rng.uniform(0.66, 0.72)), (0.1, 0.07)) & inner
    image[liver] = 65 + 6 * smooth_noise(shape, rng, 3)[liver]
    image[spleen] = 50 + 6 * smooth_noise(shape, rng, 3)[spleen]
    masks["liver"], masks["spleen"] = liver, spleen
    if rng.random() < 0.6:
        ys, xs = np.nonzero(liver)
        pick = rng.integers(len(ys))
        lesion = blob(shape, rng, (ys[pick] / shape[0], xs[pick] / shape[1]), (0.04, 0.04), 0.25) & liver
        image[lesion] = 120 + 8 * smooth_noise(shape, rng, 2)[lesion]
        masks["lesion"] = lesion
    image += rng.normal(0, 12, shape)
    return np.clip(np.rint(image), -1024, 3071).astype(np.int16), masks


def _mr(shape, rng):
    head = blob(shape, rng, (0.5, 0.5), (0.42, 0.36), wobble=0.06)
    brain = ndimage.binary_erosion(head, iterations=max(1, shape[0] // 40))
    image = np.where(head, 250.0, 0.0) + np.where(brain, 150 + 25 * smooth_noise(shape, rng, shape[0] / 40), 0)
    ventricle = blob(shape, rng, (0.48, 0.5), (0.08, 0.05), wobble=0.3) & brain
    image[ventricle] = 120
    masks = {"brain": brain, "ventricle": ventricle}
    if rng.random() < 0.7:
        tumor = blob(shape, rng, (rng.uniform(0.35, 0.65), rng.uniform(0.32, 0.68)), (0.07, 0.07), 0.3) & brain
        image[tumor] = 620 + 40 * smooth_noise(shape, rng, 2)[tumor]
        masks["tumor"] = tumor & ~ventricle
    bias = 1.0 + 0.15 * smooth_noise(shape, rng, shape[0] / 4)
    noisy = np.hypot(image * bias + rng.normal(0, 12, shape), rng.normal(0, 12, shape))
    return noisy.astype(np.float32), masks


def _endoscopy(shape, rng):
    texture = smooth_noise(shape, rng, shape[0] / 25)
    colour = np.array([185, 95, 85], np.float32) + rng.uniform(-15, 15, 3)
    image = colour * (1 + 0.08 * texture[..., None])
    polyp = blob(shape, rng, (rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7)), (rng.uniform(0.08, 0.2),) * 2, 0.2)
    image[polyp] = np.array([210, 120, 100], np.float32) * (1 + 0.12 * smooth_noise(shape, rng, 2)[polyp, None])
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    vignette = 1 - 0.6 * (np.hypot(yy / shape[0] - 0.5, xx / shape[1] - 0.5) / 0.71) ** 2
    image = image * vignette[..., None] + rng.normal(0, 4, shape + (3,))
    spots = ndimage.binary_dilation(rng.random(shape) > 0.9995, iterations=1)
    image[spots] = 250
    return np.clip(np.rint(image), 0, 255).astype(np.uint8), {"polyp": polyp}


GENERATORS: dict[str, Callable] = {"ct": _ct, "mr": _mr, "endoscopy": _endoscopy}


def make_phantom(modality: str, shape: tuple[int, int],
                 rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(image, {class name: bool mask}) for one phantom; empty masks are left out."""
    if modality not in GENERATORS:
        raise ValueError(f"modality={modality!r}: expected one of {sorted(GENERATORS)}")
    image, masks = GENERATORS[modality](tuple(shape), rng)
    return image, {name: mask for name, mask in masks.items() if mask.any()}
