"""Issue 10 through the services: added labels are shown to later raters and verified,
modality is stored, the settled queue stops serving decided clips, gold is per label."""

import pytest

from annotator import services
from annotator.importers.gold import gold_labels_import, gold_promote_from_study
from annotator.models import GoldLabel, Judgment, RaterGoldTally, StudyClip, StudyClipLabel
from config.errors import ApplicationError
from evaluation import exporters, selectors
from evaluation.tables import rater_quality_table
from tests.builders import all_present, make_study


def shown_ids(study_clip) -> list[int]:
    return [label["category_id"] for label in services_payload(study_clip)["labels"]]


def services_payload(study_clip):
    from annotator.selectors import study_clip_payload

    return study_clip_payload(study_clip=StudyClip.objects.select_related("study", "clip").get(pk=study_clip.pk))


def next_for(study, rater):
    return services.clip_next_for_rater(study=study, rater=rater)


def test_an_added_label_is_shown_blind_to_later_raters_and_needs_a_second_present(world):
    study = make_study(world, sample_size=1, raters_per_clip=4, ask_modality=True)
    first, second, third = world.raters[:3]
    clip = next_for(study, first)
    extra = next(c for c in world.categories if c.pk not in shown_ids(clip))
    services.rating_submit(
        study_clip=clip,
        rater=first,
        answers=all_present(clip),
        added_category_ids=[extra.pk],
        modalities={extra.pk: "A"},
    )
    label = StudyClipLabel.objects.get(study_clip=clip, category=extra)
    assert label.source == "added" and label.added_by == first and label.hidden_at is None

    seen = next_for(study, second)
    payload = services_payload(seen)
    assert extra.pk in [entry["category_id"] for entry in payload["labels"]]
    assert set(payload["labels"][0]) == {"category_id", "name", "position"}  # nothing says "added"

    record = lambda: next(  # noqa: E731
        label
        for label in exporters.study_dataset_records(selectors.study_data(study=study), include_rejected=True)[0][
            "labels"
        ]
        if label["label"] == extra.name
    )
    assert record()["confirmed"] is False  # the adder's word alone
    answers = all_present(seen)
    services.rating_submit(study_clip=seen, rater=second, answers=answers, modalities={extra.pk: "AV"})
    confirmed = record()
    assert confirmed["confirmed"] is True and confirmed["source"] == "added"
    assert confirmed["votes"]["present"] == 2 and confirmed["modality_votes"] == {"A": 1, "V": 0, "AV": 1}
    assert confirmed["modality"] == "AV"  # heard by both, seen by half: a tie counts as yes
    # A rater of the clip who was not shown it (no third rating yet) does not count as absent.
    assert confirmed["votes"]["absent"] == 0
    assert third not in {first, second}


def test_an_added_label_the_next_raters_reject_stops_being_shown(world):
    study = make_study(world, sample_size=1, raters_per_clip=4)
    first, second, third, fourth = world.raters[:4]
    clip = next_for(study, first)
    extra = next(c for c in world.categories if c.pk not in shown_ids(clip))
    services.rating_submit(study_clip=clip, rater=first, answers=all_present(clip), added_category_ids=[extra.pk])
    for rater in (second, third):
        served = next_for(study, rater)
        answers = {**all_present(served), extra.pk: "absent"}
        services.rating_submit(study_clip=served, rater=rater, answers=answers)
    label = StudyClipLabel.objects.get(study_clip=clip, category=extra)
    assert label.hidden_reason == "rejected"
    assert extra.pk not in shown_ids(next_for(study, fourth))


def test_modality_is_stored_and_checked(world):
    study = make_study(world, sample_size=1, ask_modality=True)
    rater = world.raters[0]
    clip = next_for(study, rater)
    first, *others = shown_ids(clip)
    answers = {first: "present", **{pk: "absent" for pk in others}}
    with pytest.raises(ApplicationError, match="not answered present"):
        services.rating_submit(study_clip=clip, rater=rater, answers=answers, modalities={others[0]: "A"})
    with pytest.raises(ApplicationError, match="not one of"):
        services.rating_submit(study_clip=clip, rater=rater, answers=answers, modalities={first: "heard"})
    rating = services.rating_submit(study_clip=clip, rater=rater, answers=answers, modalities={first: "V"})
    assert rating.judgments.get(category_id=first).modality == "V"
    assert set(rating.judgments.exclude(category_id=first).values_list("modality", flat=True)) == {""}


def test_a_study_without_modality_refuses_modalities(world):
    study = make_study(world, sample_size=1, ask_modality=False)
    rater = world.raters[0]
    clip = next_for(study, rater)
    assert services_payload(clip)["ask_modality"] is False
    first = shown_ids(clip)[0]
    with pytest.raises(ApplicationError, match="does not ask"):
        services.rating_submit(study_clip=clip, rater=rater, answers=all_present(clip), modalities={first: "A"})


def test_the_settled_queue_stops_serving_a_clip_whose_labels_are_decided(world):
    study = make_study(world, sample_size=1, serving="settled", min_raters=3, raters_per_clip=6, quiet_raters=2)
    served = []
    for rater in world.raters[:4]:
        clip = next_for(study, rater)
        if clip is None:
            break
        served.append(rater)
        services.rating_submit(study_clip=clip, rater=rater, answers=all_present(clip))
    clip = StudyClip.objects.get(study=study)
    # Three unanimous raters at the default accuracy (0.8 / 0.8: log 4 per vote) pass
    # log(49) at the third vote; two quiet raters in a row are there by then.
    assert clip.settled and clip.completed_count == 3
    assert len(served) == 3
    assert set(clip.shown_labels.values_list("hidden_reason", flat=True)) == {"present"}


def test_the_settled_queue_keeps_a_clip_while_raters_still_add_labels(world):
    study = make_study(world, sample_size=1, serving="settled", min_raters=2, raters_per_clip=6, quiet_raters=2)
    raters = world.raters[:4]
    clip = next_for(study, raters[0])
    extra = next(c for c in world.categories if c.pk not in shown_ids(clip))
    services.rating_submit(study_clip=clip, rater=raters[0], answers=all_present(clip))
    clip = next_for(study, raters[1])
    services.rating_submit(study_clip=clip, rater=raters[1], answers=all_present(clip), added_category_ids=[extra.pk])
    clip.refresh_from_db()
    assert not clip.settled and clip.quiet_ratings == 0
    served = next_for(study, raters[2])
    assert served is not None and extra.pk in shown_ids(served)


def test_a_settled_study_validates_its_settings(world):
    with pytest.raises(ApplicationError, match="min_raters"):
        make_study(world, serving="settled", min_raters=5, raters_per_clip=3)
    with pytest.raises(ApplicationError, match="serving"):
        make_study(world, serving="sometimes")
    with pytest.raises(ApplicationError, match="settle_error"):
        make_study(world, serving="settled", settle_error=0.7)


def test_gold_is_per_label_from_a_file_and_scores_only_known_labels(world, tmp_path):
    clip = world.clips[0]
    known_present, known_absent = world.categories[0], world.categories[1]
    path = tmp_path / "gold.csv"
    path.write_text(
        "clip_id,label,truth,modality\n"
        f"{clip.clip_id},{known_present.name},present,AV\n"
        f"{clip.clip_id},{known_absent.name},absent,\n"
        f"{clip.clip_id},no such label,present,\n"
        f"{clip.clip_id},{known_absent.name},maybe,\n"
    )
    report = gold_labels_import(dataset=world.dataset, path=path)
    assert report.created == 2 and len(report.errors) == 2
    assert GoldLabel.objects.get(clip=clip, category=known_present).modality == "AV"
    assert gold_labels_import(dataset=world.dataset, path=path).unchanged == 2

    # Only gold clips serve as gold: with gold labels on one clip, it is the gold clip.
    GoldLabel.objects.exclude(clip=clip).delete()
    study = None
    for seed in range(20):  # a seed whose one sampled clip is not the gold one
        try:
            study = make_study(world, name=f"gold {seed}", sample_size=1, gold_rate=1.0, stratified=False, seed=seed)
            break
        except ApplicationError:
            continue
    gold_clip = StudyClip.objects.get(study=study, is_gold=True)
    assert gold_clip.clip_id == clip.pk
    rater = world.raters[0]
    while True:
        served = next_for(study, rater)
        if served is None:
            break
        services.rating_submit(study_clip=served, rater=rater, answers=all_present(served))
    data = selectors.study_data(study=study)
    known = data.gold_truth()[data.gold_truth() >= 0]
    shown_known = {known_present.pk, known_absent.pk} & set(
        StudyClipLabel.objects.filter(study_clip=gold_clip).values_list("category_id", flat=True)
    )
    assert len(known) == len(shown_known)
    tally = RaterGoldTally.objects.filter(study=study, rater=rater).first()
    if shown_known:
        assert tally is not None
        assert tally.true_present == int(known_present.pk in shown_known)
        assert tally.false_present == int(known_absent.pk in shown_known)
        row = next(row for row in rater_quality_table(data).rows if row[0] == rater.username)
        assert row[3] == pytest.approx(tally.true_present / len(shown_known))


def test_gold_is_promoted_from_a_clear_consensus(world):
    study = make_study(world, sample_size=2, raters_per_clip=3, ask_modality=True)
    for rater in world.raters[:3]:
        while (clip := next_for(study, rater)) is not None:
            first = shown_ids(clip)[0]
            answers = {pk: ("present" if pk == first else "absent") for pk in shown_ids(clip)}
            services.rating_submit(study_clip=clip, rater=rater, answers=answers, modalities={first: "A"})
    report = gold_promote_from_study(study=study)
    assert report.created > 0
    promoted = GoldLabel.objects.filter(source=f"study:{study.pk}")
    assert promoted.filter(present=True, modality="A").exists()
    assert promoted.filter(present=False, modality="").exists()
    assert not Judgment.objects.filter(rating__study_clip__study=study, modality="V").exists()
