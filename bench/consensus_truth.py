"""bench/consensus.py's truth and proposals: the LLP/AVVP val+test clips with their dense
audio and visual events as a multi-label truth with modality, a seeded proposal set that
holds part of each clip's truth plus wrong labels, as a model's union set would, and the
database seeded with both (Django, imported there only)."""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_FOLDERS = (ROOT / "tests" / "data" / "llp_avvp", ROOT.parent / "shared" / "data" / "llp_avvp")

# The 25 LLP classes in the index order of the AVVP code (the folder's README).
CLASSES = (
    "Speech", "Car", "Cheering", "Dog", "Cat", "Frying_(food)", "Basketball_bounce", "Fire_alarm", "Chainsaw",
    "Cello", "Banjo", "Singing", "Chicken_rooster", "Violin_fiddle", "Vacuum_cleaner", "Baby_laughter", "Accordion",
    "Lawn_mower", "Motorcycle", "Helicopter", "Acoustic_guitar", "Telephone_bell_ringing", "Baby_cry_infant_cry",
    "Blender", "Clapping",
)  # fmt: skip
MODALITIES = ("A", "V", "AV")
KEEP_TRUE = 0.6  # share of a clip's true labels the proposals hold
MEAN_PROPOSALS = 2.2  # mean proposal set size, as the union of the model's heads gives


@dataclass(frozen=True)
class TruthClip:
    filename: str  # <youtube_id>_<start>_<end>
    split: str  # "val" | "test"
    weak: tuple[str, ...]  # the video-level labels of AVVP_val_pd / AVVP_test_pd (the original labels)
    truth: dict[str, str]  # class -> "A" | "V" | "AV"

    @property
    def youtube_id(self) -> str:
        return self.filename[:11]  # as the AVVP loader reads it; ids may contain "_"

    @property
    def start_seconds(self) -> float:
        return float(self.filename.rsplit("_", 2)[1])


def data_folder() -> Path:
    for folder in DATA_FOLDERS:
        if folder.is_dir():
            return folder
    raise FileNotFoundError(f"no LLP/AVVP folder: looked in {', '.join(map(str, DATA_FOLDERS))}")


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader)  # header
        return [row for row in reader if row]


def truth_load(folder: Path) -> list[TruthClip]:
    """Every val and test clip with at least one dense event, in file order (val, then test).

    A clip's truth is the union of its audio and visual event classes, "AV" for a class in
    both files. Left out, per the folder's README: filenames in no val or test split (mangled
    ids), and rows with onset >= offset, which mark no segment in the AVVP ground truth."""
    weak: dict[str, tuple[str, tuple[str, ...]]] = {}
    for split, name in (("val", "AVVP_val_pd.csv"), ("test", "AVVP_test_pd.csv")):
        for filename, labels in _rows(folder / name):
            # dict.fromkeys: a few rows name a class twice (e.g. "Speech,Speech")
            weak[filename] = (split, tuple(dict.fromkeys(labels.split(","))))
    heard_seen: dict[str, dict[str, set[str]]] = {}
    for modality, name in (("A", "AVVP_eval_audio.csv"), ("V", "AVVP_eval_visual.csv")):
        for filename, onset, offset, label in _rows(folder / name):
            if filename not in weak or int(onset) >= int(offset):
                continue
            if label not in CLASSES:
                raise ValueError(f"{name}: unknown class {label!r} for {filename}")
            heard_seen.setdefault(filename, {}).setdefault(label, set()).add(modality)
    return [
        TruthClip(
            filename=filename,
            split=weak[filename][0],
            weak=weak[filename][1],
            truth={label: "AV" if len(seen) == 2 else next(iter(seen)) for label, seen in sorted(events.items())},
        )
        for filename, events in ((f, heard_seen[f]) for f in weak if f in heard_seen)
    ]


def _expected_size(true_counts: list[int], wrong_rate: float) -> float:
    """Mean proposal set size for a Poisson(wrong_rate) number of wrong labels, counting the
    one wrong label added where a clip would otherwise get none."""
    kept = sum(true_counts) * KEEP_TRUE
    empty = sum((1 - KEEP_TRUE) ** count for count in true_counts) * math.exp(-wrong_rate)
    return (kept + empty) / len(true_counts) + wrong_rate


def _poisson(rng: random.Random, rate: float) -> int:
    """Knuth's method: fine for the small rates used here."""
    limit, count, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def proposals_make(clips: list[TruthClip], *, seed: int) -> dict[str, list[str]]:
    """Seeded proposals per clip: each true label kept with p KEEP_TRUE, plus a Poisson number
    of wrong labels (uniform over the clip's false classes) whose rate puts the mean set size
    at MEAN_PROPOSALS; a clip left with none gets one wrong label."""
    rng = random.Random(seed)
    true_counts = [len(clip.truth) for clip in clips]
    low, high = 0.0, float(len(CLASSES))
    for _ in range(60):  # bisection: the expected size grows with the rate
        middle = (low + high) / 2
        low, high = (middle, high) if _expected_size(true_counts, middle) < MEAN_PROPOSALS else (low, middle)
    wrong_rate = (low + high) / 2
    proposals = {}
    for clip in clips:
        kept = [label for label in clip.truth if rng.random() < KEEP_TRUE]
        false_classes = [label for label in CLASSES if label not in clip.truth]
        wrong_count = min(_poisson(rng, wrong_rate), len(false_classes))
        if not kept and not wrong_count:
            wrong_count = 1
        proposals[clip.filename] = kept + rng.sample(false_classes, wrong_count)
    return proposals


def truth_statistics(clips: list[TruthClip], proposals: dict[str, list[str]]) -> dict[str, float]:
    true_pairs = sum(len(clip.truth) for clip in clips)
    proposed = sum(len(proposals[clip.filename]) for clip in clips)
    hits = sum(label in clip.truth for clip in clips for label in proposals[clip.filename])
    modalities = [modality for clip in clips for modality in clip.truth.values()]
    return {
        "clips": len(clips),
        "val clips": sum(clip.split == "val" for clip in clips),
        "test clips": sum(clip.split == "test" for clip in clips),
        "mean true labels": true_pairs / len(clips),
        "true labels A / V / AV": "/".join(f"{modalities.count(m) / len(modalities):.3f}" for m in MODALITIES),
        "true labels not in the weak labels": sum(label not in clip.weak for clip in clips for label in clip.truth),
        "mean proposal set size": proposed / len(clips),
        "min proposal set size": min(len(proposals[clip.filename]) for clip in clips),
        "proposal recall": hits / true_pairs,
        "proposal precision": hits / proposed,
    }


def seed_database(*, clips: list[TruthClip], proposals: dict[str, list[str]], rater_names: list[str]):
    """Seed the study database (Django set up): the taxonomy, a researcher's dataset with the
    clips and their weak labels (the original labels), the proposal set, every clip's truth as
    GoldLabel rows, the raters. Returns (dataset, proposal set, owner, raters)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from annotator import roles
    from annotator.models import Category, Clip, ClipLabel, Dataset, GoldLabel, Proposal, ProposalSet, Taxonomy

    taxonomy = Taxonomy.objects.create(name="llp-bench", source="bench/consensus.py")
    categories = {
        category.name: category
        for category in Category.objects.bulk_create(
            [Category(taxonomy=taxonomy, name=name, index=index) for index, name in enumerate(CLASSES)]
        )
    }
    User = get_user_model()
    owner = User.objects.create(username="bench-researcher")
    owner.groups.add(Group.objects.get_or_create(name=roles.RESEARCHER)[0])
    dataset = Dataset.objects.create(name="llp-bench", taxonomy=taxonomy, owner=owner)
    rows = Clip.objects.bulk_create(
        [
            Clip(
                dataset=dataset,
                clip_id=clip.filename,
                youtube_id=clip.youtube_id,
                start_seconds=clip.start_seconds,
                split=clip.split,
                media_status=Clip.MediaStatus.OK,
                duration_seconds=10.0,
                has_audio=True,
            )
            for clip in clips
        ],
        batch_size=1000,
    )
    ClipLabel.objects.bulk_create(
        [
            ClipLabel(clip=row, category=categories[name])
            for row, clip in zip(rows, clips, strict=True)
            for name in clip.weak
        ],
        batch_size=2000,
    )
    proposal_set = ProposalSet.objects.create(dataset=dataset, name="bench union", source=ProposalSet.Source.FILE)
    Proposal.objects.bulk_create(
        [
            Proposal(proposal_set=proposal_set, clip=row, category=categories[name], score=0.5)
            for row, clip in zip(rows, clips, strict=True)
            for name in proposals[clip.filename]
        ],
        batch_size=2000,
    )
    # Every clip gets its truth as GoldLabel rows: study_create samples from all eligible clips,
    # gold-labelled or not, and draws the gold clips from the gold-labelled ones left over, so a
    # pool of exactly the gold clips would be eaten by the sample. Non-gold clips' rows are unused.
    GoldLabel.objects.bulk_create(
        [
            GoldLabel(
                clip=row,
                category=categories[name],
                present=name in clip.truth,
                modality=clip.truth.get(name, ""),
                source="bench/consensus.py",
            )
            for row, clip in zip(rows, clips, strict=True)
            for name in CLASSES
        ],
        batch_size=5000,
    )
    rater_group = Group.objects.get_or_create(name=roles.RATER)[0]
    raters = []
    for name in rater_names:
        rater = User.objects.create(username=name)
        rater.groups.add(rater_group)
        raters.append(rater)
    return dataset, proposal_set, owner, raters
