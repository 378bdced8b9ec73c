"""Time a forward+backward pass of the I3D with and without the polyphase input gradient of its first convolution.

    python scripts/bench_first_conv.py                          # the default profile's network (width 0.25)
    python scripts/bench_first_conv.py --checkpoint models/model.pt --batches 1 8 16

Prints, per batch size and memory layout, the best of ``--repeats`` timings of one forward+backward pass
per sample (gradient with respect to a grey clip, the weights frozen, as an explainer runs it) with autograd's
own convolution backward and with :mod:`benchmark.model.polyphase`, their ratio and the largest difference
of the input gradients relative to their largest magnitude. A benchmark script, not a test: the figures
depend on the machine.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from benchmark.model.checkpoint import load_checkpoint
from benchmark.model.i3d import ANOMALOUS, build_model


def _best(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", help="a trained checkpoint (default: a width-0.25 I3D, seed 0)")
    ap.add_argument("--grid", type=int, nargs=3, default=(20, 48, 72), metavar=("T", "H", "W"))
    ap.add_argument("--batches", type=int, nargs="+", default=(1, 8, 16))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    net = load_checkpoint(args.checkpoint)[0] if args.checkpoint else build_model(0.25, seed=0)
    net.eval().requires_grad_(False)
    first = net.Conv3d_1a_7x7.conv
    gen = torch.Generator().manual_seed(0)
    model = f"checkpoint {args.checkpoint}" if args.checkpoint else "width 0.25"
    print(f"threads {args.threads}, grid {tuple(args.grid)}, {model}")
    print(f"{'batch':>5} {'layout':>13} {'autograd ms/sample':>19} {'polyphase ms/sample':>20} {'speed-up':>8} "
          f"{'rel. diff':>9}")
    for batch in args.batches:
        for layout in (torch.contiguous_format, torch.channels_last_3d):
            grey = torch.rand(batch, 1, *args.grid, generator=gen) * 2 - 1
            x = grey.expand(-1, 3, -1, -1, -1).contiguous(memory_format=layout)

            def step(x: torch.Tensor = x) -> torch.Tensor:
                xx = x.clone().requires_grad_(True)
                net(xx)[:, ANOMALOUS].sum().backward()
                return xx.grad

            fast = step()
            t_fast = _best(step, args.repeats)
            # autograd's own backward of the same frozen convolution (input gradient only)
            first.forward = lambda t: F.conv3d(t, first.weight, stride=first.stride)
            try:
                slow = step()
                t_slow = _best(step, args.repeats)
            finally:
                del first.forward
            diff = float((fast - slow).abs().max() / slow.abs().max())
            name = "channels-last" if layout == torch.channels_last_3d else "contiguous"
            print(f"{batch:>5} {name:>13} {1000 * t_slow / batch:>19.1f} {1000 * t_fast / batch:>20.1f} "
                  f"{t_slow / t_fast:>7.2f}x {diff:>9.1e}")


if __name__ == "__main__":
    main()
