"""Heatmap overlays for the leaderboard's gallery (Figure 1 of the paper), written into ``results/<name>/gallery``.

A frame of the clip in grey, the ground-truth mask's outline in yellow, and the attribution of that
frame over it: positive evidence in red, negative in blue, each scaled by the frame's largest
absolute attribution (so every method is shown at its own contrast).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from benchmark.atomic import atomic_write_json

OUTLINE = np.array([255, 221, 0], dtype=np.float64)
RED = np.array([230, 30, 30], dtype=np.float64)
BLUE = np.array([30, 80, 240], dtype=np.float64)


def gallery_frame(mask: np.ndarray) -> int:
    """The frame with the largest mask area, ``mask``: bool ``(T, H, W)`` (earliest on ties)."""
    areas = mask.reshape(mask.shape[0], -1).sum(1)
    return int(np.argmax(areas))


def _outline(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, border_value=0)


def render_input(frame: np.ndarray, mask: np.ndarray, scale: int = 3) -> Image.Image:
    """``frame`` uint8 ``(H, W)``, ``mask`` bool ``(H, W)`` -> RGB image with the mask outline."""
    rgb = np.repeat(frame[..., None].astype(np.float64), 3, axis=2)
    rgb[_outline(mask)] = OUTLINE
    return _upscale(rgb, scale)


def render_overlay(frame: np.ndarray, mask: np.ndarray, attribution: np.ndarray, scale: int = 3,
                   alpha: float = 0.75) -> Image.Image:
    """Frame + signed attribution ``(H, W)`` (red positive, blue negative) + mask outline."""
    grey = np.repeat(frame[..., None].astype(np.float64), 3, axis=2) * 0.6
    peak = float(np.max(np.abs(attribution))) if attribution.size else 0.0
    rgb = grey
    if peak > 0 and np.isfinite(peak):
        a = np.clip(attribution / peak, -1.0, 1.0)[..., None]
        pos, neg = np.clip(a, 0, 1) * alpha, np.clip(-a, 0, 1) * alpha
        rgb = grey * (1 - pos - neg) + RED * pos + BLUE * neg
    rgb[_outline(mask)] = OUTLINE
    return _upscale(rgb, scale)


def _upscale(rgb: np.ndarray, scale: int) -> Image.Image:
    img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    return img


def save_png(img: Image.Image, path: Path) -> None:
    img.save(path, format="PNG", optimize=True)


def write_gallery(folder: Path, frames: np.ndarray, masks: np.ndarray, clip_ids: Sequence[str],
                  attributions: Sequence[np.ndarray], k: int) -> None:
    """The first ``k`` clips' input and overlay PNGs and ``index.json`` into ``folder`` (created).

    ``frames`` uint8 ``(N, T, H, W)``, ``masks`` bool ``(N, T, H, W)``, ``attributions`` ``(T, H, W)`` each;
    each clip is shown at the frame with the largest mask (:func:`gallery_frame`).
    """
    folder.mkdir()
    index = []
    for i, (clip_id, attribution) in enumerate(list(zip(clip_ids, attributions))[:k]):
        t = gallery_frame(masks[i])
        stem = clip_id.replace("/", "_")
        save_png(render_input(frames[i, t], masks[i, t]), folder / f"{stem}_input.png")
        save_png(render_overlay(frames[i, t], masks[i, t], attribution[t]), folder / f"{stem}.png")
        index.append({"clip_id": clip_id, "frame": t, "input": f"{stem}_input.png", "overlay": f"{stem}.png"})
    atomic_write_json(folder / "index.json", index)
