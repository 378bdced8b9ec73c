"""The plan: every activation a window changes lies in the window's planned box, in every layer."""

from __future__ import annotations

import numpy as np
import torch

from benchmark.explain.engines.planning import make_plan, stop_costs
from benchmark.explain.engines.windows import occlusion_windows
from benchmark.model.graph import i3d_graph

NODES = ("Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2c_3x3", "Mixed_3b.b1b", "Mixed_3b.b3a", "Mixed_3b")


def _activations(net, x: torch.Tensor) -> dict[str, torch.Tensor]:
    modules = {name: net.get_submodule(name) for name in NODES}
    out: dict[str, torch.Tensor] = {}
    handles = [m.register_forward_hook(lambda m, a, o, name=name: out.__setitem__(name, o))
               for name, m in modules.items()]
    try:
        with torch.inference_mode():
            net(x)
    finally:
        for handle in handles:
            handle.remove()
    return out


def test_changed_activations_lie_in_the_planned_boxes(i3d64, occlusion_setting):
    s = occlusion_setting
    net = i3d64.net
    clip, baseline = s.clip.double(), s.baseline.double()
    boxes = occlusion_windows(s.shape[1:], (4, 5, 7), (4, 5, 7))
    plan = make_plan(i3d_graph(net), boxes, tuple(s.shape[1:]), stop="Mixed_3b")
    clean = _activations(net, clip)
    for k in (0, len(boxes) // 2 + 3, len(boxes) - 1):  # a corner, the middle, the cropped far corner
        (t0, t1), (h0, h1), (w0, w1) = boxes[k]
        occluded = clip.clone()
        occluded[:, :, t0:t1, h0:h1, w0:w1] = baseline[:, :, t0:t1, h0:h1, w0:w1]
        changed = _activations(net, occluded)
        for name in NODES:
            where = np.argwhere((changed[name] != clean[name]).any(dim=(0, 1)).numpy())
            assert len(where), f"window {k} changes nothing in {name}"
            lo, hi, start, size = plan.lo[name][k], plan.hi[name][k], plan.start[name][k], plan.size[name]
            assert (where >= lo).all() and (where < hi).all(), (name, k)
            assert (start <= lo).all() and (start + np.asarray(size) >= hi).all(), (name, k)


def test_stop_costs_trade_incremental_work_for_the_rest_of_the_network(i3d64, occlusion_setting):
    s = occlusion_setting
    layers = i3d_graph(i3d64.net)
    boxes = occlusion_windows(s.shape[1:], s.window, s.stride)
    costs = stop_costs(i3d64.net, layers, boxes, tuple(s.shape[1:]))
    assert list(costs) == [layer.name for layer in layers]
    partial = [p for p, _ in costs.values()]
    tail = [t for _, t in costs.values()]
    assert partial == sorted(partial) and tail == sorted(tail, reverse=True) and tail[-1] > 0
