"""Time the eval-mode I3D on its folded path (BatchNorm folded into each convolution) against module by module.

    python scripts/bench_folded_units.py                          # the default profile's network (width 0.25)
    python scripts/bench_folded_units.py --checkpoint models/model.pt --batches 1 16

Prints, per batch size, the best of ``--repeats`` timings per sample of three passes an evaluation runs, with
the weights frozen: a forward pass on grey clips without gradients (the scoring and the perturbation
explainers), and a forward+backward pass to the input on grey and on colour clips (the gradient explainers;
colour stands for noisy inputs such as SmoothGrad's). The module-by-module figure is the same network with a
no-op hook on every BatchNorm, which makes each unit run its modules one by one (``Unit3D.folded``). The last
column is the largest output or gradient difference relative to the largest magnitude. A benchmark script,
not a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator

import torch
from torch import nn

from benchmark.model.checkpoint import load_checkpoint
from benchmark.model.i3d import ANOMALOUS, build_model


def _best(fn: Callable[[], torch.Tensor], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@contextlib.contextmanager
def _module_by_module(net: nn.Module) -> Iterator[None]:
    handles = [m.register_forward_pre_hook(lambda mod, args: None)
               for m in net.modules() if isinstance(m, nn.BatchNorm3d)]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", help="a trained checkpoint (default: a width-0.25 I3D, seed 0)")
    ap.add_argument("--grid", type=int, nargs=3, default=(20, 48, 72), metavar=("T", "H", "W"))
    ap.add_argument("--batches", type=int, nargs="+", default=(1, 16))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    net = load_checkpoint(args.checkpoint)[0] if args.checkpoint else build_model(0.25, seed=0)
    net.eval().requires_grad_(False)
    gen = torch.Generator().manual_seed(0)
    model = f"checkpoint {args.checkpoint}" if args.checkpoint else "width 0.25"
    print(f"threads {args.threads}, grid {tuple(args.grid)}, {model}, channels-last input")
    print(f"{'batch':>5} {'pass':>22} {'modules ms/sample':>18} {'folded ms/sample':>17} {'speed-up':>8} "
          f"{'rel. diff':>9}")
    for batch in args.batches:
        grey = (torch.rand(batch, 1, *args.grid, generator=gen) * 2 - 1).expand(-1, 3, -1, -1, -1)
        colour = torch.rand(batch, 3, *args.grid, generator=gen) * 2 - 1
        passes: dict[str, Callable[[], torch.Tensor]] = {}
        for label, clips in (("grey", grey), ("colour", colour)):
            x = clips.contiguous(memory_format=torch.channels_last_3d)

            def backward(x: torch.Tensor = x) -> torch.Tensor:
                xx = x.clone().requires_grad_(True)
                net(xx)[:, ANOMALOUS].sum().backward()
                return xx.grad

            if label == "grey":
                passes["forward, grey"] = lambda x=x: net(x)
            passes[f"forward+backward, {label}"] = backward
        for label, fn in passes.items():
            grad = "backward" in label
            context = contextlib.nullcontext() if grad else torch.inference_mode()
            with context:
                folded, fast = _best(fn, args.repeats), fn()
                with _module_by_module(net):
                    plain, ref = _best(fn, args.repeats), fn()
            diff = float((fast - ref).abs().max() / ref.abs().max().clamp_min(1e-30))
            print(f"{batch:>5} {label:>22} {1e3 * plain / batch:>18.2f} {1e3 * folded / batch:>17.2f} "
                  f"{plain / folded:>7.2f}x {diff:>9.1e}")


if __name__ == "__main__":
    main()
