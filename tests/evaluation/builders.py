"""Build small studies and predict runs with known answers, for evaluation tests.

The study is written row by row (so which clip is gold and which labels are decoys is
fixed, not sampled); ``tests/evaluation/test_tables_db.py`` also drives the real queue
services once.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotator import models as am
from modelzoo.models import ModelRun, Prediction
from tests import factories

P, A, U = "present", "absent", "unsure"

#: clip -> original labels, proposals, decoys, gold flag
STUDY_CLIPS = {
    "A": {"original": ["c0"], "proposals": ["c0", "c1"], "decoys": ["c3"], "gold": False},
    "B": {"original": ["c2"], "proposals": ["c2"], "decoys": ["c4"], "gold": False},
    "C": {"original": ["c5"], "proposals": ["c3", "c4"], "decoys": ["c0"], "gold": False},
    "D": {"original": ["c1"], "proposals": ["c1"], "decoys": ["c2"], "gold": True},
}
#: rater -> clip -> label -> answer
STUDY_ANSWERS = {
    "r1": {
        "A": {"c0": P, "c1": P, "c3": P},
        "B": {"c2": P, "c4": P},
        "C": {"c3": A, "c4": P, "c0": P},
        "D": {"c1": P, "c2": P},
    },
    "r2": {
        "A": {"c0": P, "c1": A, "c3": A},
        "B": {"c2": P, "c4": A},
        "C": {"c3": A, "c4": P, "c0": A},
        "D": {"c1": A, "c2": A},
    },
    "r3": {
        "A": {"c0": P, "c1": U, "c3": A},
        "B": {"c2": A, "c4": A},
        "C": {"c3": P, "c4": U, "c0": A},
        "D": {"c1": P, "c2": A},
    },
}
STUDY_ADDED = {("r1", "A"): ["c5"], ("r2", "A"): ["c5"]}
STUDY_SECONDS = {"r1": 10.0, "r2": 20.0, "r3": 30.0}


@dataclass
class BuiltStudy:
    study: am.Study
    owner: object
    raters: dict
    categories: dict
    clips: dict


def build_study(*, owner=None, name: str = "known study") -> BuiltStudy:
    owner = owner or factories.make_researcher()
    taxonomy = factories.TaxonomyFactory()
    categories = {f"c{i}": factories.CategoryFactory(taxonomy=taxonomy, name=f"c{i}", index=i) for i in range(6)}
    dataset = factories.DatasetFactory(taxonomy=taxonomy, owner=owner)
    proposal_set = factories.ProposalSetFactory(dataset=dataset)
    study = am.Study.objects.create(
        name=name, dataset=dataset, proposal_set=proposal_set, owner=owner, sample_size=3, raters_per_clip=3
    )
    raters = {key: factories.make_rater(username=f"{name[:8]}-{key}") for key in STUDY_ANSWERS}
    raters["r4"] = factories.make_rater(username=f"{name[:8]}-r4")
    study.raters.set(raters.values())
    clips, study_clips = {}, {}
    for position, (key, spec) in enumerate(STUDY_CLIPS.items()):
        clip = factories.ClipFactory(
            dataset=dataset, clip_id=f"clip-{key}", youtube_id=f"yt{key}", start_seconds=10 * position
        )
        clip.media_status = am.Clip.MediaStatus.OK
        clip.save()
        for label in spec["original"]:
            am.ClipLabel.objects.create(clip=clip, category=categories[label])
        for label in spec["proposals"]:
            am.Proposal.objects.create(proposal_set=proposal_set, clip=clip, category=categories[label], score=0.5)
        study_clip = am.StudyClip.objects.create(study=study, clip=clip, position=position, is_gold=spec["gold"])
        shown = [(label, False) for label in spec["proposals"]] + [(label, True) for label in spec["decoys"]]
        for order, (label, is_decoy) in enumerate(shown):
            am.StudyClipLabel.objects.create(
                study_clip=study_clip,
                category=categories[label],
                is_decoy=is_decoy,
                source="decoy" if is_decoy else "proposal",
                position=order,
            )
        clips[key], study_clips[key] = clip, study_clip
    for rater_key, per_clip in STUDY_ANSWERS.items():
        for clip_key, answers in per_clip.items():
            rating = am.Rating.objects.create(
                study_clip=study_clips[clip_key], rater=raters[rater_key], seconds_spent=STUDY_SECONDS[rater_key]
            )
            for label, answer in answers.items():
                am.Judgment.objects.create(rating=rating, study=study, category=categories[label], answer=answer)
            for label in STUDY_ADDED.get((rater_key, clip_key), []):
                am.Judgment.objects.create(
                    rating=rating, study=study, category=categories[label], answer=P, added_by_rater=True
                )
    am.Rating.objects.create(study_clip=study_clips["B"], rater=raters["r4"], skipped=True)
    return BuiltStudy(study=study, owner=owner, raters=raters, categories=categories, clips=clips)


# --- predict runs --------------------------------------------------------------------------

RUN_LABELS = [[0], [1], [2], [3], [0], [1, 2]]
#: per clip: top-1 of continuous, instant, onset, visual, audio
EVENT_TOP1 = [[0, 0, 1, 0, 2], [2, 1, 2, 1, 1], [2, 3, 3, 3, 3], [0, 0, 3, 3, 0], [0, 0, 0, 0, 0], [3, 3, 3, 2, 1]]
EVENT_VOTE = [0, 1, 3, 0, 0, 3]
#: per clip: probability of the (lowest) original label per head -> dominant type
LABEL_PROBS = [
    [0.2, 0.7, 0.1, 0.3, 0.1],  # instant
    [0.1, 0.4, 0.1, 0.3, 0.6],  # audio
    [0.8, 0.1, 0.1, 0.2, 0.1],  # continuous
    [0.1, 0.1, 0.9, 0.3, 0.1],  # onset
    [0.3, 0.6, 0.3, 0.3, 0.3],  # instant
    [0.1, 0.1, 0.1, 0.1, 0.5],  # audio
]
NAIVE_TOP5 = [[0, 1, 2, 3], [2, 1, 0, 3], [2, 0, 1, 3], [3, 0, 1, 2], [1, 0, 2, 3], [1, 3, 2, 0]]
AUDIO_TOP1 = [0, 0, 0, 0, 0, 0]
VISION_TOP1 = [0, 1, 2, 0, 1, 0]
HEADS = ("continuous", "instant", "onset", "visual", "audio")


@dataclass
class BuiltRuns:
    dataset: am.Dataset
    owner: object
    runs: dict


def _top5(first: int, num_classes: int = 4) -> list[list[float]]:
    order = [first] + [c for c in range(num_classes) if c != first]
    return [[c, round(0.6 - 0.1 * i, 2)] for i, c in enumerate(order)]


def build_runs(*, owner=None) -> BuiltRuns:
    owner = owner or factories.make_researcher()
    taxonomy = factories.TaxonomyFactory()
    categories = [factories.CategoryFactory(taxonomy=taxonomy, name=f"k{i}", index=i) for i in range(4)]
    dataset = factories.DatasetFactory(taxonomy=taxonomy, name=f"runs-{taxonomy.pk}", owner=owner)
    clips = []
    for n, labels in enumerate(RUN_LABELS):
        clip = factories.ClipFactory(dataset=dataset, clip_id=f"v{n}", youtube_id=f"y{n}", start_seconds=n)
        for label in labels:
            am.ClipLabel.objects.create(clip=clip, category=categories[label])
        clips.append(clip)
    errored = factories.ClipFactory(dataset=dataset, clip_id="broken")
    am.ClipLabel.objects.create(clip=errored, category=categories[0])

    def run(model_kind: str, train: ModelRun | None = None) -> ModelRun:
        return ModelRun.objects.create(
            kind=ModelRun.Kind.PREDICT if train else ModelRun.Kind.TRAIN,
            model_kind=model_kind,
            config_name="tiny",
            dataset=dataset,
            split="test",
            status=ModelRun.Status.SUCCEEDED,
            source_run=train,
            created_by=owner,
        )

    runs = {}
    for kind in ("event_heads", "naive_av", "audio_only", "vision_only"):
        runs[kind] = run(kind, run(kind))
    for n, clip in enumerate(clips):
        heads = {
            head: {"top5": _top5(EVENT_TOP1[n][h]), "label_prob": LABEL_PROBS[n][h]} for h, head in enumerate(HEADS)
        }
        Prediction.objects.create(
            run=runs["event_heads"],
            clip=clip,
            heads=heads,
            vote_index=EVENT_VOTE[n],
            union_indices=sorted(set(EVENT_TOP1[n])),
            event_type="",
        )
        naive = [[c, round(0.5 - 0.1 * i, 2)] for i, c in enumerate(NAIVE_TOP5[n])]
        Prediction.objects.create(
            run=runs["naive_av"], clip=clip, heads={"naive_av": {"top5": naive}}, vote_index=NAIVE_TOP5[n][0]
        )
        for kind, top1 in (("audio_only", AUDIO_TOP1), ("vision_only", VISION_TOP1)):
            Prediction.objects.create(
                run=runs[kind], clip=clip, heads={kind: {"top5": _top5(top1[n])}}, vote_index=top1[n]
            )
    Prediction.objects.create(run=runs["event_heads"], clip=errored, error="unreadable file")
    return BuiltRuns(dataset=dataset, owner=owner, runs=runs)
