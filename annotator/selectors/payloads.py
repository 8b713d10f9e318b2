"""What a rater sees. Anything returned to a rater is built here, so the rule "never the
original labels, never the decoy flags, never another rater's answers, never the dataset's
clip id" lives in one place. A rater's handle on a clip is its study_clip_id: study clips
are inserted in a seeded shuffled order, so the number says nothing about the dataset (for
VGGSound the clip id is the key into the public label file, which would give gold clips
away)."""

from __future__ import annotations

from annotator.models import Category, ClipEvidence, Judgment, Proposal, Rating, StudyClip, StudyClipLabel
from annotator.selectors.rawsql import fetch_all, table


def study_clip_media_url(*, study_clip_id: int) -> str:
    return f"/media/clips/{study_clip_id}/"


def study_clip_payload(*, study_clip: StudyClip) -> dict:
    """What the rater page shows for a clip. Built from an allow-list of fields: never the
    original labels, never which label is a decoy, never another rater's answers, nothing
    that names the clip in its dataset (its clip id, YouTube id or media path)."""
    study = study_clip.study
    clip = study_clip.clip
    # Raw: +8% round trips/s over its ORM version; kept within next+submit's 10% budget (bench/README.md).
    rows = fetch_all(
        f"SELECT l.category_id, c.name, l.position FROM {table(StudyClipLabel)} l"
        f" JOIN {table(Category)} c ON c.id = l.category_id"
        " WHERE l.study_clip_id = %s AND l.hidden_at IS NULL ORDER BY l.position",
        [study_clip.pk],
    )
    labels = [{"category_id": category_pk, "name": name, "position": position} for category_pk, name, position in rows]
    media_url = study_clip_media_url(study_clip_id=study_clip.pk)
    payload = {
        "study_clip_id": study_clip.pk,
        "study_id": study.pk,
        "instructions": study.instructions,
        "media_url": media_url,
        "spectrogram_url": f"{media_url}spectrogram.json",
        "duration_seconds": clip.duration_seconds,
        "has_audio": clip.has_audio,
        "labels": labels,
        "ask_modality": study.ask_modality,
        "evidence": None,
    }
    if study.show_evidence:
        payload["evidence"] = _evidence(study_clip=study_clip, labels=labels, media_url=media_url)
    return payload


def _evidence(*, study_clip: StudyClip, labels: list[dict], media_url: str) -> dict:
    """The model's evidence. Which heads proposed each label is left out when the study
    shows decoys: no head proposes a decoy, so the heads would give every decoy away."""
    study = study_clip.study
    proposal_set_id = study.proposal_set_id
    label_heads = study.decoys_per_clip == 0
    if label_heads:
        heads = dict(
            Proposal.objects.filter(proposal_set_id=proposal_set_id, clip_id=study_clip.clip_id).values_list(
                "category_id", "heads"
            )
        )
        for label in labels:
            label["heads"] = list(heads.get(label["category_id"]) or [])
    evidence = ClipEvidence.objects.filter(proposal_set_id=proposal_set_id, clip_id=study_clip.clip_id).first()
    return {
        "label_heads": label_heads,
        "event_type": evidence.event_type if evidence else "",
        "instant_seconds": list(evidence.instant_seconds) if evidence else [],
        "onset_seconds": list(evidence.onset_seconds) if evidence else [],
        "heatmap_url": f"{media_url}heatmap.png" if evidence and evidence.heatmap_path else None,
    }


def rating_payload(*, rating: Rating) -> dict:
    """A stored rating as its rater sees it: their own answers, nothing of anyone else's."""
    # Raw: +5% round trips/s over its ORM version; kept within next+submit's 10% budget (bench/README.md).
    rows = fetch_all(
        f"SELECT category_id, answer, modality, added_by_rater FROM {table(Judgment)} WHERE rating_id = %s ORDER BY id",
        [rating.pk],
    )
    return {
        "id": rating.pk,
        "study_clip_id": rating.study_clip_id,
        "skipped": rating.skipped,
        "seconds_spent": rating.seconds_spent,
        "submitted_at": rating.submitted_at,
        "judgments": [
            {"category_id": category_pk, "answer": answer, "modality": modality, "added_by_rater": bool(added)}
            for category_pk, answer, modality, added in rows
        ],
    }
