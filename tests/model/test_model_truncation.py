"""Truncated I3D (final_endpoint) and the max pool head."""
import pytest
import torch

from benchmark.model.checkpoint import REQUIRED_META, load_checkpoint, save_checkpoint
from benchmark.model.i3d import ENDPOINTS, I3D, build_model
from benchmark.model.weights import init_from_pretrained


@pytest.mark.parametrize("end", ["Conv3d_2c_3x3", "Mixed_3c", "Mixed_4c"])
@pytest.mark.parametrize("pool", ["avg", "max"])
def test_truncated_forward_and_features(end, pool):
    net = build_model(0.125, seed=0, final_endpoint=end, pool=pool).eval()
    names = [n for n, _ in net.named_children()]
    assert names[: names.index("pool")] == list(ENDPOINTS[: ENDPOINTS.index(end) + 1])
    x = torch.zeros(2, 3, 20, 32, 48)
    with torch.no_grad():
        f = net.features(x)
        assert f.shape[1] == net.feature_channels
        assert torch.equal(net(x), net.head(f))


def test_truncated_is_a_prefix_of_the_full_network():
    full = build_model(0.125, seed=3).eval()
    part = I3D(num_classes=2, width=0.125, final_endpoint="Mixed_3c").eval()
    kept = {k: v for k, v in full.state_dict().items() if k in part.state_dict() and not k.startswith("logits")}
    part.load_state_dict(kept, strict=False)
    x = torch.rand(1, 3, 20, 32, 48) * 2 - 1
    with torch.no_grad():
        h = x
        for name, m in full.named_children():
            h = m(h)
            if name == "Mixed_3c":
                break
        assert torch.equal(part.features(x), h)


def test_default_model_unchanged_by_the_new_arguments():
    a, b = build_model(0.125, seed=5), build_model(0.125, seed=5, final_endpoint="Mixed_5c", pool="avg")
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_init_from_pretrained_accepts_a_truncated_net():
    state = I3D(num_classes=400, width=1.0).state_dict()
    net = I3D(num_classes=2, width=1.0, final_endpoint="Mixed_4c")
    init_from_pretrained(net, state)
    assert torch.equal(net.Mixed_4c.b0.conv.weight, state["Mixed_4c.b0.conv.weight"])


def test_checkpoint_round_trip_keeps_truncation_and_pool(tmp_path):
    net = build_model(0.125, seed=0, final_endpoint="Mixed_4b", pool="max").eval()
    meta = {k: "x" for k in REQUIRED_META} | {"input_size": [32, 48], "seed": 0, "clip_length": 20}
    save_checkpoint(tmp_path / "m.pt", net, meta)
    back, meta = load_checkpoint(tmp_path / "m.pt")
    assert back.final_endpoint == "Mixed_4b" and back.pool_kind == "max"
    x = torch.rand(1, 3, 20, 32, 48)
    with torch.no_grad():
        assert torch.equal(back(x), net(x))


def test_the_gray_stem_gives_the_same_map_without_gradients_and_keeps_gradients_per_channel():
    torch.manual_seed(0)
    plain = I3D(num_classes=2, width=0.25, final_endpoint="Mixed_3b").eval()
    gray = I3D(num_classes=2, width=0.25, final_endpoint="Mixed_3b", gray_stem=True).eval()
    gray.load_state_dict(plain.state_dict())
    x = (torch.rand(2, 1, 20, 32, 48) * 2 - 1).expand(-1, 3, -1, -1, -1).contiguous()
    with torch.inference_mode():
        a, b = plain(x), gray(x)
    assert torch.allclose(a, b, rtol=1e-5, atol=1e-6 * float(a.abs().max()))
    noisy = x + 0.1 * torch.randn_like(x)  # channels differ: the full convolution runs
    with torch.no_grad():
        assert torch.equal(plain(noisy), gray(noisy))
    xs, xg = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    plain(xs)[:, 1].sum().backward()
    gray(xg)[:, 1].sum().backward()
    assert torch.equal(xs.grad, xg.grad), "with gradients the first convolution keeps its three channels"
    assert not torch.equal(xg.grad[:, 0], xg.grad[:, 1])
