"""A Label Studio export into a dataset: its tasks as clips, its predictions as proposal
sets, its annotations as the ratings of a closed study.

- Clips: a task's clip id comes from its video's file name (label_studio_tasks); clips
  the dataset has already are used as they are (their original labels kept).
- Proposals: one proposal set per `model_version`, its content replaced by the file's (as a
  proposal file import does); a set a model run wrote is never replaced.
- Ratings: a study "imported from Label Studio" (closed: nothing is served), named by the
  caller or after the file. A Label Studio rater saw every choice, so a rating answers each
  label its clip shows: present when the rater chose it, absent otherwise. A clip shows the
  study's proposals and every label a rater chose; a chosen label no model proposed is an
  added label (StudyClipLabel.Source.ADDED), added by the first rater who chose it. Raters
  are users matched by email (or, for a bare user id, the user `label-studio-<id>`), created
  as raters without a usable password when absent. Cancelled annotations are skipped.

Labels outside the taxonomy, bad predictions and annotations are row errors. A rerun stores
nothing twice: clips and ratings are keyed by clip id and (clip, rater), proposal sets by name,
the study by (dataset, owner, name); reruns add and update, never delete ratings.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from annotator import roles
from annotator.importers.bulk import rows_upsert
from annotator.importers.clip_formats import ClipRow
from annotator.importers.clips import clips_store
from annotator.importers.label_studio_tasks import LsTask, label_config_parse, label_studio_tasks, rater_username
from annotator.importers.proposals import ProposalRow, proposal_set_store
from annotator.importers.readers import text_read
from annotator.importers.report import ImportInputError, ImportReport
from annotator.models import Category, Clip, Dataset, Judgment, Proposal, ProposalSet, Rating, Study, StudyClip
from annotator.models import StudyClipLabel as Shown

logger = logging.getLogger(__name__)

STUDY_NAME_MAX = Study._meta.get_field("name").max_length
NO_MODEL_VERSION = "label-studio"
ProgressCallback = Callable[[int, int], None]


def label_studio_import(
    *,
    dataset: Dataset,
    path: Path | str,
    owner,
    study_name: str = "",
    config_text: str = "",
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a Label Studio JSON export into `dataset`; `owner` (a researcher) owns the
    study its annotations become. `config_text`: the project's labelling config, which names
    the task.data key of the video (default `video`) and the Choices tags to read."""
    if not roles.user_is_researcher(owner):
        raise ImportInputError(f"{owner} is not a researcher and cannot own the imported study.")
    config = label_config_parse(config_text)
    tasks, errors = label_studio_tasks(text_read(path=path), config=config)
    report = ImportReport(errors=list(errors))
    tasks = _unique_clips(tasks, report)
    if not tasks:
        raise ImportInputError(f"no usable task in {Path(path).name} ({len(report.errors)} errors)")
    progress = on_progress or (lambda done, total: None)
    clip_pks = _clips_store(dataset=dataset, tasks=tasks, report=report)
    progress(1, 3)
    sets = _proposals_store(dataset=dataset, tasks=tasks, source_ref=str(path), report=report)
    progress(2, 3)
    if any(task.annotations for task in tasks):
        name = (study_name.strip() or f"Label Studio: {Path(path).stem}")[:STUDY_NAME_MAX]
        _study_store(dataset=dataset, owner=owner, name=name, tasks=tasks, clip_pks=clip_pks, sets=sets, report=report)
    progress(3, 3)
    report.extra["cancelled_annotations_skipped"] += sum(task.cancelled for task in tasks)
    report.errors.sort(key=lambda error: error.line or 0)
    logger.info("Label Studio export %s into %s: %s", path, dataset.name, report.summary())
    return report


def _unique_clips(tasks: list[LsTask], report: ImportReport) -> list[LsTask]:
    first: dict[str, int] = {}
    unique = []
    for task in tasks:
        if task.clip_id in first:
            report.add_error(task.line, f"clip {task.clip_id!r} is the task on line {first[task.clip_id]} already")
            continue
        first[task.clip_id] = task.line
        unique.append(task)
    return unique


def _clips_store(*, dataset: Dataset, tasks: list[LsTask], report: ImportReport) -> dict[str, int]:
    """Create the clips the dataset lacks; those it has count as unchanged, left as they are."""
    existing = dict(
        Clip.objects.filter(dataset=dataset, clip_id__in=[t.clip_id for t in tasks]).values_list("clip_id", "pk")
    )
    new = [
        ClipRow(task.line, task.clip_id, (), task.youtube_id, task.start_seconds)
        for task in tasks
        if task.clip_id not in existing
    ]
    report.unchanged += len(tasks) - len(new)
    clips_store(dataset=dataset, rows=new, report=report)
    return dict(
        Clip.objects.filter(dataset=dataset, clip_id__in=[t.clip_id for t in tasks]).values_list("clip_id", "pk")
    )


def _proposals_store(*, dataset: Dataset, tasks: list[LsTask], source_ref: str, report: ImportReport) -> list[str]:
    """One proposal set per model_version, named by it; returns the names stored, the one the
    most tasks have predictions of first."""
    rows: dict[str, list[ProposalRow]] = defaultdict(list)
    tasks_with: Counter[str] = Counter()
    for task in tasks:
        for name in dict.fromkeys(prediction.model_version or NO_MODEL_VERSION for prediction in task.predictions):
            tasks_with[name] += 1
        for prediction in task.predictions:
            name = prediction.model_version or NO_MODEL_VERSION
            rows[name] += [
                ProposalRow(task.clip_id, label, score, line=task.line) for label, score in prediction.scores.items()
            ]
    model_sets = set(
        ProposalSet.objects.filter(dataset=dataset, name__in=rows, source=ProposalSet.Source.MODEL).values_list(
            "name", flat=True
        )
    )
    stored = []
    for name, _ in tasks_with.most_common():
        if name in model_sets:
            report.add_error(None, f"proposal set {name!r} comes from a model run: its predictions were not imported")
            continue
        try:
            part = proposal_set_store(
                dataset=dataset, name=name, source=ProposalSet.Source.FILE, source_ref=source_ref, proposals=rows[name]
            )
        except ImportInputError as exc:  # every prediction of this model version was refused
            report.add_error(None, f"proposal set {name!r}: {exc.message}")
            continue
        report.errors += part.errors
        for what in ("created", "updated", "unchanged"):
            report.extra[f"proposals_{what}"] += getattr(part, what)
        report.extra["proposals_deleted"] += part.extra["deleted"]
        stored.append(name)
    return stored


def _study_store(
    *,
    dataset: Dataset,
    owner,
    name: str,
    tasks: list[LsTask],
    clip_pks: dict[str, int],
    sets: list[str],
    report: ImportReport,
) -> None:
    categories = dict(Category.objects.filter(taxonomy_id=dataset.taxonomy_id).values_list("name", "pk"))
    raters = _raters_resolve(tasks=tasks, report=report)
    with transaction.atomic():
        study = Study.objects.filter(dataset=dataset, owner=owner, name=name).first()
        if study is None:
            study = _study_create(dataset=dataset, owner=owner, name=name, sets=sets)
            report.extra["studies_created"] += 1
        study_clips = _study_clips_store(study=study, tasks=tasks, clip_pks=clip_pks)
        proposed = _proposed(study=study, clip_pks=list(study_clips))
        wanted: dict[tuple[int, int], tuple] = {}
        for task in sorted(tasks, key=lambda task: task.line):
            study_clip = study_clips[clip_pks[task.clip_id]]
            for annotation in sorted(task.annotations, key=lambda a: (a.created_at is None, a.created_at or 0)):
                known = []
                for label in annotation.labels:
                    if label in categories:
                        known.append(categories[label])
                    else:
                        report.add_error(
                            task.line,
                            f"clip {task.clip_id!r}: label {label!r} of {annotation.rater.key} is not in the "
                            "dataset's taxonomy; left out of the rating",
                        )
                key = (study_clip, raters[annotation.rater.key])
                if key in wanted:
                    report.add_error(
                        task.line, f"clip {task.clip_id!r}: {annotation.rater.key} annotated it again; kept the latest"
                    )
                wanted[key] = (set(known), annotation.seconds, annotation.created_at)
        shown = _shown_labels_store(wanted=wanted, proposed=proposed)
        _ratings_store(study=study, wanted=wanted, shown=shown, report=report)
        _study_totals_refresh(study=study, raters=set(raters.values()))


def _study_create(*, dataset: Dataset, owner, name: str, sets: list[str]) -> Study:
    """A closed study over the file's proposal set of most tasks (an empty set named after the
    study when the file has no predictions: a study always names one)."""
    if sets:
        proposal_set = ProposalSet.objects.get(dataset=dataset, name=sets[0])
    else:
        proposal_set, _ = ProposalSet.objects.get_or_create(
            dataset=dataset, name=name, defaults={"source": ProposalSet.Source.FILE, "source_ref": "label studio"}
        )
    return Study.objects.create(
        name=name,
        dataset=dataset,
        proposal_set=proposal_set,
        owner=owner,
        status=Study.Status.CLOSED,
        instructions="Imported from Label Studio.",
        sample_size=0,
        stratified=False,
        raters_per_clip=1,
        min_raters=1,
        decoys_per_clip=0,
        ask_modality=False,
    )


def _study_clips_store(*, study: Study, tasks: list[LsTask], clip_pks: dict[str, int]) -> dict[int, int]:
    """Clip pk -> study clip pk for every clip of the file, the new ones appended in file order."""
    existing = dict(StudyClip.objects.filter(study=study).values_list("clip_id", "pk"))
    position = (StudyClip.objects.filter(study=study).aggregate(last=Max("position"))["last"] or -1) + 1
    new = []
    for task in tasks:
        clip_pk = clip_pks[task.clip_id]
        if clip_pk not in existing:
            new.append(StudyClip(study=study, clip_id=clip_pk, position=position))
            existing[clip_pk] = None
            position += 1
    StudyClip.objects.bulk_create(new, batch_size=1000)
    return dict(StudyClip.objects.filter(study=study, clip_id__in=clip_pks.values()).values_list("clip_id", "pk"))


def _proposed(*, study: Study, clip_pks: list[int]) -> dict[int, list[int]]:
    rows = Proposal.objects.filter(proposal_set_id=study.proposal_set_id, clip_id__in=clip_pks).order_by("category_id")
    proposed: dict[int, list[int]] = defaultdict(list)
    for clip_pk, category_pk in rows.values_list("clip_id", "category_id"):
        proposed[clip_pk].append(category_pk)
    return proposed


def _shown_labels_store(*, wanted: dict, proposed: dict[int, list[int]]) -> dict[int, dict[int, int | None]]:
    """Add the labels each study clip must show (its proposals, then the labels raters chose,
    added by the first who chose it); returns study clip pk -> {category pk: added_by pk}."""
    study_clip_pks = {study_clip for study_clip, _ in wanted}
    clip_of = dict(StudyClip.objects.filter(pk__in=study_clip_pks).values_list("pk", "clip_id"))
    shown: dict[int, dict[int, int | None]] = defaultdict(dict)
    last: dict[int, int] = defaultdict(lambda: -1)
    for study_clip, category, added_by, position in Shown.objects.filter(study_clip_id__in=study_clip_pks).values_list(
        "study_clip_id", "category_id", "added_by_id", "position"
    ):
        shown[study_clip][category] = added_by
        last[study_clip] = max(last[study_clip], position)
    new = []

    def show(study_clip: int, category: int, added_by: int | None, moment) -> None:
        if category in shown[study_clip]:
            return
        shown[study_clip][category] = added_by
        last[study_clip] += 1
        source = Shown.Source.ADDED if added_by else Shown.Source.PROPOSAL
        new.append(
            Shown(
                study_clip_id=study_clip,
                category_id=category,
                source=source,
                added_by_id=added_by,
                position=last[study_clip],
                created_at=moment or timezone.now(),
            )
        )

    for study_clip in sorted(study_clip_pks):
        for category in proposed.get(clip_of[study_clip], ()):
            show(study_clip, category, None, None)
    for (study_clip, rater), (labels, _, moment) in wanted.items():
        for category in sorted(labels):
            show(study_clip, category, rater, moment)
    Shown.objects.bulk_create(new, batch_size=2000)
    return shown


def _ratings_store(
    *, study: Study, wanted: dict, shown: dict[int, dict[int, int | None]], report: ImportReport
) -> None:
    stored, answers_of = {}, {}
    for pk, study_clip, rater, seconds, submitted in Rating.objects.filter(
        study_clip_id__in={study_clip for study_clip, _ in wanted}
    ).values_list("pk", "study_clip_id", "rater_id", "seconds_spent", "submitted_at"):
        answers_of[pk] = set()
        stored[study_clip, rater] = (pk, seconds, submitted, answers_of[pk])
    for rating, category, answer, added in Judgment.objects.filter(rating_id__in=list(answers_of)).values_list(
        "rating_id", "category_id", "answer", "added_by_rater"
    ):
        answers_of[rating].add((category, answer, added))
    upserts, judgments = [], {}
    for (study_clip, rater), (labels, seconds, moment) in wanted.items():
        answers = {
            (category, Judgment.Answer.PRESENT if category in labels else Judgment.Answer.ABSENT, added_by == rater)
            for category, added_by in shown[study_clip].items()
        }
        previous = stored.get((study_clip, rater))
        if previous is not None and (previous[1], previous[3]) == (seconds, answers) and moment in (None, previous[2]):
            report.extra["ratings_unchanged"] += 1
            continue
        report.extra["ratings_updated" if previous else "ratings_created"] += 1
        submitted = moment or (previous[2] if previous else timezone.now())
        upserts.append((study_clip, rater, False, seconds, submitted))
        judgments[study_clip, rater] = answers
    returned = rows_upsert(
        model=Rating,
        fields=("study_clip", "rater", "skipped", "seconds_spent", "submitted_at"),
        rows=upserts,
        unique_fields=("study_clip", "rater"),
        update_fields=("seconds_spent", "submitted_at"),
        returning=("id", "study_clip", "rater"),
    )
    rating_pks = {(study_clip, rater): pk for pk, study_clip, rater in returned}
    Judgment.objects.filter(rating_id__in=rating_pks.values()).delete()
    Judgment.objects.bulk_create(
        [
            Judgment(
                rating_id=rating_pks[key], study_id=study.pk, category_id=category, answer=answer, added_by_rater=added
            )
            for key, answers in judgments.items()
            for category, answer, added in sorted(answers)
        ],
        batch_size=2000,
    )


def _study_totals_refresh(*, study: Study, raters: set[int]) -> None:
    """The counts a closed study keeps: completed ratings per clip, its size and overlap."""
    counts = dict(
        Rating.objects.filter(study_clip__study=study, skipped=False)
        .values("study_clip")
        .annotate(n=Count("pk"))
        .values_list("study_clip", "n")
    )
    clips = list(StudyClip.objects.filter(study=study).only("pk", "completed_count"))
    for study_clip in clips:
        study_clip.completed_count = counts.get(study_clip.pk, 0)
    StudyClip.objects.bulk_update(clips, ["completed_count"], batch_size=2000)
    overlap = max([1, *counts.values()])
    Study.objects.filter(pk=study.pk).update(sample_size=len(clips), raters_per_clip=overlap, min_raters=overlap)
    study.raters.add(*raters)


def _raters_resolve(*, tasks: list[LsTask], report: ImportReport) -> dict[str, int]:
    """Rater key -> user pk: the user with the email, else the one named for it, else a new
    rater of that name (no usable password: the account exists to hold the ratings)."""
    users = get_user_model()
    wanted = {annotation.rater.key: annotation.rater for task in tasks for annotation in task.annotations}
    group = None
    found: dict[str, int] = {}
    for key, rater in wanted.items():
        username = rater.email or rater_username(rater.ls_id)
        user = users.objects.filter(email__iexact=rater.email).order_by("pk").first() if rater.email else None
        user = user or users.objects.filter(username=username).first()
        if user is None:
            user = users(username=username, email=rater.email)
            user.set_unusable_password()
            user.save()
            group = group or Group.objects.get_or_create(name=roles.RATER)[0]
            user.groups.add(group)
            report.extra["raters_created"] += 1
        found[key] = user.pk
    return found
