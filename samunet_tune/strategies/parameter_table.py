"""The trainable/total parameter table every strategy prints when training starts."""

from __future__ import annotations

from torch import nn

from samunet_tune.strategies.parts import MODEL_PARTS, logical_parameter_name, unwrap_parallel


def count_parameters(module: nn.Module) -> dict[str, tuple[int, int]]:
    """part -> (trainable, total) for a SamUNet, plain or wrapped by peft.

    peft's frozen originals of `modules_to_save` are not counted: the model computes with the
    trained copies only, so counting both would inflate the total.
    """
    counts = {part: [0, 0] for part in MODEL_PARTS}
    for name, parameter in unwrap_parallel(module).named_parameters():
        logical = logical_parameter_name(name)
        if logical is None:
            continue
        part = logical.split(".", 1)[0]
        row = counts.setdefault(part, [0, 0])  # a part we do not know still shows up
        row[1] += parameter.numel()
        if parameter.requires_grad:
            row[0] += parameter.numel()
    return {part: (trainable, total) for part, (trainable, total) in counts.items()}


def format_parameter_table(counts: dict[str, tuple[int, int]], title: str = "") -> str:
    trainable = sum(row[0] for row in counts.values())
    total = sum(row[1] for row in counts.values())
    width = max(len("total"), *(len(part) for part in counts))
    lines = [title] if title else []
    lines.append(f"{'part':<{width}}  {'trainable':>13}  {'total':>13}  {'%':>6}")
    for part, (part_trainable, part_total) in [*counts.items(), ("total", (trainable, total))]:
        if part == "total":
            lines.append("-" * len(lines[-1]))
        share = 100.0 * part_trainable / part_total if part_total else 0.0
        lines.append(f"{part:<{width}}  {part_trainable:>13,}  {part_total:>13,}  {share:>5.1f}%")
    return "\n".join(lines)
