"""The data layer: the official UCSD layout, its archive, a synthetic stand-in, clips and splits.

Flow: ``fetch_archive`` / ``write_synthetic`` -> ``read_layout`` -> ``prepare`` -> ``PreparedData``
-> ``make_split``; ``to_model_input`` turns clip frames into the model's ``(3, T, H, W)`` input.
"""

from benchmark.data.archive import fetch_archive
from benchmark.data.errors import DataError
from benchmark.data.labels import format_gt_file, parse_gt_file
from benchmark.data.prepared import Clip, PreparedData, clip_id, parse_clip_id, prepare
from benchmark.data.split import EvalClip, Split, load_split, make_split
from benchmark.data.synthetic import write_synthetic
from benchmark.data.transforms import BLACK, to_model_input
from benchmark.data.ucsd import Layout, Video, load_frames, load_masks, read_layout

__all__ = [
    "BLACK",
    "Clip",
    "DataError",
    "EvalClip",
    "Layout",
    "PreparedData",
    "Split",
    "Video",
    "clip_id",
    "fetch_archive",
    "format_gt_file",
    "load_frames",
    "load_masks",
    "load_split",
    "make_split",
    "parse_clip_id",
    "parse_gt_file",
    "prepare",
    "read_layout",
    "to_model_input",
    "write_synthetic",
]
