"""The world the authorization matrix runs against: real objects of every kind a route names.

A study over three generated MP4 clips (with a model heatmap) whose rater holds one clip
reserved and has rated another; a study with ratings for the evaluation pages; predict runs
with predictions, a finished training run with a checkpoint file, a queued run; an evaluation
report with a file. The owning researcher owns all of it; each role of the matrix is a user.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import User

from annotator import services
from annotator.models import ClipEvidence, QualificationClip, Study, StudyClip
from evaluation.models import EvaluationReport
from modelzoo.models import ModelRun
from tests.annotator.imports import ImportJob, matrix_import_job
from tests.builders import MediaClip, build_media_world, make_study, rate
from tests.evaluation.builders import build_runs, build_study
from tests.factories import make_rater, make_researcher, make_user

#: The roles of the matrix, in the order its cells are checked.
ROLES = ("anonymous", "rater_in", "rater_out", "other_rater", "owner", "other_researcher", "admin")
NAMES = ["dog barking", "cat meowing", "car engine"]
REPORT_FILE = "human_study.csv"


@dataclass
class AuthWorld:
    users: dict[str, User | None]
    study: Study
    reserved: StudyClip  # held by rater_in: reserved, not yet rated
    rated: StudyClip  # rated by rater_in
    eval_study: Study
    predict_run: ModelRun
    compare_ids: str
    train_run: ModelRun  # succeeded, with a checkpoint file: what a predict run starts from
    queued_run: ModelRun
    report: EvaluationReport
    import_job: ImportJob  # a finished clip-list import of the owner's dataset

    @property
    def dataset(self):
        return self.study.dataset

    @property
    def owner(self) -> User:
        return self.users["owner"]


def _admin() -> User:
    admin = make_user(username="matrix-admin")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    return admin


def build_auth_world(*, media_root: Path, artifacts: Path) -> AuthWorld:
    owner = make_researcher(username="matrix-owner")
    rater_in, other_rater = make_rater(username="matrix-rater-in"), make_rater(username="matrix-other-rater")
    users = {
        "anonymous": None,
        "rater_in": rater_in,
        "rater_out": make_rater(username="matrix-rater-out"),
        "other_rater": other_rater,
        "owner": owner,
        "other_researcher": make_researcher(username="matrix-other-researcher"),
        "admin": _admin(),
    }
    world = build_media_world(
        media_root=media_root,
        folder="ds",
        taxonomy_name="matrix sounds",
        proposal_set_name="matrix proposals",
        category_names=NAMES,
        clips=[
            MediaClip(
                clip_id=f"matrix-clip-{i}",
                file_name=f"c{i}.mp4",
                label=NAMES[i],
                proposals={NAMES[0]: ["audio"], NAMES[1]: ["visual"]},
                seconds=1.0,
            )
            for i in range(3)
        ],
        owner=owner,
        raters=[rater_in, other_rater],
    )
    study = world.study = make_study(world, name="Matrix study", sample_size=3, raters_per_clip=2, show_evidence=True)
    rated = services.clip_next_for_rater(study=study, rater=rater_in)
    rate(rated, rater_in)
    reserved = services.clip_next_for_rater(study=study, rater=rater_in)
    (media_root / "heat").mkdir()
    (media_root / "heat" / "a.png").write_bytes(b"\x89PNG matrix")
    ClipEvidence.objects.create(proposal_set=world.proposal_set, clip=reserved.clip, heatmap_path="heat/a.png")
    # A qualification clip (its media route is checked; the study asks no qualification).
    QualificationClip.objects.create(study=study, clip=rated.clip, position=0)

    built = build_study(owner=owner, name="matrix evaluation")
    built.study.raters.add(rater_in, other_rater)
    runs = build_runs(owner=owner).runs
    checkpoint = artifacts / "matrix-checkpoint.pt"
    checkpoint.write_bytes(b"not read: starting a run only checks the file is there")
    run_fields = {"model_kind": ModelRun.ModelKind.NAIVE_AV, "config_name": "tiny", "dataset": world.dataset}
    train_run = ModelRun.objects.create(
        kind=ModelRun.Kind.TRAIN,
        status=ModelRun.Status.SUCCEEDED,
        split="test",
        checkpoint_path=str(checkpoint),
        num_classes=len(NAMES),
        created_by=owner,
        **run_fields,
    )
    queued_run = ModelRun.objects.create(kind=ModelRun.Kind.TRAIN, split="test", created_by=owner, **run_fields)
    report = EvaluationReport.objects.create(
        study=built.study,
        created_by=owner,
        status=EvaluationReport.Status.SUCCEEDED,
        artifacts={REPORT_FILE: REPORT_FILE},
    )
    folder = artifacts / "evaluation" / f"report-{report.pk}"
    folder.mkdir(parents=True)
    (folder / REPORT_FILE).write_text("Measure,Value\nClips rated,3\n")
    return AuthWorld(
        users=users,
        study=study,
        reserved=reserved,
        rated=rated,
        eval_study=built.study,
        predict_run=runs["event_heads"],
        compare_ids=f"{runs['event_heads'].pk},{runs['naive_av'].pk}",
        train_run=train_run,
        queued_run=queued_run,
        report=report,
        import_job=matrix_import_job(dataset=world.dataset, owner=owner),
    )
