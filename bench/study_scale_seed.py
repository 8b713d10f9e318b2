"""bench/study_scale.py's data: a vggsound.csv-format clip list of any size built from
VGGSound's real test split, and the bulk SQL that gives an imported dataset its proposals
and fills a study's ratings and answers (INSERT ... SELECT on the server: no row travels
through Python, so 2.4M ratings and 7M answers take a minute or two, not an hour).

The services under test (import, study creation, evaluation, export) run unchanged; only
what raters and a model would have produced is written here directly."""

from __future__ import annotations

import csv
import random
from pathlib import Path

#: Answers the seeded raters give: P(present) on a proposal that is the clip's original
#: label, on another proposal, on a decoy; P(unsure) on any label.
PRESENT_IF_ORIGINAL = 0.85
PRESENT_IF_OTHER_PROPOSAL = 0.25
PRESENT_IF_DECOY = 0.05
UNSURE = 0.05


def vggsound_csv_write(*, test_csv: Path, out: Path, rows: int, seed: int = 0) -> int:
    """Write `rows` rows in vggsound.csv's format (`youtube_id,start,label,split`, no
    header, labels with commas quoted, sorted by YouTube id) from test.csv's ids: the
    first pass keeps them (split test), each further pass shifts every start by 10 s
    more (split train), in a seeded order, until `rows` are written. Returns the rows."""
    base = []
    with test_csv.open(newline="", encoding="utf-8") as handle:
        for name, label in csv.reader(handle):
            stem = name.removesuffix(".mp4")
            youtube_id, start = stem.rsplit("_", 1)
            base.append((youtube_id, int(start), label))
    rng = random.Random(seed)
    taken: set[tuple[str, int]] = set()
    written: list[tuple[str, int, str, str]] = []
    shift = 0
    while len(written) < rows:
        order = list(range(len(base)))
        rng.shuffle(order)
        for index in order:
            youtube_id, start, label = base[index]
            moved = start + 10 * shift
            while (youtube_id, moved) in taken:  # a video listed twice in test.csv
                moved += 10
            taken.add((youtube_id, moved))
            written.append((youtube_id, moved, label, "test" if shift == 0 else "train"))
            if len(written) == rows:
                break
        shift += 1
    written.sort()
    with out.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(written)
    return len(written)


def _table(model) -> str:
    from django.db import connection

    return connection.ops.quote_name(model._meta.db_table)


def proposals_fill(*, proposal_set_id: int, dataset_id: int, taxonomy_size: int) -> int:
    """Two proposals per clip, as a model's top 2 would be: its original label (score 0.9)
    and a class picked from the clip's pk (score 0.4). Returns the rows written."""
    from django.db import connection

    from annotator.models import Category, Clip, ClipLabel, Proposal

    sql = f"""
        INSERT INTO {_table(Proposal)} (proposal_set_id, clip_id, category_id, score, heads)
        SELECT %(ps)s, label.clip_id, label.category_id, 0.9, '[]'::jsonb
          FROM {_table(ClipLabel)} label JOIN {_table(Clip)} clip ON clip.id = label.clip_id
         WHERE clip.dataset_id = %(ds)s
        UNION ALL
        SELECT %(ps)s, label.clip_id, other.id, 0.4, '[]'::jsonb
          FROM {_table(ClipLabel)} label
          JOIN {_table(Clip)} clip ON clip.id = label.clip_id
          JOIN {_table(Category)} mine ON mine.id = label.category_id
          JOIN {_table(Category)} other ON other.taxonomy_id = mine.taxonomy_id
               AND other.index = (mine.index + 1 + clip.id %% (%(n)s - 1)) %% %(n)s
         WHERE clip.dataset_id = %(ds)s
        ON CONFLICT DO NOTHING
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ps": proposal_set_id, "ds": dataset_id, "n": taxonomy_size})
        return cursor.rowcount


def ratings_fill(
    *, study_id: int, seed: int = 0, per_clip: int | None = None, submitted_at: str | None = None
) -> tuple[int, int]:
    """Every rater of the study's pool rates every clip once (not skipped, 3 to 23 s) and
    answers each shown label (present with modality A / V / AV, absent or unsure, with the
    module's probabilities); completed_count and quiet_ratings follow (nobody added a label).
    Returns (ratings, judgments).

    `per_clip`: only that many raters rate each clip, consecutive ones in the pool (ordered
    by user pk, wrapping round) from one picked by a hash of the clip's position, so that
    each rater rates per_clip / pool of the clips, spread over the study. `submitted_at`
    (ISO text): the ratings' time, else now."""
    from django.db import connection

    from annotator.models import ClipLabel, Judgment, Rating, Study, StudyClip, StudyClipLabel

    raters = _table(Study.raters.through)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [((seed * 7919) % 1000) / 1000.0])
        at = "now()" if submitted_at is None else "%(at)s::timestamptz"
        if per_clip is None:
            chosen = f"{_table(StudyClip)} sc JOIN {raters} pool ON pool.study_id = sc.study_id"
        else:  # Knuth's multiplicative hash of the position picks the first rater
            chosen = f"""{_table(StudyClip)} sc CROSS JOIN generate_series(0, %(per_clip)s - 1) AS k
                JOIN (SELECT user_id, row_number() OVER (ORDER BY user_id) - 1 AS i
                        FROM {raters} WHERE study_id = %(study)s) pool
                  ON pool.i = ((sc.position::bigint * 2654435761) %% 4294967296 + k)
                              %% (SELECT COUNT(*) FROM {raters} WHERE study_id = %(study)s)"""
        cursor.execute(
            f"""
            INSERT INTO {_table(Rating)} (study_clip_id, rater_id, skipped, seconds_spent, submitted_at)
            SELECT sc.id, pool.user_id, false, 3 + 20 * random(), {at}
              FROM {chosen}
             WHERE sc.study_id = %(study)s
             ORDER BY sc.position, pool.user_id
            """,
            {"study": study_id, "per_clip": per_clip, "at": submitted_at},
        )
        ratings = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO {_table(Judgment)} (rating_id, study_id, category_id, answer, modality, added_by_rater)
            SELECT rating_id, %(study)s, category_id,
                   CASE WHEN u < p THEN 'present' WHEN u < p + %(unsure)s THEN 'unsure' ELSE 'absent' END,
                   CASE WHEN u < p THEN (ARRAY['A', 'V', 'AV'])[1 + floor(3 * m)::int] ELSE '' END,
                   false
              FROM (
                SELECT r.id AS rating_id, shown.category_id, random() AS u, random() AS m,
                       CASE WHEN shown.is_decoy THEN %(decoy)s
                            WHEN original.id IS NOT NULL THEN %(original)s
                            ELSE %(other)s END AS p
                  FROM {_table(Rating)} r
                  JOIN {_table(StudyClip)} sc ON sc.id = r.study_clip_id
                  JOIN {_table(StudyClipLabel)} shown ON shown.study_clip_id = r.study_clip_id
                  LEFT JOIN {_table(ClipLabel)} original
                         ON original.clip_id = sc.clip_id AND original.category_id = shown.category_id
                 WHERE sc.study_id = %(study)s
              ) answers
            """,
            {
                "study": study_id,
                "unsure": UNSURE,
                "decoy": PRESENT_IF_DECOY,
                "original": PRESENT_IF_ORIGINAL,
                "other": PRESENT_IF_OTHER_PROPOSAL,
            },
        )
        judgments = cursor.rowcount
        cursor.execute(
            f"""
            UPDATE {_table(StudyClip)} sc SET completed_count = counted.n, quiet_ratings = counted.n
              FROM (SELECT study_clip_id, COUNT(*) AS n FROM {_table(Rating)} r
                      JOIN {_table(StudyClip)} s ON s.id = r.study_clip_id
                     WHERE s.study_id = %s AND NOT r.skipped GROUP BY study_clip_id) counted
             WHERE sc.id = counted.study_clip_id
            """,
            [study_id],
        )
        cursor.execute(f"ANALYZE {_table(Rating)}, {_table(Judgment)}, {_table(StudyClip)}")
    return ratings, judgments
