"""Tests of benchmark.tracking: the idempotent MLflow view of results/ (tiny fake results, real MLflow)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import urllib.parse
import urllib.request
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmark.atomic import atomic_write_json as write_json
from benchmark.results import PER_CLIP_COLUMNS, SCHEMA_VERSION, SCORE_COLUMNS, results_digest
from benchmark.tracking import (
    CURRENT_RUNS_FILTER,
    EXPERIMENT_KIND,
    EXPERIMENT_KIND_TAG,
    SAVED_VIEW_ID,
    TAG_CURRENT,
    TAG_DIGEST,
    TAG_OVERALL_RANK,
    TAG_RANK_CI,
    TAG_REMOVED,
    TAG_SANITY,
    TAG_SUBMISSION,
    TAG_SUPERSEDED,
    TAG_SUPERSEDED_BY,
    UI_FILTER,
    SyncError,
    current_runs,
    experiment_name,
    run_payload,
    running_server,
    serve_command,
    sync_results,
)
from benchmark.tracking.server import group_members
from benchmark.tracking.sync_plan import FINISHED, RunState, plan_sync

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"
from mlflow.entities import ViewType  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

VERSION = "9.9.9"
EXPERIMENT = "xai-test"
N_CLIPS = 4


# ---------------------------------------------------------------- HTTP helpers for the server test


def get_json(url: str, *, timeout: float = 10.0) -> Any:
    """GET ``url`` and decode its JSON body."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback only)
        return json.loads(resp.read().decode())


def post_json(url: str, body: Any, *, timeout: float = 10.0) -> Any:
    """POST ``body`` as JSON to ``url`` and decode the JSON answer (e.g. ``/api/2.0/mlflow/runs/search``)."""
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (loopback only)
        return json.loads(resp.read().decode())


# ---------------------------------------------------------------- fake results


def make_result(root: Path, name: str, *, status: str = "ok", shift: float = 0.0) -> Path:
    """A schema-valid ``results/<name>/`` folder; ``shift`` changes its scores (and so its digest)."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    metrics: dict[str, Any] = {}
    failure = None
    if status == "ok":
        rows = []
        for i in range(N_CLIPS):
            row: dict[str, Any] = {
                "clip_id": f"ped2_t{i:02d}_0000",
                "scene": "UCSDped2",
                "video": f"Test{i:03d}",
                "start": 0,
                "frame_index": 3,
                "degenerate": False,
                "p_clip": 0.9,
                "p_baseline": 0.2,
                "runtime_s": 0.5 + i,
                "forward_samples": 31,
                "backward_samples": 30,
            }
            row.update({c: float(rng.uniform()) + shift for c in SCORE_COLUMNS})
            rows.append(row)
        per_clip = pd.DataFrame(rows)[list(PER_CLIP_COLUMNS)]
        per_clip.to_csv(folder / "per_clip.csv", index=False)
        for c in SCORE_COLUMNS:
            m = float(per_clip[c].mean())
            metrics[c] = {"mean": m, "ci_low": m - 0.1, "ci_high": m + 0.1}
        thresholds = [i / 50 for i in range(50, -1, -1)]
        curves = {"thresholds": thresholds}
        for kind in ("deletion", "insertion"):
            per = {r["clip_id"]: [float(rng.uniform()) for _ in thresholds] for r in rows}
            curves[kind] = {"mean": list(np.mean(list(per.values()), axis=0)), "per_clip": per}
        write_json(folder / "curves.json", curves)
        (folder / "gallery").mkdir(exist_ok=True)
        Image.fromarray((rng.uniform(size=(6, 9, 3)) * 255).astype(np.uint8)).save(
            folder / "gallery" / "c0_overlay.png"
        )
        write_json(
            folder / "gallery" / "index.json",
            [
                {
                    "clip_id": rows[0]["clip_id"],
                    "frame": 3,
                    "input": "c0_input.png",
                    "overlay": "c0_overlay.png",
                }
            ],
        )
    else:
        failure = {
            "clip_id": "ped2_t00_0000",
            "kind": "timeout",
            "message": "took longer than 900 s",
            "traceback": "Traceback ...\nTimeoutError",
        }
    summary = {
        "schema": SCHEMA_VERSION,
        "name": name,
        "display_name": f"<b>{name}</b>",
        "family": "gradient" if status == "ok" else "perturbation",
        "authors": ["A. Tester"],
        "description": f"The {name} test explainer.",
        "params": {"n_steps": 30, "internal_batch_size": 8, "window": [4, 16, 24], "noise": {"stdev": 1.0}},
        "status": status,
        "failure": failure,
        "n_clips": N_CLIPS,
        "metrics": metrics,
        "cost": {
            "median_runtime_s": 1.5 + shift,
            "total_runtime_s": 6.0,
            "forward_per_clip": 31,
            "backward_per_clip": 30,
            "device": "cpu",
            "threads": 2,
        },
        "degenerate_clips": [],
        "seeds": {},
        "provenance": {
            "benchmark_version": VERSION,
            "git_commit": "0123abcd",
            "profile": "default",
            "input": [48, 72],
            "baseline": "blur",
            "seeds": {"evaluate": 0, "split": 0},
            "hashes": {"data": "d" * 64, "checkpoint": "c" * 64},
            "split_id": "s" * 16,
            "hardware": "2-core CPU",
            "versions": {"torch": "2.13.0", "captum": "0.9.0"},
        },
    }
    write_json(folder / "metrics.json", summary)
    return folder


def make_results(root: Path, names: list[str], failed: tuple[str, ...] = ()) -> Path:
    for name in names:
        make_result(root, name, status="failed" if name in failed else "ok")
    return root


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty MLflow SQLite file, made once (creating one costs ~1.5 s); tests copy it."""
    db = tmp_path_factory.mktemp("store") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments()
    return db


@pytest.fixture()
def env(tmp_path: Path, empty_store: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A project-like folder: results/ with three submissions (one failed) and a fresh store."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    results = make_results(tmp_path / "results", ["alpha", "beta", "gamma"], failed=("gamma",))
    kwargs = dict(
        tracking_uri="sqlite:///mlflow.db",
        artifact_root=Path("mlartifacts"),
        experiment=EXPERIMENT,
        benchmark_version=VERSION,
    )
    return {"root": tmp_path, "results": results, "kwargs": kwargs}


def client() -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{Path('mlflow.db').resolve()}")


def all_active_runs() -> list[Any]:
    c = client()
    exp = c.get_experiment_by_name(experiment_name(EXPERIMENT, VERSION))
    return c.search_runs([exp.experiment_id], run_view_type=ViewType.ACTIVE_ONLY, max_results=1000)


def assert_one_current_per_submission(names: list[str]) -> dict[str, Any]:
    runs = current_runs("sqlite:///mlflow.db", experiment=EXPERIMENT, benchmark_version=VERSION)
    subs = [r.data.tags[TAG_SUBMISSION] for r in runs]
    assert sorted(subs) == sorted(names), subs
    return {r.data.tags[TAG_SUBMISSION]: r for r in runs}


# ---------------------------------------------------------------- end to end on a real SQLite store


def test_first_sync_logs_one_complete_run_per_submission(env: dict[str, Any]) -> None:
    report = sync_results(env["results"], **env["kwargs"])
    assert report.created == ("alpha", "beta", "gamma") and not report.fast_path
    runs = assert_one_current_per_submission(["alpha", "beta", "gamma"])
    assert len(all_active_runs()) == 3
    assert report.current == {s: r.info.run_id for s, r in runs.items()}

    alpha = runs["alpha"]
    assert alpha.info.run_name == "alpha" and alpha.info.status == FINISHED
    assert alpha.data.tags[TAG_DIGEST] == results_digest(env["results"] / "alpha")
    summary = json.loads((env["results"] / "alpha" / "metrics.json").read_text())
    for name, stats in summary["metrics"].items():
        assert alpha.data.metrics[name] == pytest.approx(stats["mean"])
        assert alpha.data.metrics[f"{name}.ci_low"] == pytest.approx(stats["ci_low"])
        assert alpha.data.metrics[f"{name}.ci_high"] == pytest.approx(stats["ci_high"])
    assert alpha.data.metrics["cost.median_runtime_s"] == 1.5
    assert alpha.data.metrics["degenerate_clips"] == 0
    assert alpha.data.params["params.n_steps"] == "30"
    assert alpha.data.params["params.window"] == "[4, 16, 24]"
    assert alpha.data.params["params.noise.stdev"] == "1.0"
    assert alpha.data.params["run.profile"] == "default" and alpha.data.params["run.input"] == "[48, 72]"
    assert alpha.data.params["run.baseline"] == "blur" and alpha.data.params["run.seeds.evaluate"] == "0"
    tags = alpha.data.tags
    assert tags["benchmark.status"] == "ok" and tags["benchmark.family"] == "gradient"
    assert tags["provenance.git_commit"] == "0123abcd" == tags["mlflow.source.git.commit"]
    assert tags["provenance.hashes.checkpoint"] == "c" * 64 and tags["provenance.split_id"] == "s" * 16
    assert tags["provenance.versions.torch"] == "2.13.0" and tags["cost.device"] == "cpu"
    assert tags["submission.display_name"] == "<b>alpha</b>"
    assert "benchmark.failure" not in tags

    c = client()
    top = {a.path for a in c.list_artifacts(alpha.info.run_id)}
    assert {"metrics.json", "per_clip.csv", "curves.json", "gallery"} <= top
    assert "gallery/c0_overlay.png" in {a.path for a in c.list_artifacts(alpha.info.run_id, "gallery")}
    art = Path(urllib.parse.urlparse(alpha.info.artifact_uri).path)
    assert art.is_relative_to((env["root"] / "mlartifacts").resolve())
    assert not (env["root"] / "mlruns").exists(), "artifacts must not go to MLflow's default ./mlruns"

    gamma = runs["gamma"]
    assert gamma.data.tags["benchmark.status"] == "failed"
    assert gamma.data.tags["benchmark.failure"] == "clip ped2_t00_0000, timeout: took longer than 900 s"
    assert "clip_iou" not in gamma.data.metrics
    assert {a.path for a in c.list_artifacts(gamma.info.run_id)} == {"metrics.json"}


def test_second_sync_adds_nothing_and_skips_mlflow(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = sync_results(env["results"], **env["kwargs"])
    import benchmark.tracking.sync as sync_mod

    def no_mlflow() -> None:
        raise AssertionError("a no-op sync must not need MLflow")

    monkeypatch.setattr(sync_mod, "_import_mlflow", no_mlflow)
    second = sync_results(env["results"], **env["kwargs"])
    assert second.fast_path and second.created == () and second.unchanged == ("alpha", "beta", "gamma")
    assert second.current == first.current
    monkeypatch.undo()
    monkeypatch.chdir(env["root"])
    assert len(all_active_runs()) == 3


def test_changed_results_make_one_new_current_run_for_that_submission_only(env: dict[str, Any]) -> None:
    first = sync_results(env["results"], **env["kwargs"])
    make_result(env["results"], "beta", shift=0.5)
    second = sync_results(env["results"], **env["kwargs"])
    assert second.created == ("beta",) and second.unchanged == ("alpha", "gamma")
    assert second.superseded == (first.current["beta"],)
    runs = assert_one_current_per_submission(["alpha", "beta", "gamma"])
    assert runs["beta"].info.run_id != first.current["beta"]
    assert runs["alpha"].info.run_id == first.current["alpha"]
    assert runs["beta"].data.tags[TAG_DIGEST] == results_digest(env["results"] / "beta")
    old = client().get_run(first.current["beta"])
    assert old.data.tags[TAG_SUPERSEDED] == "true" and old.data.tags[TAG_CURRENT] == "false"
    assert old.data.tags[TAG_SUPERSEDED_BY] == runs["beta"].info.run_id
    # Visibly retired in the runs table, and hidden by the documented search.
    assert old.info.run_name == "beta (superseded)" and "Superseded by run" in old.data.tags["mlflow.note.content"]
    shown = client().search_runs([old.info.experiment_id], filter_string=UI_FILTER)
    assert sorted(r.info.run_name for r in shown) == ["alpha", "beta", "gamma"]
    assert len(all_active_runs()) == 4  # the old run is kept
    third = sync_results(env["results"], **env["kwargs"])
    assert third.fast_path and third.created == ()


def test_interrupted_sync_then_normal_sync_leaves_one_current_run_each(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = MlflowClient.log_artifacts

    def killed_on_second(self: MlflowClient, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated kill mid-sync")
        real(self, *args, **kwargs)

    monkeypatch.setattr(MlflowClient, "log_artifacts", killed_on_second)
    with pytest.raises(KeyboardInterrupt):
        sync_results(env["results"], **env["kwargs"])
    monkeypatch.undo()
    monkeypatch.chdir(env["root"])
    leftovers = [r for r in all_active_runs() if TAG_DIGEST not in r.data.tags]
    assert len(leftovers) == 1 and leftovers[0].info.status == "RUNNING"
    assert_one_current_per_submission(["alpha"])

    report = sync_results(env["results"], **env["kwargs"])
    assert report.deleted == (leftovers[0].info.run_id,) and report.created == ("beta", "gamma")
    assert_one_current_per_submission(["alpha", "beta", "gamma"])
    assert len(all_active_runs()) == 3


def test_kill_between_finishing_and_retiring_is_repaired(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = sync_results(env["results"], **env["kwargs"])
    make_result(env["results"], "alpha", shift=0.25)
    import benchmark.tracking.sync as sync_mod

    def killed(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt("simulated kill before the old run is retired")

    monkeypatch.setattr(sync_mod, "_retire", killed)
    with pytest.raises(KeyboardInterrupt):
        sync_results(env["results"], **env["kwargs"])
    monkeypatch.undo()
    monkeypatch.chdir(env["root"])
    report = sync_results(env["results"], **env["kwargs"])
    assert report.created == () and report.superseded == (first.current["alpha"],)
    runs = assert_one_current_per_submission(["alpha", "beta", "gamma"])
    assert runs["alpha"].data.tags[TAG_DIGEST] == results_digest(env["results"] / "alpha")


def test_a_broken_result_fails_loudly_without_blocking_the_others(env: dict[str, Any]) -> None:
    (env["results"] / "beta" / "metrics.json").write_text("{not json")
    with pytest.raises(SyncError, match=r"beta.*metrics\.json.*not valid JSON") as info:
        sync_results(env["results"], **env["kwargs"])
    assert "1 submission(s)" in str(info.value) and "re-run `benchmark track`" in str(info.value)
    assert_one_current_per_submission(["alpha", "gamma"])
    assert len(all_active_runs()) == 2  # the partial run was not left behind
    make_result(env["results"], "beta")
    report = sync_results(env["results"], **env["kwargs"])
    assert report.created == ("beta",)
    assert_one_current_per_submission(["alpha", "beta", "gamma"])


def test_a_removed_submission_is_retired(env: dict[str, Any]) -> None:
    first = sync_results(env["results"], **env["kwargs"])
    shutil.rmtree(env["results"] / "gamma")
    report = sync_results(env["results"], **env["kwargs"])
    assert report.removed == (first.current["gamma"],)
    assert_one_current_per_submission(["alpha", "beta"])
    old = client().get_run(first.current["gamma"])
    assert old.data.tags[TAG_REMOVED] == "true" and old.data.tags[TAG_CURRENT] == "false"
    assert old.info.run_name == "gamma (removed)"


def test_a_deleted_submission_folder_retires_its_run(env: dict[str, Any]) -> None:
    subs = env["root"] / "submissions"
    for name in ("alpha", "beta", "gamma"):
        (subs / name).mkdir(parents=True)
        (subs / name / "submission.yaml").write_text("group: added\n")
    first = sync_results(env["results"], submissions_root=subs, **env["kwargs"])
    shutil.rmtree(subs / "beta")  # deleted by hand; results/beta is still there
    report = sync_results(env["results"], submissions_root=subs, **env["kwargs"])
    assert report.removed == (first.current["beta"],)
    assert_one_current_per_submission(["alpha", "gamma"])


def test_the_experiment_opens_on_its_runs_table(env: dict[str, Any]) -> None:
    sync_results(env["results"], **env["kwargs"])
    c = client()
    exp = c.get_experiment_by_name(experiment_name(EXPERIMENT, VERSION))
    assert exp.tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND == "custom_model_development"
    # An experiment made before the tag existed (or whose kind the UI inferred) is set right by the next sync.
    c.set_experiment_tag(exp.experiment_id, EXPERIMENT_KIND_TAG, "genai_development")
    report = sync_results(env["results"], **env["kwargs"])
    assert not report.fast_path and report.created == ()
    assert c.get_experiment(exp.experiment_id).tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND
    assert sync_results(env["results"], **env["kwargs"]).fast_path
    # MLflow 3.17's UI follows its GenAI / Model-training switch ahead of that tag: the saved view and the
    # path that opens it on the runs table, the current runs sorted by rank with the scores as columns.
    view = json.loads(c.get_experiment(exp.experiment_id).tags[f"mlflow.sharedViewState.{SAVED_VIEW_ID}"])
    state = json.loads(view["state"])
    assert state["searchFilter"] == UI_FILTER and state["orderByKey"] == "metrics.`overall_rank`"
    assert "metrics.`clip_iou`" in state["selectedColumns"] and isinstance(view["createdAt"], int)
    assert report.ui_path == (f"/#/experiments/{exp.experiment_id}/runs?workflowType=machine_learning"
                              f"&viewStateShareKey={SAVED_VIEW_ID}")


def _sanity_record(verdict: str, rho: float) -> dict[str, Any]:
    step = {"step": 1, "label": "logits", "blocks": ["logits"],
            "scored": {"spearman": {"mean": rho}, "ssim": {"mean": rho}, "constant": 0},
            "absolute": {"spearman": {"mean": rho}, "ssim": {"mean": rho}}}
    return {"schema": 1, "status": "ok", "verdict": verdict, "threshold": 0.5, "steps": [step],
            "full": {"spearman": {"mean": rho}, "ssim": {"mean": rho}}, "settings": {"clips": 3}}


def test_rank_and_sanity_verdict_are_logged_and_kept_up_to_date(env: dict[str, Any]) -> None:
    sanity = env["root"] / "sanity"
    write_json(sanity / "alpha" / "sanity.json", _sanity_record("pass", 0.1))
    first = sync_results(env["results"], sanity_root=sanity, **env["kwargs"])
    runs = assert_one_current_per_submission(["alpha", "beta", "gamma"])
    alpha, beta, gamma = runs["alpha"], runs["beta"], runs["gamma"]
    assert alpha.data.tags[TAG_SANITY] == "pass" and alpha.data.metrics["sanity.spearman"] == pytest.approx(0.1)
    assert beta.data.tags[TAG_SANITY] == "not run" and gamma.data.tags[TAG_OVERALL_RANK] == ""
    ranks = {s: int(runs[s].data.metrics["overall_rank"]) for s in ("alpha", "beta")}
    assert sorted(ranks.values()) in ([1, 2], [1, 1])
    assert runs["alpha"].data.tags[TAG_OVERALL_RANK] == str(ranks["alpha"])
    lo, hi = runs["alpha"].data.metrics["overall_rank.ci_low"], runs["alpha"].data.metrics["overall_rank.ci_high"]
    assert lo <= ranks["alpha"] <= hi and runs["alpha"].data.tags[TAG_RANK_CI] == f"{int(lo)}-{int(hi)}"
    # The verdict changes while the results do not: the same runs are updated, no new run is made.
    write_json(sanity / "beta" / "sanity.json", _sanity_record("fail", 0.9))
    second = sync_results(env["results"], sanity_root=sanity, **env["kwargs"])
    assert second.created == () and "beta" in second.refreshed and second.current == first.current
    assert client().get_run(first.current["beta"]).data.tags[TAG_SANITY] == "fail"
    assert sync_results(env["results"], sanity_root=sanity, **env["kwargs"]).fast_path


def test_curves_are_metric_histories_and_a_stochastic_figure_is_the_seed_mean(env: dict[str, Any]) -> None:
    folder = env["results"] / "alpha"
    (folder / "plots").mkdir()
    for kind, ys in (("deletion", np.linspace(0.9, 0.1, 51)), ("insertion", np.linspace(0.1, 0.9, 51))):
        lines = ["fraction,p_anomalous"] + [f"{i / 50:.2f},{y:.6g}" for i, y in enumerate(ys)]
        (folder / "plots" / f"{kind}.csv").write_text("\n".join(lines) + "\n")
    summary = json.loads((folder / "metrics.json").read_text())
    seed0 = summary["metrics"]["clip_iou"]["mean"]
    summary["seeds"] = {"n": 2, "seeds": [0, 1], "means": {"clip_iou": [seed0, seed0 + 0.1]},
                        "spread": {"clip_iou": {"std": 0.07, "min": seed0, "max": seed0 + 0.1}}}
    write_json(folder / "metrics.json", summary)
    sync_results(env["results"], **env["kwargs"])
    run = assert_one_current_per_submission(["alpha", "beta", "gamma"])["alpha"]
    assert run.data.metrics["clip_iou"] == pytest.approx(seed0 + 0.05)
    assert run.data.metrics["clip_iou.seed0"] == pytest.approx(seed0)
    history = client().get_metric_history(run.info.run_id, "curve.deletion")
    assert [m.step for m in history] == list(range(0, 101, 2))
    assert history[0].value == pytest.approx(0.9) and history[-1].value == pytest.approx(0.1)


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="results_root=.*not a folder"):
        sync_results(tmp_path / "nope", benchmark_version=VERSION)
    with pytest.raises(ValueError, match="tracking_uri=.*SQLite"):
        sync_results(tmp_path, tracking_uri="file:./mlruns", benchmark_version=VERSION)
    with pytest.raises(ValueError, match="port"):
        serve_command("sqlite:///mlflow.db", Path("mlartifacts"), 0)


# ---------------------------------------------------------------- pure parts


def test_run_payload_maps_every_section() -> None:
    summary = {
        "schema": 1,
        "name": "x",
        "submission": {"family": "cam", "url": "https://e.org"},
        "params": {"a b": 1, "nested": {"k": [1, 2]}, "long": "z" * 7000},
        "status": "failed",
        "failure": {"clip_id": None, "kind": "import", "message": "no module"},
        "metrics": {"clip_iou": {"mean": 0.5, "ci_low": 0.4, "ci_high": 0.6}, "cv": {"mean": None}},
        "cost": {"median_runtime_s": float("nan"), "total_runtime_s": 3, "flag": True},
        "degenerate_clips": ["c1", "c2"],
        "seeds": {"0": {"clip_iou": 0.3}},
        "provenance": {"threads": 2, "split_id": "abc"},
    }
    p = run_payload(summary)
    assert p.metrics == {
        "clip_iou": 0.5,
        "clip_iou.ci_low": 0.4,
        "clip_iou.ci_high": 0.6,
        "cost.total_runtime_s": 3.0,
        "degenerate_clips": 2.0,
        "seeds.0.clip_iou": 0.3,
    }
    assert p.params["params.a_b"] == "1" and p.params["params.nested.k"] == "[1, 2]"
    assert len(p.params["params.long"]) == 6000 and p.params["params.long"].endswith("[truncated]")
    assert p.params["run.threads"] == "2" and "run.split_id" not in p.params
    assert p.tags["benchmark.failure"] == "setup, import: no module"
    assert p.tags["benchmark.family"] == "cam" and p.tags["submission.url"] == "https://e.org"
    assert p.tags["cost.flag"] == "true" and p.tags["provenance.split_id"] == "abc"


def _state(
    run_id: str,
    sub: str | None,
    digest: str | None = None,
    *,
    status: str = FINISHED,
    current: str | None = "true",
    start: int = 0,
) -> RunState:
    tags = {
        k: v
        for k, v in {TAG_SUBMISSION: sub, TAG_DIGEST: digest, TAG_CURRENT: current}.items()
        if v is not None
    }
    return RunState(run_id, status, start, tags)


def test_plan_sync_decisions() -> None:
    runs = [
        _state("a1", "a", "da"),  # unchanged
        _state("b1", "b", "old"),  # changed -> new run, b1 superseded
        _state("c1", "c", "dc", start=1),
        _state("c0", "c", "dc", start=0),  # duplicate current
        _state("d1", "d", "dd"),  # results gone -> removed
        _state("e1", "e", None, status="RUNNING", current=None),  # interrupted -> deleted
        _state("e0", "e", "de", current="false"),  # superseded long ago: untouched
        _state("h1", None, None, status="RUNNING"),  # made by hand: untouched
    ]
    plan = plan_sync({"a": "da", "b": "db", "c": "dc", "e": "de"}, runs)
    assert plan.unchanged == ["a", "c"] and plan.keep == {"a": "a1", "c": "c1"}
    assert plan.create == ["b", "e"]
    assert plan.supersede == {"b1": "b", "c0": "c"}
    assert plan.remove == {"d1": "d"} and plan.delete == ["e1"]
    assert not plan.is_noop
    assert plan_sync({"a": "da"}, [_state("a1", "a", "da")]).is_noop


# ---------------------------------------------------------------- speed, and the real server


def test_noop_sync_of_ten_submissions_is_fast_and_never_imports_mlflow(
    tmp_path: Path, empty_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    make_results(tmp_path / "results", [f"sub{i:02d}" for i in range(10)])
    kw = dict(
        tracking_uri="sqlite:///mlflow.db",
        artifact_root=Path("mlartifacts"),
        experiment=EXPERIMENT,
        benchmark_version=VERSION,
    )
    assert len(sync_results(Path("results"), **kw).created) == 10
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        t = time.perf_counter()
        from benchmark.tracking import sync_results
        r = sync_results(Path("results"), **{kw!r})
        assert r.fast_path and not r.created and len(r.unchanged) == 10, r
        assert "mlflow" not in sys.modules
        print(f"{{time.perf_counter() - t:.3f}}")
    """).replace("PosixPath", "Path")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert float(out.stdout.strip().splitlines()[-1]) < 5.0  # import + sync; `dvc repro` must stay < 10 s


@pytest.mark.slow
def test_real_server_shows_every_submission_and_stops_cleanly(env: dict[str, Any]) -> None:
    sync_results(env["results"], **env["kwargs"])
    expected = {
        s: json.loads((env["results"] / s / "metrics.json").read_text()) for s in ("alpha", "beta", "gamma")
    }
    with running_server("sqlite:///mlflow.db", Path("mlartifacts"), startup_timeout_s=60) as server:
        assert group_members(server.pgid), "the server should be running"
        name = urllib.parse.quote(experiment_name(EXPERIMENT, VERSION), safe="")
        exp = get_json(f"{server.url}/api/2.0/mlflow/experiments/get-by-name?experiment_name={name}")
        exp_id = exp["experiment"]["experiment_id"]
        found = post_json(
            f"{server.url}/api/2.0/mlflow/runs/search",
            {"experiment_ids": [exp_id], "filter": CURRENT_RUNS_FILTER, "max_results": 100},
        )["runs"]
        by_sub = {next(t["value"] for t in r["data"]["tags"] if t["key"] == TAG_SUBMISSION): r for r in found}
        assert sorted(by_sub) == ["alpha", "beta", "gamma"] and len(found) == 3
        for sub, summary in expected.items():
            got = {m["key"]: m["value"] for m in by_sub[sub]["data"].get("metrics", [])}
            for metric, stats in summary["metrics"].items():
                assert got[metric] == pytest.approx(stats["mean"])
        arts = get_json(
            f"{server.url}/api/2.0/mlflow/artifacts/list?run_id={by_sub['alpha']['info']['run_id']}"
        )
        assert "per_clip.csv" in {f["path"] for f in arts["files"]}
        pgid = server.pgid
    assert group_members(pgid) == [], "stopping the server must leave no process behind"
