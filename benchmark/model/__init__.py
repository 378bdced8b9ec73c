"""The I3D anomaly classifier: architecture, checkpoints, pretrained weights and training.

Training and the stages are imported from their modules (``benchmark.model.train``,
``benchmark.model.stages``) so that importing the network stays light.
"""

from benchmark.model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from benchmark.model.i3d import I3D, ProbabilityModel, build_model
from benchmark.model.weights import WeightsError, init_from_pretrained

__all__ = [
    "I3D", "ProbabilityModel", "build_model", "save_checkpoint", "load_checkpoint", "CheckpointError",
    "init_from_pretrained", "WeightsError",
]
