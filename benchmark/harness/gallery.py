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


def gallery_clips(videos: Sequence[str], masks: np.ndarray, p_clip: Sequence[float], k: int) -> list[int]:
    """Which evaluation clips the gallery shows (the same for every submission): evidence from several videos.

    For each video, the clip with the largest total mask area (earliest on ties); the ``k`` videos whose chosen
    clip has the largest areas, in evaluation order. When the model detects every chosen clip
    (``p(anomalous) >= 0.5``) but misses some evaluation clip, the last pick gives way to the missed clip with
    the largest mask: the page then also shows what the explanations look like where the model is wrong.

    Args:
        videos: the video of each evaluation clip ``(N,)``.
        masks: bool ``(N, T, H, W)``.
        p_clip: the model's p(anomalous) of each clip ``(N,)``.
        k: how many clips (``evaluate.gallery_clips``).
    """
    areas = masks.reshape(len(masks), -1).sum(1)
    best: dict[str, int] = {}
    for i, video in enumerate(videos):
        if video not in best or areas[i] > areas[best[video]]:
            best[video] = i
    chosen = sorted(sorted(best.values(), key=lambda i: (-areas[i], i))[:k])
    p = np.asarray(p_clip, dtype=float)
    missed = [i for i in np.argsort(-areas, kind="stable") if p[i] < 0.5]
    if chosen and missed and all(p[i] >= 0.5 for i in chosen):
        chosen = sorted(chosen[:-1] + [int(missed[0])]) if int(missed[0]) not in chosen else chosen
    return [int(i) for i in chosen]


def write_gallery(folder: Path, frames: np.ndarray, masks: np.ndarray, clip_ids: Sequence[str],
                  attributions: Sequence[np.ndarray], chosen: Sequence[int]) -> None:
    """The ``chosen`` clips' input and overlay PNGs, their raw arrays and ``index.json`` into ``folder`` (created).

    ``frames`` uint8 ``(N, T, H, W)``, ``masks`` bool ``(N, T, H, W)``, ``attributions`` ``(T, H, W)`` each;
    each clip is shown at the frame with the largest mask (:func:`gallery_frame`). The ``.npz`` of an entry
    (``raw``, :data:`benchmark.results.GALLERY_RAW_KEYS`) holds that frame, its mask and the scored map
    ``E[t] / max(E)`` (``E = clip(A, 0)``, the maximum over the whole clip), so that the page can draw every
    method of a clip on one colour scale.
    """
    folder.mkdir()
    index = []
    for i in chosen:
        clip_id, attribution = clip_ids[i], attributions[i]
        t = gallery_frame(masks[i])
        stem = clip_id.replace("/", "_")
        save_png(render_input(frames[i, t], masks[i, t]), folder / f"{stem}_input.png")
        save_png(render_overlay(frames[i, t], masks[i, t], attribution[t]), folder / f"{stem}.png")
        scored = np.maximum(attribution, 0.0)
        top = float(scored.max())
        np.savez_compressed(folder / f"{stem}.npz", frame=frames[i, t].astype(np.uint8),
                            mask=masks[i, t].astype(bool),
                            scored=(scored[t] / top if top > 0 else np.zeros_like(scored[t])).astype(np.float32))
        index.append({"clip_id": clip_id, "frame": t, "input": f"{stem}_input.png", "overlay": f"{stem}.png",
                      "raw": f"{stem}.npz"})
    atomic_write_json(folder / "index.json", index)
