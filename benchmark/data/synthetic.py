"""A synthetic stand-in for UCSD Ped2, written in the official layout.

The scene is a fixed camera over a walkway (textured paving, lawns with a curb, benches, a lamp
post, a wall at the top). Pedestrians (a head, a body and swinging legs, 8-14 px tall at 120 rows,
larger nearer the camera) walk slowly in varied directions, enter and leave; sensor noise and a
slight flicker are added per frame. ``Train`` videos hold only that normal motion. In ``Test``
videos anomalies come and go: a cyclist or a skater (pedestrian-sized, 3-5x faster) or a cart
(clearly larger, moving steadily). Each anomaly is drawn on top of everything, and its exact
footprint in every frame where it is visible is written as the pixel mask; the frame labels in
``UCSDped2.m`` are exactly the frames with a non-empty mask. Everything follows from ``seed``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from benchmark.data._fs import replace_dir, staging_dir
from benchmark.data.labels import format_gt_file
from benchmark.data.ucsd import TOP

GENERATOR_VERSION = 2
"""Bumped whenever the generated pixels change for the same parameters."""
_KINDS = ("cyclist", "skater", "cart")
_KIND_P = (0.45, 0.25, 0.30)
_HALF_WIDTH = {"pedestrian": 0.25, "skater": 0.3, "cyclist": 0.62, "cart": 1.6}
"""Half the width of each kind of actor, in units of its height."""


@dataclass(frozen=True)
class _Actor:
    """One moving object; ``(x, y)`` is the centre of its feet at frame ``t0``; speeds are px/frame."""

    kind: str
    x: float
    y: float
    vx: float
    vy: float
    t0: int
    height: float
    body: float
    head: float
    legs: float
    phase: float

    def position(self, t: int) -> tuple[float, float]:
        dt = t - self.t0
        return self.x + self.vx * dt, self.y + self.vy * dt

    @property
    def half_width(self) -> float:
        return _HALF_WIDTH[self.kind] * self.height

    def visible_span(self, width: int) -> tuple[float, float]:
        """Frames ``[first, last]`` (real-valued) during which the box overlaps ``[0, width)`` in x."""
        if abs(self.vx) < 1e-9:
            return -math.inf, math.inf
        a = (-self.half_width - self.x) / self.vx + self.t0
        b = (width + self.half_width - self.x) / self.vx + self.t0
        return min(a, b), max(a, b)


@dataclass(frozen=True)
class _Scene:
    height: int
    width: int
    background: np.ndarray  # float32 (H, W)
    walk_top: float  # foot y range of the walkway
    walk_bottom: float

    @property
    def scale(self) -> float:
        return self.height / 120.0


def write_synthetic(
    root: Path,
    *,
    seed: int,
    height: int = 120,
    width: int = 180,
    train_videos: int = 8,
    test_videos: int = 14,
    frames_per_video: int = 100,
    scene: str = "UCSDped2",
) -> Path:
    """Write a synthetic scene in the official UCSD layout under ``root``.

    Writes ``root/UCSD_Anomaly_Dataset.v1p2/<scene>/Train/TrainNNN/NNN.tif``,
    ``Test/TestNNN/NNN.tif``, ``Test/TestNNN_gt/NNN.bmp`` (0/255) and ``Test/<scene>.m``, building
    everything in a temporary folder and moving it into place at the end (an existing
    ``UCSD_Anomaly_Dataset.v1p2`` under ``root`` is replaced).

    Args:
        root: folder that receives ``UCSD_Anomaly_Dataset.v1p2``.
        seed: the only source of randomness.
        height, width: frame size in pixels (at least 48 x 64).
        train_videos: normal-only videos.
        test_videos: videos with anomalies for part of their length, with pixel masks.
        frames_per_video: ``T`` of every video (at least 20).
        scene: scene folder name.

    Returns:
        ``root / "UCSD_Anomaly_Dataset.v1p2"``.
    """
    if height < 48 or width < 64:
        raise ValueError(
            f"height, width = {height}, {width}: the synthetic scene needs at least 48 x 64 pixels."
        )
    if frames_per_video < 20:
        raise ValueError(f"frames_per_video = {frames_per_video}: at least 20 (one clip) are needed.")
    if train_videos < 0 or test_videos < 1:
        raise ValueError(f"train_videos = {train_videos}, test_videos = {test_videos}: need >= 0 and >= 1.")
    root = Path(root)
    seq = np.random.SeedSequence(int(seed))
    scene_seq, train_seq, test_seq = seq.spawn(3)
    layout = _make_scene(np.random.default_rng(scene_seq), height, width)
    with staging_dir(root / TOP) as tmp:
        top = tmp / TOP
        base = top / scene
        for i, child in enumerate(train_seq.spawn(train_videos), start=1):
            frames, _ = _render_video(layout, np.random.default_rng(child), frames_per_video, anomalies=False)
            _write_frames(base / "Train" / f"Train{i:03d}", frames)
        labels: list[list[int]] = []
        for i, child in enumerate(test_seq.spawn(test_videos), start=1):
            frames, masks = _render_video(
                layout, np.random.default_rng(child), frames_per_video, anomalies=True
            )
            _write_frames(base / "Test" / f"Test{i:03d}", frames)
            _write_masks(base / "Test" / f"Test{i:03d}_gt", masks)
            labels.append([t + 1 for t in range(frames_per_video) if masks[t].any()])
        (base / "Test" / f"{scene}.m").write_text(format_gt_file(labels))
        (top / "README.txt").write_text(
            "Synthetic UCSD-like data written by benchmark.data.synthetic (not the UCSD dataset).\n"
            + json.dumps(
                {
                    "generator_version": GENERATOR_VERSION,
                    "seed": int(seed),
                    "height": height,
                    "width": width,
                    "train_videos": train_videos,
                    "test_videos": test_videos,
                    "frames_per_video": frames_per_video,
                    "scene": scene,
                },
                sort_keys=True,
            )
            + "\n"
        )
        replace_dir(top, root / TOP)
    return root / TOP


def _write_frames(folder: Path, frames: np.ndarray) -> None:
    folder.mkdir(parents=True)
    for t, frame in enumerate(frames, start=1):
        Image.fromarray(frame).save(folder / f"{t:03d}.tif")


def _write_masks(folder: Path, masks: np.ndarray) -> None:
    folder.mkdir(parents=True)
    for t, mask in enumerate(masks, start=1):
        Image.fromarray(mask.astype(np.uint8) * 255).save(folder / f"{t:03d}.bmp")


# ----------------------------------------------------------------------------------- the scene


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return (field / (field.std() + 1e-9)).astype(np.float32)


def _make_scene(rng: np.random.Generator, h: int, w: int) -> _Scene:
    s = h / 120.0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bg = 150 + 9 * _smooth_noise(rng, (h, w), 5 * s) + 3 * rng.standard_normal((h, w)).astype(np.float32)
    # Paving joints, converging slightly towards the top (a hint of perspective).
    spacing = 14 * s
    xs = (xx - w / 2) * (0.8 + 0.4 * yy / h)
    bg -= 9 * (np.abs(((xs / spacing) % 1.0) - 0.5) > 0.46)
    bg -= 7 * (np.abs(((yy / (9 * s)) % 1.0) - 0.5) > 0.45)
    # Lawns above and below the walkway, with a bright curb; the upper edge undulates.
    top_edge = (0.26 + 0.03 * np.sin(xx / (23 * s) + rng.uniform(0, 6.28))) * h
    bottom_edge = 0.9 * h + 2 * s * np.sin(xx / (31 * s))
    lawn_tex = (
        88 + 10 * _smooth_noise(rng, (h, w), 2 * s) + 8 * rng.standard_normal((h, w)).astype(np.float32)
    )
    lawn = (yy < top_edge) | (yy > bottom_edge)
    bg = np.where(lawn, lawn_tex, bg)
    curb = (np.abs(yy - top_edge) < 1.2 * s) | (np.abs(yy - bottom_edge) < 1.0 * s)
    bg = np.where(curb, 195, bg)
    # A wall with windows along the top.
    wall = yy < 0.09 * h
    bg = np.where(wall, 172 + 4 * _smooth_noise(rng, (h, w), 3 * s), bg)
    windows = wall & (yy > 0.02 * h) & (yy < 0.065 * h) & ((xx // (12 * s)) % 2 == 0)
    bg = np.where(windows, 70, bg)
    # Benches on the upper lawn, a lamp post, a bush on the lower lawn.
    for _ in range(2):
        bx = rng.uniform(0.1, 0.8) * w
        by = rng.uniform(0.14, 0.2) * h
        bench = (np.abs(xx - bx) < 10 * s) & (np.abs(yy - by) < 2.2 * s)
        bg = np.where(bench, 55, bg)
        bg = np.where(bench & (np.abs(yy - by) < 0.6 * s), 120, bg)
    lx = rng.uniform(0.2, 0.9) * w
    bg = np.where((np.abs(xx - lx) < 1.0 * s) & (yy > 0.06 * h) & (yy < 0.28 * h), 60, bg)
    bx, by = rng.uniform(0.1, 0.9) * w, 0.97 * h
    bg = np.where(((xx - bx) / (14 * s)) ** 2 + ((yy - by) / (6 * s)) ** 2 < 1, 45, bg)
    return _Scene(h, w, bg.astype(np.float32), walk_top=0.33 * h, walk_bottom=0.88 * h)


# ----------------------------------------------------------------------------------- actors


def _perspective(scene: _Scene, y: float) -> float:
    """Size factor at foot row ``y``: 0.8 at the top of the walkway, 1.2 at its bottom."""
    return 0.8 + 0.4 * (y - scene.walk_top) / (scene.walk_bottom - scene.walk_top)


def _contrast_intensity(rng: np.random.Generator, *, strong: bool = False) -> float:
    """A clothing gray level: pedestrians differ from the paving (about 150) by 30-100 levels, anomalies
    (``strong``) by 115-140."""
    if strong:
        return float(rng.uniform(10, 35) if rng.random() < 0.6 else rng.uniform(225, 250))
    return float(rng.uniform(45, 110) if rng.random() < 0.6 else rng.uniform(180, 215))


def _pedestrian(scene: _Scene, rng: np.random.Generator, t0: int, *, enter: bool) -> _Actor:
    s = scene.scale
    y = float(rng.uniform(scene.walk_top, scene.walk_bottom))
    speed = float(rng.uniform(0.3, 0.75)) * s
    if rng.random() < 0.1:
        speed *= 0.15  # someone standing or strolling
    angle = float(rng.normal(0, 0.3)) if rng.random() < 0.8 else float(rng.uniform(-0.9, 0.9))
    direction = 1.0 if rng.random() < 0.5 else -1.0
    vx, vy = direction * speed * math.cos(angle), speed * math.sin(angle) * 0.6
    height = float(rng.uniform(9.0, 12.5)) * s * _perspective(scene, y)
    if enter:
        x = -0.3 * height if direction > 0 else scene.width + 0.3 * height
    else:
        x = float(rng.uniform(0, scene.width))
    return _Actor(
        "pedestrian",
        x,
        y,
        vx,
        vy,
        t0,
        height,
        _contrast_intensity(rng),
        float(rng.uniform(40, 200)),
        float(rng.uniform(20, 110)),
        float(rng.uniform(0, 6.28)),
    )


def _anomaly(scene: _Scene, rng: np.random.Generator, t0: int, *, inside: bool) -> _Actor:
    s = scene.scale
    kind = str(rng.choice(_KINDS, p=_KIND_P))
    y = float(rng.uniform(scene.walk_top + 4 * s, scene.walk_bottom))
    p = _perspective(scene, y)
    if kind == "cart":
        speed = float(rng.uniform(0.9, 1.4)) * s
        height = float(rng.uniform(16.0, 19.0)) * s * p
    else:
        speed = float(rng.uniform(2.0, 2.8)) * s  # 3.5-5x a pedestrian's typical 0.55 px/frame
        height = float(rng.uniform(12.5, 15.0)) * s * p
    direction = 1.0 if rng.random() < 0.5 else -1.0
    vx = direction * speed
    vy = float(rng.uniform(-0.08, 0.08)) * speed
    half = _HALF_WIDTH[kind] * height
    if inside:
        x = float(rng.uniform(0.15, 0.85)) * scene.width
    else:
        x = -half if direction > 0 else scene.width + half
    body = _contrast_intensity(rng, strong=True)
    return _Actor(
        kind,
        x,
        y,
        vx,
        vy,
        t0,
        height,
        body,
        float(rng.uniform(40, 200)),
        float(rng.uniform(20, 80)),
        float(rng.uniform(0, 6.28)),
    )


def _cast(
    scene: _Scene, rng: np.random.Generator, n_frames: int, anomalies: bool
) -> tuple[list[_Actor], list[_Actor]]:
    people = [_pedestrian(scene, rng, 0, enter=False) for _ in range(int(rng.integers(2, 6)))]
    rate = 0.05
    for t in range(n_frames):
        if rng.random() < rate:
            people.append(_pedestrian(scene, rng, t, enter=True))
    events: list[_Actor] = []
    if anomalies:
        # Normal at first for 10-45 % of the video (or an anomaly already in view); after each
        # anomaly leaves, either the video stays normal or the next one comes 10-40 frames later.
        inside = rng.random() < 0.2
        t = 0 if inside else int(rng.integers(int(0.1 * n_frames), int(0.45 * n_frames) + 1))
        while t < n_frames:
            actor = _anomaly(scene, rng, t, inside=inside)
            events.append(actor)
            if rng.random() < 0.3:
                break
            _, last = actor.visible_span(scene.width)
            t = max(int(math.ceil(last)), actor.t0 + 10) + int(rng.integers(10, 41))
            inside = False
    return people, events


# ----------------------------------------------------------------------------------- drawing


def _box(scene: _Scene, x: float, y: float, half_w: float, height: float) -> tuple[slice, slice] | None:
    x0, x1 = int(math.floor(x - half_w)) - 1, int(math.ceil(x + half_w)) + 2
    y0, y1 = int(math.floor(y - height)) - 1, int(math.ceil(y)) + 2
    x0, x1 = max(x0, 0), min(x1, scene.width)
    y0, y1 = max(y0, 0), min(y1, scene.height)
    if x0 >= x1 or y0 >= y1:
        return None
    return slice(y0, y1), slice(x0, x1)


def _layers(
    actor: _Actor, t: int, yy: np.ndarray, xx: np.ndarray, x: float, y: float
) -> list[tuple[np.ndarray, float]]:
    """The actor's shapes at frame ``t`` as (boolean coverage, intensity), back to front."""
    h = actor.height
    direction = 1.0 if actor.vx >= 0 else -1.0

    def ellipse(cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
        return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0

    def rect(top: float, bottom: float, left: float, right: float) -> np.ndarray:
        return (yy >= top) & (yy < bottom) & (xx >= left) & (xx < right)

    if actor.kind == "cart":
        length, body_h = 3.2 * h, 0.75 * h
        top = y - body_h - 0.18 * h
        shell = rect(top, y - 0.18 * h, x - length / 2, x + length / 2)
        cabin = rect(
            top + 0.12 * h,
            top + 0.4 * h,
            x + direction * 0.35 * length - 0.3 * h,
            x + direction * 0.35 * length + 0.3 * h,
        )
        wheels = ellipse(y - 0.18 * h, x - 0.32 * length, 0.18 * h, 0.18 * h) | ellipse(
            y - 0.18 * h, x + 0.32 * length, 0.18 * h, 0.18 * h
        )
        return [(shell, actor.body), (cabin, 255.0 - actor.body), (wheels, 30.0)]

    head_r = max(0.13 * h, 0.9)
    if actor.kind == "cyclist":
        wheel_r = 0.22 * h
        wheels = ellipse(y - wheel_r, x - 0.38 * h, wheel_r, wheel_r) | ellipse(
            y - wheel_r, x + 0.38 * h, wheel_r, wheel_r
        )
        frame = rect(y - 0.5 * h, y - 0.38 * h, x - 0.38 * h, x + 0.38 * h)
        torso = ellipse(y - 0.68 * h, x + direction * 0.05 * h, 0.2 * h, 0.17 * h)
        head = ellipse(y - h + head_r, x + direction * 0.12 * h, head_r, head_r)
        return [(wheels, 35.0), (frame, actor.legs), (torso, actor.body), (head, actor.head)]

    swing = (
        0.0
        if actor.kind == "skater"
        else math.sin(actor.phase + 2.2 * abs(t - actor.t0) * math.hypot(actor.vx, actor.vy) / h * 2)
    )
    leg_w = max(0.12 * h, 0.8)
    legs = rect(y - 0.36 * h, y, x - leg_w - 0.1 * h * swing, x - 0.1 * h * swing) | rect(
        y - 0.36 * h, y, x + 0.1 * h * swing, x + leg_w + 0.1 * h * swing
    )
    lean = direction * 0.08 * h if actor.kind == "skater" else 0.0
    torso = ellipse(y - 0.58 * h, x + lean, 0.25 * h, 0.19 * h)
    head = ellipse(y - h + head_r, x + 1.5 * lean, head_r, head_r)
    return [(legs, actor.legs), (torso, actor.body), (head, actor.head)]


def _draw(scene: _Scene, canvas: np.ndarray, actor: _Actor, t: int, mask: np.ndarray | None) -> None:
    x, y = actor.position(t)
    box = _box(scene, x, y, actor.half_width + 1, actor.height * 1.05)
    if box is None:
        return
    ys, xs = box
    yy = np.arange(ys.start, ys.stop, dtype=np.float32)[:, None] + 0.5
    xx = np.arange(xs.start, xs.stop, dtype=np.float32)[None, :] + 0.5
    patch = canvas[ys, xs]
    covered = np.zeros(patch.shape, dtype=bool)
    for shape, value in _layers(actor, t, yy, xx, x, y):
        patch[shape] = value
        covered |= shape
    if mask is not None:
        mask[ys, xs] |= covered


def _render_video(
    scene: _Scene, rng: np.random.Generator, n_frames: int, *, anomalies: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``uint8 (T, H, W)`` and anomaly masks ``bool (T, H, W)`` of one video."""
    people, events = _cast(scene, rng, n_frames, anomalies)
    gain = 1.0 + 0.01 * np.cumsum(rng.normal(0, 0.3, n_frames)).clip(-3, 3)
    offset = float(rng.uniform(-6, 6))
    frames = np.empty((n_frames, scene.height, scene.width), dtype=np.uint8)
    masks = np.zeros((n_frames, scene.height, scene.width), dtype=bool)
    for t in range(n_frames):
        canvas = scene.background.copy()
        for actor in people:
            if actor.t0 <= t:
                _draw(scene, canvas, actor, t, None)
        for actor in events:
            if actor.t0 <= t:
                _draw(scene, canvas, actor, t, masks[t])
        noisy = canvas * gain[t] + offset + rng.normal(0, 3.0, canvas.shape).astype(np.float32)
        frames[t] = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
    return frames, masks
