"""The performance table as JSON and Markdown, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmark.atomic import atomic_write_text


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def to_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown tables (methods, occlusion engines, scoring, projection)."""
    if report.get("engines_only"):
        return _engines_markdown(report)
    floor = report["floor"]
    lines = [
        f"# Performance: profile `{report['profile']}`{' (paper geometry)' if report['paper_geometry'] else ''}",
        "",
        f"Input 20x{report['input'][0]}x{report['input'][1]}, I3D width {report['model_width']} ({report['model']}), "
        f"{report['threads']} threads; medians over {report['clips']} clips after a warm-up "
        f"(Captum defaults: {report['captum_clips']} clip). Floor: {floor['forward_ms_per_sample']:.1f} ms per "
        f"forward sample (batch {floor['forward_batch']}, {floor.get('forward_layout', 'contiguous')}), "
        f"{floor['backward_ms_per_sample']:.1f} ms per backward sample (batch {floor['backward_batch']}, "
        f"{floor.get('backward_layout', 'contiguous')}).",
        "",
        "| method | ours (s/clip) | fwd | bwd | floor (s) | ours / floor | own-batch floor (s) | ours / own "
        "| batched k | batched / floor | Captum default (s) | Captum / ours | 40 clips (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['method']} | {_fmt(r['ours_s'], 3)} | {r['forward_samples']} | {r['backward_samples']} | "
            f"{_fmt(r['floor_s'], 3)} | {_fmt(r['over_floor'])} | {_fmt(r.get('own_floor_s'), 3)} | "
            f"{_fmt(r.get('over_own_floor'))} | {_fmt(r.get('clips_per_call'))} | "
            f"{_fmt(r.get('batched_over_floor'))} | {_fmt(r.get('captum_default_s'), 2)} | "
            f"{_fmt(r.get('captum_over_ours'), 1)} | {_fmt(r['projected_40_clips_s'], 0)} |"
        )
    lines += [
        "",
        "`ours` is per-clip latency, one clip per `explain` call (B = 1), as the pipeline runs it. `floor`: the "
        "clip's samples at the best per-sample time over batch sizes; `own-batch floor`: at the per-sample time "
        "of a batch of min(samples, best batch), the most one clip can fill. `batched k`, `batched / floor` "
        "(methods whose samples per clip are below the best batch): one call on k = ceil(best batch / samples) "
        "clips, its time per clip over the floor -- a throughput figure, not the pipeline's.",
    ]
    lines += _engine_table(report["rows"])
    s = report["scoring"]
    di, hc = s["deletion_insertion"], s["human_centric"]
    p = report["projection"]
    lines += [
        "",
        "| scoring step (per clip) | ours (s) | straightforward (s) | speed-up |",
        "|---|---:|---:|---:|",
        f"| deletion + insertion ({di['forward_samples']} samples vs 103 one by one) | {_fmt(di['ours_s'], 3)} | "
        f"{_fmt(di['plain_s'], 3)} | {_fmt(di['speedup'], 1)} |",
        f"| localisation + robustness (vs 51 masks + scikit-learn) | {_fmt(hc['ours_s'], 3)} | "
        f"{_fmt(hc['plain_s'], 3)} | "
        f"{_fmt(hc['speedup'], 1)} |",
        "",
        f"Projected over 40 clips: explain {p['explain_40_clips_s']:.0f} s + scoring {p['scoring_40_clips_s']:.0f} s "
        f"= {p['total_s']:.0f} s ({p['note']}).",
        "",
    ]
    return "\n".join(lines)


def _engine_table(rows: list[dict[str, Any]]) -> list[str]:
    engines = [r for r in rows if "occlusion_engines" in r]
    if not engines:
        return []
    lines = [
        "",
        "Occlusion engines (one clip, a sample of the windows): plain batched vs exact incremental.",
        "",
        "| method | windows | timed | stop layer | GMAC full pass | GMAC / window (incremental) | MAC ratio | "
        "plain ms / window | incremental ms / window | wall ratio | max abs diff | largest drop | max diff / drop |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in engines:
        e = r["occlusion_engines"]
        lines.append(
            f"| {r['method']} | {e['windows']} | {e['timed_windows']} | {e['stop']} | "
            f"{_fmt(e['full_pass_gmacs'], 3)} | "
            f"{_fmt(e['incremental_gmacs_per_window'], 3)} | {_fmt(e['mac_ratio'])} | "
            f"{_fmt(e['plain_ms_per_window'], 1)} | {_fmt(e['incremental_ms_per_window'], 1)} | "
            f"{_fmt(e['wall_ratio'])} | {e['max_abs_difference']:.1e} | {e.get('max_drop', float('nan')):.1e} | "
            f"{e.get('max_relative_difference', float('nan')):.1e} |"
        )
    return lines


def _engines_markdown(report: dict[str, Any]) -> str:
    head = (f"# Occlusion engines: profile `{report['profile']}`"
            f"{' (paper geometry)' if report['paper_geometry'] else ''}")
    setting = (f"Input 20x{report['input'][0]}x{report['input'][1]}, I3D width {report['model_width']} "
               f"({report['model']}), {report['threads']} threads.")
    return "\n".join([head, "", setting, *_engine_table(report["rows"]), ""])


def write_report(report: dict[str, Any], out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``perf_<profile>[_paper][_engines].json`` and ``.md`` under ``out_dir``; returns both paths."""
    stem = (f"perf_{report['profile']}{'_paper' if report['paper_geometry'] else ''}"
            f"{'_engines' if report.get('engines_only') else ''}")
    out = Path(out_dir)
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    atomic_write_text(json_path, json.dumps(report, indent=2, allow_nan=True) + "\n")
    atomic_write_text(md_path, to_markdown(report))
    return json_path, md_path
