"""Does each event-specific head do its job? A fidelity bench on synthetic clips.

Generates clips whose event type is known by construction (``modelzoo.synthetic``; its package
doc says how each type is built against each head's mechanism), trains the event-head model and
the naive audio-visual baseline with ``modelzoo.nn.train`` for several seeds (no Django, no
database), and prints for the test split, every cell a mean with a 95% interval (a bootstrap
over seeds and clips, ``event_types_stats``):

1. accuracy of each head, the vote and naive AV by event type, and the targets: each
   event-specific head above the continuous head on its own type, the vote at least as good as
   naive AV overall;
2. the dominant event type (argmax over heads of the score on the true class, on logits and on
   softmax) against the construction type, with the per-type agreement;
3. on multi-source clips (two classes, trained with one label) the per-sample F1 of the union
   of the heads against naive-AV Top-1..5, and the union's size against the true label count.

    OMP_NUM_THREADS=2 python bench/event_types.py            # tiny config, CPU, about 30 min
    python bench/event_types.py --config paper --device cuda  # the paper-size variant

Sizes (tiny): 700 clips of 8 classes at 10 fps, 64x64 pixels (the tiny model samples 2 fps and
crops 48x48), split 55/5/40 so each event type has about 45 test clips; 3 seeds. Clips and the
decoded model inputs (frames, audio, onsets: ``modelzoo.nn.data``'s cache) stay under --out and
are reused by later runs, and so are finished training runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av  # noqa: E402

from bench import event_types_tables as tables  # noqa: E402
from modelzoo import synthetic  # noqa: E402
from modelzoo.nn import infer, train  # noqa: E402
from modelzoo.nn.config import TrainConfig, get_config  # noqa: E402
from modelzoo.nn.events import EpochEnd, TrainEvent  # noqa: E402

# torchvision switches PyAV's FFmpeg log callback on; it can deadlock threaded decoders. Off again.
av.logging.set_level(None)

SPLITS = (("train", 0.55), ("val", 0.05), ("test", 0.40))
MIN_TEST_PER_TYPE = 40


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=700)
    parser.add_argument("--classes", type=int, default=8)
    parser.add_argument("--multi-fraction", type=float, default=0.2)
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="Training seeds.")
    parser.add_argument("--config", default="tiny")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=None, help="Processes for generating clips.")
    parser.add_argument("--regenerate", action="store_true", help="Write the clips again (and drop caches).")
    parser.add_argument("--out", default="var/bench-event-types", help="Clips, caches and checkpoints.")
    return parser.parse_args()


def dataset(args: argparse.Namespace, root: Path) -> dict:
    model_config = get_config(args.config)
    # 10 fps covers both configs' sampling (2 fps tiny, 10 fps paper); the side covers their resize.
    size = max(64, model_config.resize_short + model_config.resize_short % 2)
    config = synthetic.SyntheticConfig(
        num_clips=args.clips,
        num_classes=args.classes,
        seed=args.data_seed,
        multi_fraction=args.multi_fraction,
        fps=10,
        size=size,
        splits=SPLITS,
        distractors=True,
    )
    manifest_path = root / synthetic.MANIFEST_JSON
    same = manifest_path.exists() and json.loads(manifest_path.read_text())["config"] == json.loads(
        json.dumps(asdict(config))
    )
    if same and not args.regenerate:
        print(f"reusing {args.clips} clips in {root}")
    else:
        for stale in ("runs", "features", synthetic.CLIPS_DIR):
            shutil.rmtree(root / stale, ignore_errors=True)
        started = time.monotonic()
        synthetic.generate_dataset(root, config, workers=args.workers)
        print(f"generated {args.clips} clips in {time.monotonic() - started:.0f} s")
    return synthetic.load_manifest(root)


def fit(kind: str, seed: int, args: argparse.Namespace, rows: list[dict], root: Path) -> Path:
    items = {split: [(r["abspath"], r["label"]) for r in rows if r["split"] == split] for split in ("train", "val")}
    started = time.monotonic()

    def report(event: TrainEvent) -> None:
        if isinstance(event, EpochEnd):
            val = event.metrics.get("val") or {}
            print(
                f"  {kind} seed {seed} epoch {event.epoch}: loss {event.loss:.3f}, "
                f"val vote {val.get('vote_accuracy', float('nan')):.2f} ({event.metrics['seconds']:.0f} s)",
                flush=True,
            )

    result = train.fit(
        config=TrainConfig(
            model_kind=kind,
            num_classes=args.classes,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=seed,
            device=args.device,
        ),
        model_config=get_config(args.config),
        train_items=items["train"],
        val_items=items["val"],
        checkpoint_dir=root / "runs" / f"{kind}-{args.config}-e{args.epochs}-lr{args.lr:g}-s{seed}",
        cache_dir=root / "features",
        resume=True,  # a finished run is reused, an interrupted one continues
        on_progress=report,
    )
    print(f"trained {kind} seed {seed} in {time.monotonic() - started:.0f} s", flush=True)
    assert result.checkpoint_path is not None
    return result.checkpoint_path


def main() -> None:
    args = parse_args()
    root = Path(args.out).resolve()
    started = time.monotonic()
    rows = dataset(args, root)["clips"]
    test = [row for row in rows if row["split"] == "test"]
    singles = [row for row in test if row["event_type"] != synthetic.MULTI_SOURCE]
    evaluated = singles + [row for row in test if row["event_type"] == synthetic.MULTI_SOURCE]
    for event_type in synthetic.EVENT_TYPES:
        count = sum(row["event_type"] == event_type for row in singles)
        if count < MIN_TEST_PER_TYPE:
            print(f"warning: only {count} {event_type} test clips (want {MIN_TEST_PER_TYPE}); raise --clips")

    runs = []
    for seed in args.seeds:
        outputs = {}
        for kind in ("event_heads", "naive_av"):
            checkpoint = fit(kind, seed, args, rows, root)
            outputs[kind] = infer.head_logits(
                checkpoint_path=checkpoint,
                items=[row["abspath"] for row in evaluated],
                device=args.device,
                batch_size=args.batch_size,
                cache_dir=root / "features",
            )
        runs.append(tables.SeedRun(ours=outputs["event_heads"], naive=outputs["naive_av"]["naive_av"]))

    seeds = ", ".join(str(s) for s in args.seeds)
    print(
        f"\n## Accuracy by event type ({len(singles)} single-source test clips, {args.classes} classes, chance "
        f"{1 / args.classes:.2f}; config {args.config}, {args.epochs} epochs, seeds {seeds}, device {args.device})\n"
    )
    table, cells = tables.accuracy(evaluated, runs)
    print(table)
    print("\nTargets:\n" + tables.accuracy_targets(cells))
    for on in ("logits", "softmax"):
        print(f"\n## Dominant event type on {on} (argmax over heads of the score on the true class)\n")
        print(tables.dominant_types(evaluated, runs, on=on))
    differ = tables.logits_vs_softmax(evaluated, runs)
    print(f"\nThe two readings pick different heads on {differ:.0%} of single-source clip runs.")
    print("\n## Multi-label prediction on multi-source clips (single-label training)\n")
    table, union, best = tables.multi_label(evaluated, runs)
    print(table)
    verdict = "met" if union.above(best) else "MISSED"
    print(f"\nTarget: union {union} above the best Top-K {best}: {verdict}")
    print("\n## Union set size against the true number of labels (test clips)\n")
    print(tables.set_sizes(evaluated, runs))
    print(f"\ntotal {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
