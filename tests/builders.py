"""Builders shared by the annotator, page and browser tests: a world of labelled clips with
proposals, a study over it, generated MP4 files, and the few steps tests take on a study."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from django.contrib.auth.models import User

from annotator import services
from annotator.models import Category, Clip, ClipLabel, Dataset, ProposalSet, Rating, Study, StudyClip, Taxonomy
from tests.factories import (
    CategoryFactory,
    ClipFactory,
    DatasetFactory,
    ProposalFactory,
    ProposalSetFactory,
    TaxonomyFactory,
    make_rater,
    make_researcher,
)

CATEGORY_COUNT = 10
CLICK_SAMPLES = 800


@dataclass
class World:
    """A taxonomy, a dataset of labelled clips, one proposal set, a researcher and raters."""

    taxonomy: Taxonomy
    categories: list[Category]
    dataset: Dataset
    proposal_set: ProposalSet
    owner: User
    raters: list[User]
    clips: list[Clip] = field(default_factory=list)
    study: Study | None = None

    def category(self, name: str) -> Category:
        return next(category for category in self.categories if category.name == name)

    def clip_add(self, clip: Clip, *, label: str, proposals: Mapping[str, Sequence[str]]) -> Clip:
        """Give `clip` its original label and proposals (category name -> proposing heads)."""
        ClipLabel.objects.create(clip=clip, category=self.category(label))
        for name, heads in proposals.items():
            ProposalFactory(proposal_set=self.proposal_set, clip=clip, category=self.category(name), heads=list(heads))
        self.clips.append(clip)
        return clip


def _world_start(
    *,
    taxonomy: Taxonomy,
    category_names: Sequence[str],
    dataset: Dataset,
    proposal_set: ProposalSet,
    owner: User,
    raters: Sequence[User],
) -> World:
    categories = [CategoryFactory(taxonomy=taxonomy, name=name, index=i) for i, name in enumerate(category_names)]
    return World(
        taxonomy=taxonomy,
        categories=categories,
        dataset=dataset,
        proposal_set=proposal_set,
        owner=owner,
        raters=list(raters),
    )


def build_world(*, clips_per_class: Sequence[int] = (4, 4, 4), raters: int = 4, split: str = "test") -> World:
    """A taxonomy of 10 classes; for class k, clips labelled k with proposals k and k+5. The
    world's researcher owns the dataset."""
    taxonomy = TaxonomyFactory()
    owner = make_researcher()
    dataset = DatasetFactory(taxonomy=taxonomy, owner=owner)
    world = _world_start(
        taxonomy=taxonomy,
        category_names=[f"cat{i}" for i in range(CATEGORY_COUNT)],
        dataset=dataset,
        proposal_set=ProposalSetFactory(dataset=dataset),
        owner=owner,
        raters=[make_rater() for _ in range(raters)],
    )
    for label, count in enumerate(clips_per_class):
        for _ in range(count):
            world.clip_add(
                ClipFactory(dataset=dataset, media_status=Clip.MediaStatus.OK, split=split),
                label=f"cat{label}",
                proposals={f"cat{label}": ["continuous"], f"cat{label + 5}": ["continuous"]},
            )
    return world


@dataclass(frozen=True)
class MediaClip:
    """One clip of a media world: its MP4 (written by `write_mp4`), original label and
    proposals (category name -> proposing heads)."""

    clip_id: str
    file_name: str
    label: str
    proposals: Mapping[str, Sequence[str]]
    seconds: float
    audio: bool = True
    size: int = 64
    clicks: tuple[float, ...] = (0.5, 1.2)


def build_media_world(
    *,
    media_root: Path,
    folder: str,
    taxonomy_name: str,
    proposal_set_name: str,
    category_names: Sequence[str],
    clips: Sequence[MediaClip],
    owner: User,
    raters: Sequence[User],
) -> World:
    """A world whose clips are real MP4 files under `media_root / folder`, for the pages;
    `owner` owns the dataset."""
    taxonomy = TaxonomyFactory(name=taxonomy_name)
    dataset = DatasetFactory(taxonomy=taxonomy, media_root=folder, owner=owner)
    world = _world_start(
        taxonomy=taxonomy,
        category_names=category_names,
        dataset=dataset,
        proposal_set=ProposalSetFactory(dataset=dataset, name=proposal_set_name),
        owner=owner,
        raters=raters,
    )
    for spec in clips:
        write_mp4(
            media_root / folder / spec.file_name,
            seconds=spec.seconds,
            size=spec.size,
            audio=spec.audio,
            clicks=spec.clicks,
        )
        world.clip_add(
            ClipFactory(
                dataset=dataset, clip_id=spec.clip_id, media_path=spec.file_name, media_status=Clip.MediaStatus.OK
            ),
            label=spec.label,
            proposals=spec.proposals,
        )
    return world


def make_study(
    world: World,
    *,
    name: str = "study",
    owner: User | None = None,
    raters: Sequence[User] | None = None,
    proposal_set: ProposalSet | None = None,
    sample_size: int | None = None,
    seed: int = 7,
    stratified: bool = True,
    split: str = "",
    raters_per_clip: int = 3,
    decoys_per_clip: int = 1,
    gold_rate: float = 0.0,
    show_evidence: bool = False,
    reservation_timeout_seconds: int = 600,
    instructions: str = "",
    **settings,
) -> Study:
    """A study over the world through the real service: by default every clip, the world's
    owner, raters and proposal set; `settings` go to study_create as they are (serving,
    min_raters, ask_modality, ...)."""
    return services.study_create(
        name=name,
        dataset=world.dataset,
        proposal_set=proposal_set or world.proposal_set,
        owner=owner or world.owner,
        raters=world.raters if raters is None else raters,
        sample_size=len(world.clips) if sample_size is None else sample_size,
        seed=seed,
        stratified=stratified,
        split=split,
        raters_per_clip=raters_per_clip,
        decoys_per_clip=decoys_per_clip,
        gold_rate=gold_rate,
        show_evidence=show_evidence,
        reservation_timeout_seconds=reservation_timeout_seconds,
        instructions=instructions,
        **settings,
    )


def reserve(world: World, *, rater: User | None = None) -> StudyClip | None:
    """The clip the queue serves `rater` (the world's first rater) in the world's study."""
    return services.clip_next_for_rater(study=world.study, rater=rater or world.raters[0])


def all_present(study_clip: StudyClip) -> dict[int, str]:
    shown = study_clip.shown_labels.filter(hidden_at__isnull=True)
    return {pk: "present" for pk in shown.values_list("category_id", flat=True)}


def rate(
    study_clip: StudyClip, rater: User, *, added_category_ids: Sequence[int] = (), seconds_spent: float | None = None
) -> Rating:
    """Submit "present" for every label the clip shows."""
    return services.rating_submit(
        study_clip=study_clip,
        rater=rater,
        answers=all_present(study_clip),
        added_category_ids=added_category_ids,
        seconds_spent=seconds_spent,
    )


def write_mp4(
    path: Path,
    *,
    seconds: float = 2.0,
    size: int = 64,
    fps: int = 10,
    sample_rate: int = 16000,
    audio: bool = True,
    clicks: tuple[float, ...] = (0.5, 1.2),
) -> Path:
    """An MP4 (H.264 + AAC) with a brightening grey picture and, if `audio`, near-silence
    with loud clicks."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width = video.height = size
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "ultrafast"}
        sound = container.add_stream("aac", rate=sample_rate, layout="mono") if audio else None
        for index in range(int(seconds * fps)):
            picture = np.full((size, size, 3), (index * 20) % 256, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode())
        if sound is not None:
            wave = _click_track(seconds=seconds, sample_rate=sample_rate, clicks=clicks)
            for offset in range(0, wave.size, 1024):
                chunk = wave[offset : offset + 1024].reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                frame.sample_rate = sample_rate
                frame.pts = offset
                frame.time_base = Fraction(1, sample_rate)
                container.mux(sound.encode(frame))
            container.mux(sound.encode())
    return path


def _click_track(*, seconds: float, sample_rate: int, clicks: tuple[float, ...]) -> np.ndarray:
    rng = np.random.default_rng(0)
    wave = 0.0005 * rng.standard_normal(int(seconds * sample_rate)).astype(np.float32)
    burst = (np.hanning(CLICK_SAMPLES) * np.sin(np.arange(CLICK_SAMPLES) * 0.6) * 0.8).astype(np.float32)
    for at in clicks:
        start = int(at * sample_rate)
        wave[start : start + CLICK_SAMPLES] += burst[: max(0, wave.size - start)]
    return wave
