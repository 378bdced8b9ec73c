"""What an occlusion run cost: the record every occlusion engine fills in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class OcclusionStats:
    """What an occlusion run cost (filled in by the engines).

    Attributes:
        engine: ``"incremental"`` or ``"batched"``.
        reason: why the batched engine was used when ``auto`` was asked ("" otherwise).
        windows: window positions per clip.
        forward_samples: model evaluations, full or incremental (``clips * (1 + windows)``).
        macs: multiply-adds of every convolution run (clean passes included).
        plain_macs: what plain occlusion would run: ``clips * (1 + windows) * full-pass MACs``
            (0 when the model's MACs are unknown, e.g. for a model that is not an I3D).
        stop: the last layer computed incrementally (incremental engine only).
    """

    engine: str = ""
    reason: str = ""
    windows: int = 0
    forward_samples: int = 0
    macs: int = 0
    plain_macs: int = 0
    stop: str = ""

    @property
    def mac_ratio(self) -> float:
        """``plain_macs / macs`` (how many times fewer multiply-adds than plain occlusion); NaN if unknown."""
        return self.plain_macs / self.macs if self.macs and self.plain_macs else float("nan")
