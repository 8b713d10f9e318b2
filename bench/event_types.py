"""Do the event-specific heads do what they claim? A fidelity check on synthetic clips.

Generates clips whose event type is known by construction (modelzoo.synthetic), trains the
event-head model and the naive audio-visual baseline with modelzoo.nn.train (no Django, no
database), predicts the test split, and prints:

1. accuracy of each head and of the vote by event type (single-source test clips): the
   continuous head should do well on continuous clips, instant on instant, onset on rhythmic,
   visual on visual-only and audio on audio-only;
2. on multi-source clips (two classes of different event types, trained with one label), the
   per-sample F1 of the union of the heads against naive-AV Top-1..5 (the paper's Table 2).

    OMP_NUM_THREADS=2 python bench/event_types.py --clips 300 --classes 10 --epochs 8

Generated clips and decoded-feature caches are kept under --out and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.preprocessing import MultiLabelBinarizer  # noqa: E402

from modelzoo import synthetic  # noqa: E402
from modelzoo.nn import infer, train  # noqa: E402
from modelzoo.nn.config import TrainConfig, get_config  # noqa: E402
from modelzoo.nn.model import HEAD_NAMES  # noqa: E402

# torchvision switches PyAV's FFmpeg log callback on; it can deadlock threaded decoders. Off again.
av.logging.set_level(None)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--multi-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--config", default="tiny")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--device", default="cuda" if _cuda() else "cpu")
    parser.add_argument("--workers", type=int, default=None, help="Processes for generating clips.")
    parser.add_argument("--out", default="var/bench-event-types", help="Clips, caches and checkpoints.")
    return parser.parse_args()


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def dataset(args: argparse.Namespace, root: Path) -> dict:
    config = synthetic.SyntheticConfig(
        num_clips=args.clips, num_classes=args.classes, seed=args.seed, multi_fraction=args.multi_fraction
    )
    manifest_path = root / synthetic.MANIFEST_JSON
    if manifest_path.exists() and json.loads(manifest_path.read_text())["config"] == json.loads(
        json.dumps(asdict(config))
    ):
        print(f"reusing {args.clips} clips in {root}")
    else:
        started = time.monotonic()
        synthetic.generate_dataset(root, config, workers=args.workers)
        print(f"generated {args.clips} clips in {time.monotonic() - started:.1f} s")
    return synthetic.load_manifest(root)


def fit(kind: str, args: argparse.Namespace, rows: list[dict], root: Path) -> Path:
    by_split = defaultdict(list)
    for row in rows:
        by_split[row["split"]].append((row["abspath"], row["label"]))
    started = time.monotonic()
    result = train.fit(
        config=TrainConfig(
            model_kind=kind,
            num_classes=args.classes,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            device=args.device,
        ),
        model_config=get_config(args.config),
        train_items=by_split["train"],
        val_items=by_split["val"],
        checkpoint_dir=root / "runs" / f"{kind}-{args.config}-e{args.epochs}",
        cache_dir=root / "features",
    )
    last = result.metrics_per_epoch[-1]
    vote = (last.get("val") or {}).get("vote_accuracy", float("nan"))
    print(f"trained {kind}: {args.epochs} epochs in {time.monotonic() - started:.0f} s, val vote accuracy {vote:.3f}")
    assert result.checkpoint_path is not None
    return result.checkpoint_path


def predict(checkpoint: Path, args: argparse.Namespace, rows: list[dict]) -> list[infer.ClipPrediction]:
    return infer.predict(
        checkpoint_path=checkpoint,
        items=[row["abspath"] for row in rows],
        device=args.device,
        label_indices=[row["label"] for row in rows],
        batch_size=args.batch_size,
    )


def accuracy_table(rows: list[dict], predictions: list[infer.ClipPrediction], baseline) -> str:
    columns = [*HEAD_NAMES, "vote", "naive_av"]
    lines = [
        "| event type (head built for it) | n | " + " | ".join(columns) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in columns) + " |",
    ]
    for event_type in synthetic.EVENT_TYPES:
        picked = [i for i, row in enumerate(rows) if row["event_type"] == event_type]
        cells = []
        for column in columns:
            hits = []
            for i in picked:
                if column == "vote":
                    guess = predictions[i].vote
                elif column == "naive_av":
                    guess = baseline[i].heads["naive_av"][0][0]
                else:
                    guess = predictions[i].heads[column][0][0]
                hits.append(guess == rows[i]["label"])
            value = f"{np.mean(hits):.2f}" if hits else "-"
            cells.append(f"**{value}**" if column == synthetic.EVENT_TYPE_HEAD[event_type] else value)
        lines.append(
            f"| {event_type} ({synthetic.EVENT_TYPE_HEAD[event_type]}) | {len(picked)} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def multi_label_table(rows: list[dict], predictions, baseline, num_classes: int) -> str:
    picked = [i for i, row in enumerate(rows) if row["event_type"] == synthetic.MULTI_SOURCE]
    if not picked:
        return "(no multi-source clips in the evaluated splits)"
    binarizer = MultiLabelBinarizer(classes=list(range(num_classes)))
    truth = binarizer.fit_transform([rows[i]["labels"] for i in picked])
    union = binarizer.transform([predictions[i].union for i in picked])
    lines = [
        "| prediction | per-sample F1 | mean set size |",
        "| --- | ---: | ---: |",
        f"| union of the heads (ours) | {f1_score(truth, union, average='samples', zero_division=0):.3f} "
        f"| {union.sum(axis=1).mean():.2f} |",
    ]
    for k in range(1, 6):
        top = binarizer.transform([[c for c, _ in baseline[i].heads["naive_av"][:k]] for i in picked])
        lines.append(f"| naive AV Top-{k} | {f1_score(truth, top, average='samples', zero_division=0):.3f} | {k} |")
    lines.append(f"\n{len(picked)} multi-source clips (val + test), truth: 2 labels each; training saw one.")
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    root = Path(args.out).resolve()
    started = time.monotonic()
    manifest = dataset(args, root)
    rows = manifest["clips"]
    event_heads = fit("event_heads", args, rows, root)
    naive_av = fit("naive_av", args, rows, root)

    test = [row for row in rows if row["split"] == "test" and row["event_type"] != synthetic.MULTI_SOURCE]
    multi = [row for row in rows if row["split"] in {"val", "test"} and row["event_type"] == synthetic.MULTI_SOURCE]
    evaluated = test + multi
    ours = predict(event_heads, args, evaluated)
    baseline = predict(naive_av, args, evaluated)

    print(
        f"\n## Accuracy by event type (single-source test clips; {args.classes} classes, chance "
        f"{1 / args.classes:.2f}; config {args.config}, {args.epochs} epochs, device {args.device})\n"
    )
    print(accuracy_table(test, ours[: len(test)], baseline[: len(test)]))
    print("\n## Multi-label prediction on multi-source clips (single-label training)\n")
    print(multi_label_table(multi, ours[len(test) :], baseline[len(test) :], args.classes))
    print(f"\ntotal {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
