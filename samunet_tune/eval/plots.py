"""PNG plots: training curves of a run directory, and the figures of an evaluation report.

matplotlib's object API (`Figure`, no pyplot), so no global backend or figure state is touched
and plotting works headless.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

from samunet_tune.eval.report import BASELINE_LABELS

BASELINE_STYLES = {"box_fill": ("#888888", "--"), "inscribed_ellipse": ("#444444", ":")}
SCALARS = Path("logs") / "scalars.csv"
PLOTS = Path("logs") / "plots"


def _save(figure, path: Path) -> Path:
    from matplotlib.ticker import MaxNLocator

    for axis in figure.axes:
        if axis.get_xlabel() in ("step",):
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path


def read_scalars(path: Path) -> dict[str, list[tuple[int, float]]]:
    """scalars.csv (step, name, value) -> {name: [(step, value), ...]} sorted by step.

    A resumed run logs the steps after its checkpoint again; the last value of a step wins.
    """
    series: dict[str, dict[int, float]] = defaultdict(dict)
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"step", "name", "value"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {sorted(missing)}; expected the header step,name,value")
        for line, row in enumerate(reader, start=2):
            try:
                series[row["name"]][int(float(row["step"]))] = float(row["value"])
            except (TypeError, ValueError) as error:
                raise ValueError(f"{path}, line {line}: cannot read {row} ({error})") from error
    return {name: sorted(values.items()) for name, values in series.items()}


def plot_run(output_dir: str | Path) -> list[Path]:
    """Write OUTPUT/logs/plots/loss.png and val_dice.png from OUTPUT/logs/scalars.csv.

    val_dice.png is written only when validation was logged; it carries the box-fill and
    ellipse baseline Dice as lines when the trainer logged them. Returns the written paths.
    """
    from matplotlib.figure import Figure

    output_dir = Path(output_dir)
    scalars_path = output_dir / SCALARS
    if not scalars_path.is_file():
        raise FileNotFoundError(f"{scalars_path} is missing: {output_dir} is not a training output directory "
                                "(samunet-tune train writes logs/scalars.csv)")
    series = read_scalars(scalars_path)
    if "train/loss" not in series:
        raise ValueError(f"{scalars_path} has no train/loss values yet; nothing to plot")
    written = []
    figure = Figure(figsize=(6, 4))
    axis = figure.subplots()
    steps, values = zip(*series["train/loss"])
    axis.plot(steps, values, color="#1f77b4", linewidth=1, alpha=0.5 if len(values) > 20 else 1.0, label="train loss")
    if len(values) > 20:
        axis.plot(steps, _moving_average(values, max(2, len(values) // 20)), color="#1f77b4", label="moving average")
    axis.set(xlabel="step", ylabel="loss", title="training loss")
    axis.legend()
    written.append(_save(figure, output_dir / PLOTS / "loss.png"))
    if "val/dice" in series:
        figure = Figure(figsize=(6, 4))
        axis = figure.subplots()
        for name, label, style in (("val/dice", "model Dice", {"color": "#d62728", "marker": "o"}),
                                   ("val/iou", "model IoU", {"color": "#ff9896", "marker": "."}),
                                   ("val/baseline_box_dice", "box fill Dice", {"color": "#888888", "linestyle": "--"}),
                                   ("val/baseline_ellipse_dice", "ellipse Dice", {"color": "#444444", "linestyle": ":"})):
            if name in series:
                steps, values = zip(*series[name])
                axis.plot(steps, values, label=label, **style)
        axis.set(xlabel="step", ylabel="score", title="validation (box prompts)", ylim=(0, 1))
        axis.legend()
        written.append(_save(figure, output_dir / PLOTS / "val_dice.png"))
    return written


def _moving_average(values: tuple[float, ...], window: int) -> list[float]:
    averaged, total = [], 0.0
    for index, value in enumerate(values):
        total += value
        if index >= window:
            total -= values[index - window]
        averaged.append(total / min(index + 1, window))
    return averaged


def _dice_values(report: dict, pick) -> list[float]:
    return [m for s in report["samples"] for mask in s["masks"] if (m := pick(mask)) is not None]


def plot_class_dice(report: dict, path: Path) -> Path:
    """Grouped bars: mean Dice per class for each protocol and each baseline."""
    from matplotlib.figure import Figure

    first = next(iter(report["protocols"].values()))
    classes = ["all", *sorted(first["per_class"])]
    series = [(name, block, None) for name, block in report["protocols"].items()]
    series += [(BASELINE_LABELS[name], block, BASELINE_STYLES[name][0]) for name, block in report["baselines"].items()]
    width = 0.8 / len(series)
    figure = Figure(figsize=(min(14, max(6, 0.3 * len(classes) * len(series) + 2)), 4))
    axis = figure.subplots()
    for number, (label, block, colour) in enumerate(series):
        means = [(block["per_mask"] if c == "all" else block["per_class"][c])["dice"]["mean"] for c in classes]
        positions = [i + (number - (len(series) - 1) / 2) * width for i in range(len(classes))]
        axis.bar(positions, [0 if m is None else m for m in means], width=width, label=label, color=colour,
                 hatch="//" if colour else None)
    axis.set_xticks(range(len(classes)), [c[:18] for c in classes], rotation=30 if len(classes) > 4 else 0, ha="right"
                    if len(classes) > 4 else "center")
    axis.set(ylabel="mean Dice", ylim=(0, 1), title="Dice per class: model vs trivial baselines")
    axis.legend(fontsize=8)
    return _save(figure, path)


def plot_click_curve(report: dict, path: Path) -> Path | None:
    """Mean Dice after each correction round, for each click protocol, with baseline lines."""
    from matplotlib.figure import Figure

    curves = {name: block["curve"] for name, block in report["protocols"].items() if "curve" in block}
    if not curves:
        return None
    figure = Figure(figsize=(6, 4))
    axis = figure.subplots()
    longest: list[int] = []
    for name, curve in curves.items():
        rounds = [point["round"] for point in curve]
        longest = max(longest, rounds, key=len)
        axis.plot(rounds, [math.nan if p["dice"]["mean"] is None else p["dice"]["mean"] for p in curve], marker="o",
                  label=f"model ({name})")
    for name, block in report["baselines"].items():
        colour, style = BASELINE_STYLES[name]
        mean = block["per_mask"]["dice"]["mean"]
        if mean is not None:
            axis.axhline(mean, color=colour, linestyle=style, label=f"{BASELINE_LABELS[name]} (box)")
    axis.set_xticks(longest)
    axis.set(xlabel="correction clicks (round 0 = box only)", ylabel="mean Dice", ylim=(0, 1),
             title="interactive correction")
    axis.legend(fontsize=8)
    return _save(figure, path)


def plot_dice_histogram(report: dict, path: Path) -> Path:
    """Distribution of per-mask Dice for each protocol and baseline (step histograms)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4))
    axis = figure.subplots()
    bins = [i / 20 for i in range(21)]
    for name in report["protocols"]:
        axis.hist(_dice_values(report, lambda m, n=name: m["results"][n]["dice"]), bins=bins, histtype="stepfilled",
                  alpha=0.45, label=f"model ({name})")
    for name in report["baselines"]:
        colour, style = BASELINE_STYLES[name]
        axis.hist(_dice_values(report, lambda m, n=name: m["baselines"][n]["dice"]), bins=bins, histtype="step",
                  color=colour, linestyle=style, linewidth=1.5, label=BASELINE_LABELS[name])
    axis.set(xlabel="Dice per mask", ylabel="masks", title="Dice distribution", xlim=(0, 1))
    axis.legend(fontsize=8)
    return _save(figure, path)


def plot_report(report: dict, out: Path) -> list[Path]:
    """dice_per_class.png, dice_histogram.png and (with a click protocol) click_curve.png in `out`."""
    written = [plot_class_dice(report, out / "dice_per_class.png"), plot_dice_histogram(report, out / "dice_histogram.png")]
    curve = plot_click_curve(report, out / "click_curve.png")
    return written + ([curve] if curve else [])
