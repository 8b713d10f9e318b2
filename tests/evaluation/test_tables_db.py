"""Tables computed from a database filled with known answers, checked by hand."""

import csv
import io
import json

import pytest
from sklearn.metrics import f1_score as sk_f1

from annotator.models import Clip
from evaluation import exporters, metrics, selectors, services, tables
from tests.evaluation.builders import NAIVE_TOP5, RUN_LABELS, build_runs, build_study

pytestmark = pytest.mark.django_db

EXACT = 1e-12


def _rows_by_first(table):
    return {row[0]: row for row in table.rows}


# --- the study ----------------------------------------------------------------------------


@pytest.fixture
def built():
    return build_study()


@pytest.fixture
def study_tables(built):
    return services.study_evaluate(study=built.study, n_boot=200, seed=3).tables


def test_study_data_loads_items_judgments_and_skips(built):
    data = selectors.study_data(study=built.study)
    assert data.clips.clip_ids == ["clip-A", "clip-B", "clip-C", "clip-D"]
    assert data.is_gold.tolist() == [False, False, False, True]
    assert data.completed.tolist() == [3, 3, 3, 3]
    assert data.items.counts.sum() == 30  # 10 shown labels x 3 raters
    assert data.skipped == 1
    assert data.n_raters == 3  # the rater who only skipped is not a rater of any item
    sample = data.sample_items()
    assert sample.n_clips == 3 and sample.counts.shape == (8, 3)


def test_human_study_table_by_hand(study_tables):
    rows = _rows_by_first(study_tables["human_study"])
    assert rows["Clips rated"][1] == 3
    assert rows["Raters"][1] == 3
    assert rows["Mean proposed labels per clip |P|"][1] == pytest.approx(5 / 3, abs=EXACT)
    # confirmed proposals: A c0 (3/0), B c2 (2/1), C c4 (2/0/1 unsure); A c1 ties 1/1; C c3 1/2
    assert rows["Proposals confirmed (%)"][1] == pytest.approx(60.0, abs=EXACT)
    assert rows["Correct labels per clip"][1] == pytest.approx(1.0, abs=EXACT)
    assert rows["Decoys confirmed (%)"][1] == pytest.approx(0.0, abs=EXACT)
    assert rows["Confirmed, corrected for decoys (%)"][1] == pytest.approx(60.0, abs=EXACT)
    # present/absent counts of the 8 sample items: (3,0) (1,1) (1,2) (2,1) (1,2) (1,2) (2,0) (1,2)
    # kappa: P_bar = 11/24; p = (12/22, 10/22) -> P_e = 244/484
    p_e = 244 / 484
    assert rows["Fleiss' kappa"][1] == pytest.approx((11 / 24 - p_e) / (1 - p_e), abs=EXACT)
    # alpha: n = 22, agreeing coincidences O = 10, n_c = (12, 10): 1 - 21 * 12 / (484 - 244)
    assert rows["Krippendorff's alpha (nominal)"][1] == pytest.approx(1 - 21 * 12 / 240, abs=EXACT)
    low, high = rows["Proposals confirmed (%)"][2:]
    assert low <= 60.0 <= high
    notes = " ".join(study_tables["human_study"].notes)
    assert "1 gold clips" in notes and "1 skipped" in notes


def test_cardinality_of_the_study_proposals(study_tables):
    table = study_tables["cardinality"]
    assert [row[1] for row in table.rows] == [0, 1, 2, 0, 0, 0]


def test_agreement_by_label_by_hand(study_tables):
    rows = _rows_by_first(study_tables["agreement_by_label"])
    # c3: proposed on C (1 present / 2 absent, rejected), decoy on A (1/2): kappa = (1/3 - 5/9) / (4/9)
    name, proposed, acceptance, decoys, kappa, alpha = rows["c3"]
    assert (proposed, acceptance, decoys) == (1, 0.0, 1)
    assert kappa == pytest.approx(-0.5, abs=EXACT)
    assert rows["c0"][1:4] == (1, 1.0, 1)


def test_missing_label_candidates(built, study_tables):
    table = study_tables["missing_labels"]
    found = {(row[0], row[1]): row for row in table.rows}
    assert set(found) == {("clip-A", "c5"), ("clip-C", "c4")}
    # r1 and r2 added c5; r3 was never shown it, so r3 is no absent vote
    assert found[("clip-A", "c5")][2:6] == ("added", 2, 0, 0)
    assert found[("clip-C", "c4")][2:7] == ("proposal", 2, 0, 1, 1.0)
    assert found[("clip-C", "c4")][7] == "c5"


def test_rater_quality_by_hand(built, study_tables):
    rows = _rows_by_first(study_tables["rater_quality"])
    r1, r2, r3 = (rows[built.raters[key].username] for key in ("r1", "r2", "r3"))
    # clips, judgments (added c5 included), gold accuracy, decoy acceptance, median seconds, agreement.
    # The dataset has no gold labels: on gold clip D its original c1 is known present, c2 unknown.
    assert r1[1:6] == (4, 11, 1.0, 1.0, 10.0)
    assert r2[1:6] == (4, 11, 0.0, 0.0, 20.0)
    assert r3[1:6] == (4, 10, 1.0, 0.0, 30.0)
    # r1 agrees with the others on A c0, B c2 and (with r2) the added A c5: 3 of 8 comparable
    assert r1[6] == pytest.approx(3 / 8, abs=EXACT)
    assert r3[6] == pytest.approx(1 / 3, abs=EXACT)


def test_dataset_export_lists_consensus_labels_with_votes(built):
    payload = json.loads(services.study_dataset_export(study=built.study, fmt="json"))
    by_clip = {clip["clip_id"]: clip for clip in payload["clips"]}
    clip_a = by_clip["clip-A"]
    assert clip_a["original_labels"] == ["c0"] and clip_a["youtube_id"] == "ytA" and clip_a["start_seconds"] == 0
    labels = {label["label"]: label for label in clip_a["labels"]}
    assert set(labels) == {"c0", "c5"}
    assert labels["c0"]["votes"] == {"present": 3, "absent": 0, "unsure": 0} and labels["c0"]["in_original"]
    assert labels["c5"]["source"] == "added" and labels["c5"]["agreement"] == pytest.approx(1.0)
    assert labels["c5"]["votes"] == {"present": 2, "absent": 0, "unsure": 0} and labels["c5"]["modality"] is None
    assert by_clip["clip-B"]["labels"][0]["label"] == "c2"

    Clip.objects.filter(clip_id="clip-B").update(start_seconds=101.8)  # LLP-style fractional start
    rows = list(csv.DictReader(io.StringIO(services.study_dataset_export(study=built.study, fmt="csv"))))
    starts = {row["clip_id"]: row["start_seconds"] for row in rows}
    assert starts["clip-A"] == "0" and starts["clip-B"] == "101.8"  # whole seconds written without ".0"
    assert {(row["clip_id"], row["label"]) for row in rows} == {
        ("clip-A", "c0"),
        ("clip-A", "c5"),
        ("clip-B", "c2"),
        ("clip-C", "c4"),
        ("clip-D", "c1"),
    }
    everything = list(
        csv.DictReader(io.StringIO(services.study_dataset_export(study=built.study, fmt="csv", include_rejected=True)))
    )
    assert len(everything) == 11  # 10 shown labels + 1 added


def test_study_without_ratings_is_a_clear_error():
    from annotator.models import Rating

    built = build_study(name="empty")
    Rating.objects.filter(study_clip__study=built.study).delete()
    with pytest.raises(services.ApplicationError, match="No sampled clip"):
        services.study_evaluate(study=built.study)


# --- predict runs --------------------------------------------------------------------------


@pytest.fixture
def runs():
    return build_runs()


def test_run_data_leaves_out_errored_clips(runs):
    data = selectors.run_data(run=runs.runs["event_heads"])
    assert data.errors == 1 and len(data.clips.pks) == 6
    assert data.top1[:, 0].tolist() == [0, 0, 1, 0, 2]


def test_table1_accuracy_of_the_four_models(runs):
    evaluation = services.run_evaluate(run=runs.runs["event_heads"])
    (row,) = evaluation.tables["table1"].rows
    assert row[0] == f"{runs.dataset.name} (test)"
    # audio: clips 0, 4; vision: 0, 1, 2; naive AV: 0, 2, 3, 5 (1 is one of {1, 2}); ours (vote): 0, 1, 4
    assert row[1:] == pytest.approx((2 / 6, 3 / 6, 4 / 6, 3 / 6), abs=EXACT)


def test_table2_f1_of_union_and_top_k(runs):
    evaluation = services.runs_evaluate(runs=[runs.runs["event_heads"], runs.runs["naive_av"]])
    (row,) = evaluation.tables["table2"].rows
    assert row[1] == pytest.approx((0.5 + 3 * 2 / 3 + 1 + 0.8) / 6, abs=EXACT)  # union vs truth, by hand
    assert row[2] == pytest.approx((3 + 2 / 3) / 6, abs=EXACT)  # top-1, by hand
    truth = metrics.indices_to_indicator(RUN_LABELS, 4)
    for k in range(1, 6):
        top = metrics.indices_to_indicator([r[:k] for r in NAIVE_TOP5], 4)
        assert row[1 + k] == pytest.approx(sk_f1(truth, top, average="samples", zero_division=0), abs=EXACT)


def test_table3_complementarity(runs):
    table = services.runs_evaluate(runs=[runs.runs["event_heads"]]).tables["table3"]
    (row,) = table.rows
    assert row[1:] == (1, 1, 1, 2, 1, 1, 1, 6)


def test_table4_and_category_event_types(runs):
    evaluation = services.run_evaluate(run=runs.runs["event_heads"])
    (row,) = evaluation.tables["table4"].rows
    assert row[1:] == (1, 1, 1, 0, 1, 4)
    per_category = _rows_by_first(evaluation.tables["category_event_types"])
    assert per_category["k0"][1:3] == ("instant", 2)
    assert per_category["k1"][1:3] == ("audio", 2)
    assert per_category["k2"][1] == "continuous" and per_category["k3"][1] == "onset"


def test_head_accuracy_table(runs):
    table = services.run_evaluate(run=runs.runs["event_heads"]).tables["head_accuracy"]
    rows = _rows_by_first(table)
    # continuous top-1 hits: clips 0, 2, 4 -> 1/2; vote hits 0, 1, 4
    assert rows["continuous"][1] == pytest.approx(0.5, abs=EXACT)
    assert rows["vote"][1] == pytest.approx(0.5, abs=EXACT)
    # instant clips are 0 and 4: the instant head is right on both
    assert rows["instant"][2 + metrics.EVENT_TYPES.index("instant")] == 1.0


def test_retarget_by_event_type_and_modality(runs):
    data = selectors.run_data(run=runs.runs["event_heads"])
    instant = exporters.retarget_records(data, target="instant")
    assert [r["clip_id"] for r in instant] == ["v0", "v4"]
    audio_visual = exporters.retarget_records(data, target="audio-visual")
    assert [r["clip_id"] for r in audio_visual] == ["v0", "v2", "v3", "v4"]
    text = services.run_retarget_export(run=runs.runs["event_heads"], target="audio-only", fmt="csv")
    assert [row["clip_id"] for row in csv.DictReader(io.StringIO(text))] == ["v1", "v5"]
    with pytest.raises(services.ApplicationError, match="Unknown retarget"):
        services.run_retarget_export(run=runs.runs["event_heads"], target="smell", fmt="csv")


def test_unfinished_runs_are_refused(runs):
    from modelzoo.models import ModelRun

    ModelRun.objects.filter(pk=runs.runs["naive_av"].pk).update(status=ModelRun.Status.RUNNING)
    runs.runs["naive_av"].refresh_from_db()
    with pytest.raises(services.ApplicationError, match="not succeeded"):
        services.runs_evaluate(runs=[runs.runs["naive_av"]])


def test_tables_are_json_serialisable(runs, built):
    for evaluation in (
        services.run_evaluate(run=runs.runs["event_heads"]),
        services.study_evaluate(study=built.study, n_boot=50),
    ):
        restored = services.Evaluation.from_result(json.loads(json.dumps(evaluation.to_result(), allow_nan=False)))
        assert {k: t.to_dict() for k, t in restored.tables.items()} == {
            k: t.to_dict() for k, t in evaluation.tables.items()
        }
        assert isinstance(next(iter(restored.tables.values())), tables.Table)


def test_study_rated_through_the_queue_services():
    # Given a study created and rated through annotator's services
    from annotator import services as annotator_services
    from annotator.models import Clip, ClipLabel, Proposal, StudyClipLabel
    from tests import factories

    owner = factories.make_researcher()
    taxonomy = factories.TaxonomyFactory()
    categories = [factories.CategoryFactory(taxonomy=taxonomy, name=f"q{i}", index=i) for i in range(5)]
    dataset = factories.DatasetFactory(taxonomy=taxonomy, owner=owner)
    proposal_set = factories.ProposalSetFactory(dataset=dataset)
    for n in range(4):
        clip = factories.ClipFactory(dataset=dataset, media_status=Clip.MediaStatus.OK)
        ClipLabel.objects.create(clip=clip, category=categories[n])
        for category in (categories[n], categories[(n + 1) % 5]):
            Proposal.objects.create(proposal_set=proposal_set, clip=clip, category=category)
    raters = [factories.make_rater() for _ in range(3)]
    study = annotator_services.study_create(
        name="queued",
        dataset=dataset,
        proposal_set=proposal_set,
        owner=owner,
        raters=raters,
        sample_size=4,
        raters_per_clip=2,
        decoys_per_clip=1,
        seed=5,
    )
    for rater in raters:
        while (study_clip := annotator_services.clip_next_for_rater(study=study, rater=rater)) is not None:
            shown = StudyClipLabel.objects.filter(study_clip=study_clip)
            answers = {label.category_id: "absent" if label.is_decoy else "present" for label in shown}
            annotator_services.rating_submit(study_clip=study_clip, rater=rater, answers=answers, seconds_spent=4.0)
    # When it is evaluated
    rows = {row[0]: row for row in services.study_evaluate(study=study, n_boot=50).tables["human_study"].rows}
    # Then every proposal is confirmed, no decoy is, and the raters agree perfectly
    assert rows["Clips rated"][1] == 4 and rows["Mean proposed labels per clip |P|"][1] == 2
    assert rows["Proposals confirmed (%)"][1] == 100.0 and rows["Decoys confirmed (%)"][1] == 0.0
    assert rows["Correct labels per clip"][1] == 2.0
    assert rows["Fleiss' kappa"][1] == pytest.approx(1.0) and rows["Krippendorff's alpha (nominal)"][
        1
    ] == pytest.approx(1.0)


def test_companion_runs_are_only_the_users_own(runs):
    from tests import factories

    owner_view = selectors.companion_runs(run=runs.runs["event_heads"], user=runs.owner)
    assert set(owner_view) == {"event_heads", "naive_av", "audio_only", "vision_only"}
    stranger = factories.make_researcher()
    assert set(selectors.companion_runs(run=runs.runs["event_heads"], user=stranger)) == {"event_heads"}
