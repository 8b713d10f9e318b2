"""Benchmark: the full evaluation at VGGSound scale, and the reference libraries beside it.

Generated, seeded data: 15,446 clips (the VGGSound test split), 309 classes, 5 heads, a
human study where 12 raters answer every shown label of every clip (the model's union
set plus one decoy). Each metric of ``evaluation.metrics`` is timed, then the same
computation through scikit-learn (accuracy, precision/recall/F1), statsmodels (Fleiss'
kappa) and the krippendorff package (nominal alpha), in the same run. Prints a table.

    OMP_NUM_THREADS=1 python bench/metrics_speed.py [--clips 15446] [--raters 12] [--boot 1000]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation import metrics  # noqa: E402

N_CLASSES = 309
N_HEADS = 5


@dataclass
class Row:
    name: str
    ours: float
    reference: float | None = None
    reference_name: str = ""
    check: str = ""


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
    best = float("inf")
    result: object = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def generate(n_clips: int, n_raters_per_clip: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, N_CLASSES, n_clips)
    logits = rng.normal(0, 1, (N_HEADS, n_clips, N_CLASSES))
    logits[:, np.arange(n_clips), truth] += rng.normal(4.5, 1.5, (N_HEADS, n_clips))
    probs = np.exp(logits - logits.max(axis=2, keepdims=True))
    probs /= probs.sum(axis=2, keepdims=True)
    heads = probs.argmax(axis=2)  # (H, N)
    head_conf = probs.max(axis=2)
    vote = heads[np.argmax(head_conf, axis=0), np.arange(n_clips)]
    extra = rng.random((n_clips, N_CLASSES)) < 0.8 / N_CLASSES
    multi_truth = extra.copy()
    multi_truth[np.arange(n_clips), truth] = True
    naive_scores = probs[0] + rng.normal(0, 0.01, probs[0].shape)

    # The study: shown labels = union of heads + one decoy per clip.
    union = metrics.union_indicator(heads, N_CLASSES)
    clip_of, label_of = np.nonzero(union)
    decoy_label = (truth + rng.integers(1, N_CLASSES, n_clips)) % N_CLASSES
    decoy_label = np.where(union[np.arange(n_clips), decoy_label], (decoy_label + 1) % N_CLASSES, decoy_label)
    item_clip = np.concatenate([clip_of, np.arange(n_clips)])
    item_label = np.concatenate([label_of, decoy_label])
    is_decoy = np.concatenate([np.zeros(clip_of.size, bool), np.ones(n_clips, bool)])
    order = np.argsort(item_clip, kind="stable")
    item_clip, item_label, is_decoy = item_clip[order], item_label[order], is_decoy[order]
    m = item_clip.size
    really = (item_label == truth[item_clip]) | (rng.random(m) < 0.35)
    really &= ~is_decoy | (rng.random(m) < 0.05)
    # Every clip gets n distinct raters out of a pool of 60.
    pool = 60
    clip_raters = np.argsort(rng.random((n_clips, pool)), axis=1)[:, :n_raters_per_clip]
    item_rep = np.repeat(np.arange(m), n_raters_per_clip)
    rater = clip_raters[item_clip].reshape(-1)
    p_present = np.where(really[item_rep], 0.85, 0.12)
    u = rng.random(item_rep.size)
    answer = np.where(u < 0.05, metrics.UNSURE, np.where(u < 0.05 + 0.95 * p_present, metrics.PRESENT, metrics.ABSENT))
    gold_clip = rng.random(n_clips) < 0.05
    gold_truth = np.where(gold_clip[item_clip], (item_label == truth[item_clip]).astype(int), -1)
    rating_rater = clip_raters.reshape(-1)
    rating_seconds = rng.gamma(2.0, 3.0, rating_rater.size)
    return {
        "truth": truth,
        "heads": heads,
        "vote": vote,
        "label_probs": probs[:, np.arange(n_clips), truth].T,  # (N, H)
        "multi_truth": multi_truth,
        "naive_scores": naive_scores,
        "item_clip": item_clip,
        "item_label": item_label,
        "is_decoy": is_decoy,
        "judgment_item": item_rep,
        "judgment_rater": rater,
        "judgment_answer": answer,
        "gold_truth": gold_truth,
        "rating_rater": rating_rater,
        "rating_seconds": rating_seconds,
        "pool": np.array(pool),
    }


def run(n_clips: int, n_raters: int, n_boot: int, seed: int) -> list[Row]:
    from sklearn import metrics as skm

    d = generate(n_clips, n_raters, seed)
    rows: list[Row] = []
    n = n_clips

    t, _ = timed(lambda: (metrics.head_accuracies(d["heads"], d["truth"]), metrics.accuracy(d["vote"], d["truth"])))
    ref_t, _ = timed(
        lambda: [skm.accuracy_score(d["truth"], h) for h in d["heads"]] + [skm.accuracy_score(d["truth"], d["vote"])]
    )
    rows.append(Row("accuracy: 5 heads + vote", t, ref_t, "sklearn accuracy_score"))

    t, union = timed(lambda: metrics.union_indicator(d["heads"], N_CLASSES))
    rows.append(Row("union set of 5 heads (N, 309)", t))
    t, card = timed(lambda: metrics.cardinality(union, max_size=N_HEADS))
    rows.append(Row("cardinality mean + histogram", t, check=f"mean |P| {card.mean:.2f}"))
    t, topk = timed(lambda: metrics.top_k_indicators(d["naive_scores"], [1, 2, 3, 4, 5]))
    rows.append(Row("Top-1..5 sets from scores (N, 309)", t))

    sets = {"union": union, **{f"top{k}": v for k, v in topk.items()}}
    truth = d["multi_truth"]

    def ours_prf() -> dict:
        return {name: metrics.multilabel_report(truth, pred) for name, pred in sets.items()}

    def sklearn_prf() -> dict:
        return {
            name: {
                avg: skm.precision_recall_fscore_support(truth, pred, average=avg, zero_division=0.0)
                for avg in metrics.AVERAGES
            }
            for name, pred in sets.items()
        }

    t, ours = timed(ours_prf)
    ref_t, ref = timed(sklearn_prf)
    worst = max(
        abs(getattr(ours[name][avg], field) - ref[name][avg][i])
        for name in sets
        for avg in metrics.AVERAGES
        for i, field in enumerate(("precision", "recall", "f1"))
    )
    rows.append(Row("P/R/F1 samples+micro+macro, 6 sets", t, ref_t, "sklearn p_r_f_support", f"max diff {worst:.1e}"))

    m = d["item_clip"].size
    t, counts = timed(lambda: metrics.answer_counts(d["judgment_item"], d["judgment_answer"], m))
    rows.append(Row(f"answer counts ({d['judgment_item'].size:,} judgments)", t))
    items = metrics.StudyItems(
        counts=counts, clip=d["item_clip"], label=d["item_label"], is_decoy=d["is_decoy"], n_clips=n
    )
    t, summary = timed(lambda: metrics.study_summary(items, n_boot=n_boot, seed=seed))
    rows.append(
        Row(
            f"study summary + {n_boot} bootstrap CIs",
            t,
            check=f"acc {summary.acceptance.estimate:.3f} [{summary.acceptance.low:.3f}, "
            f"{summary.acceptance.high:.3f}]",
        )
    )
    t, _ = timed(lambda: metrics.acceptance_by_label(items, N_CLASSES))
    rows.append(Row("acceptance by label", t))

    # Agreement with unsure as a third category: every item has 12 ratings, which statsmodels needs.
    three = metrics.agreement_counts(counts, unsure_as_category=True)
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_kappa

    t, kappa = timed(lambda: metrics.fleiss_kappa(three))
    ref_t, ref_kappa = timed(lambda: sm_kappa(three))
    rows.append(Row("Fleiss' kappa overall", t, ref_t, "statsmodels", f"diff {abs(kappa - ref_kappa):.1e}"))
    by_label = [three[d["item_label"] == c] for c in range(N_CLASSES)]
    t, kappas = timed(lambda: metrics.fleiss_kappa_by_group(three, d["item_label"], N_CLASSES))
    ref_t, ref_kappas = timed(lambda: np.array([sm_kappa(x) if len(x) else np.nan for x in by_label]))
    diff = np.nanmax(np.abs(kappas - ref_kappas))
    rows.append(Row("Fleiss' kappa per label (309)", t, ref_t, "statsmodels x309", f"max diff {diff:.1e}"))

    import krippendorff

    two = metrics.agreement_counts(counts)
    t, alpha = timed(lambda: metrics.krippendorff_alpha_nominal(two))
    ref_t, ref_alpha = timed(lambda: krippendorff.alpha(value_counts=two, level_of_measurement="nominal"))
    rows.append(Row("Krippendorff alpha overall", t, ref_t, "krippendorff", f"diff {abs(alpha - ref_alpha):.1e}"))
    two_by_label = [two[d["item_label"] == c] for c in range(N_CLASSES)]
    t, alphas = timed(lambda: metrics.krippendorff_alpha_by_group(two, d["item_label"], N_CLASSES))
    ref_t, ref_alphas = timed(
        lambda: np.array(
            [
                krippendorff.alpha(value_counts=x, level_of_measurement="nominal") if len(x) else np.nan
                for x in two_by_label
            ]
        )
    )
    diff = np.nanmax(np.abs(alphas - ref_alphas))
    rows.append(Row("Krippendorff alpha per label (309)", t, ref_t, "krippendorff x309", f"max diff {diff:.1e}"))

    t, _ = timed(
        lambda: metrics.rater_quality(
            rater=d["judgment_rater"],
            item=d["judgment_item"],
            answer=d["judgment_answer"],
            counts=counts,
            is_decoy=d["is_decoy"],
            gold_truth=d["gold_truth"],
            n_raters=int(d["pool"]),
            rating_rater=d["rating_rater"],
            rating_seconds=d["rating_seconds"],
        )
    )
    rows.append(Row("rater quality (60 raters)", t))

    av = metrics.correct_matrix(d["heads"][:3], d["truth"])
    t, comp = timed(lambda: metrics.complementarity(metrics.correct_matrix(d["heads"][:3], d["truth"])))
    rows.append(
        Row(
            "Table 3 complementarity",
            t,
            check=f"only-cont {comp.only_continuous}, (I|O)&!C {comp.new_heads_over_continuous}",
        )
    )
    del av

    def table4() -> np.ndarray:
        types = metrics.dominant_event_types(d["label_probs"])
        per_category = metrics.category_event_types(types, d["truth"], N_CLASSES, N_HEADS)
        return metrics.event_type_counts(per_category, N_HEADS)

    t, counts4 = timed(table4)
    rows.append(Row("Table 4 event types", t, check="/".join(str(x) for x in counts4)))
    return rows


def print_table(rows: list[Row], header: str) -> None:
    print(header)
    print(f"| {'metric':<42} | {'ours ms':>9} | {'reference ms':>12} | {'reference':<22} | {'speed-up':>8} | check |")
    print(f"|{'-' * 44}|{'-' * 11}|{'-' * 14}|{'-' * 24}|{'-' * 10}|-------|")
    for row in rows:
        ref = f"{row.reference * 1000:12.1f}" if row.reference is not None else f"{'':>12}"
        ratio = f"{row.reference / row.ours:7.1f}x" if row.reference is not None and row.ours > 0 else f"{'':>8}"
        print(f"| {row.name:<42} | {row.ours * 1000:9.1f} | {ref} | {row.reference_name:<22} | {ratio} | {row.check} |")
    ours_total = sum(r.ours for r in rows)
    both = [r for r in rows if r.reference is not None]
    print(f"| {'TOTAL (all metrics, ours)':<42} | {ours_total * 1000:9.1f} | {'':>12} | {'':<22} | {'':>8} | |")
    ours_both = sum(r.ours for r in both)
    ref_both = sum(r.reference or 0.0 for r in both)
    print(
        f"| {'computations both do':<42} | {ours_both * 1000:9.1f} | {ref_both * 1000:12.1f} | {'':<22} | "
        f"{ref_both / ours_both:7.1f}x | |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=15_446)
    parser.add_argument("--raters", type=int, default=12)
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    rows = run(args.clips, args.raters, args.boot, args.seed)
    header = (
        f"evaluation.metrics at {args.clips:,} clips x {N_CLASSES} classes x {N_HEADS} heads, "
        f"{args.raters} raters per clip, {args.boot} bootstrap resamples (seed {args.seed})"
    )
    print_table(rows, header)
    print(f"(wall time incl. data generation and references: {time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
