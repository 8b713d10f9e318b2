"""The multi-labelled dataset in the files training code loads in one line: JSON Lines, one
Parquet file, and a Hugging Face dataset folder (Parquet plus a dataset card) as a zip.

    datasets.load_dataset("json", data_files="study-3-dataset.jsonl")
    datasets.load_dataset("parquet", data_files="study-3-dataset.parquet")
    datasets.load_dataset("study-3-dataset-hf")  # the unzipped folder, card included

Every format carries the records of ``exporters.study_dataset_records`` unchanged, so a
field means the same in CSV, JSON, JSONL and Parquet. Pure functions, no Django.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from evaluation import metrics
from evaluation.exporters import markdown_escape

#: The path of the data inside the Hugging Face folder; the card's `configs` names it.
HF_DATA_PATH = "data/train-00000-of-00001.parquet"
#: A licence as the Hub's card metadata spells it (an SPDX-like id such as cc-by-4.0).
LICENCE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.+\-]{0,63}$")

_COUNTS = pa.struct([("present", pa.int32()), ("absent", pa.int32()), ("unsure", pa.int32())])
_MODALITY_VOTES = pa.struct([(code, pa.int32()) for code in metrics.MODALITIES])
_LABEL = pa.struct(
    [
        ("label", pa.string()),
        ("source", pa.string()),
        ("confirmed", pa.bool_()),
        ("adjudicated", pa.bool_()),
        ("in_original", pa.bool_()),
        ("votes", _COUNTS),
        ("agreement", pa.float64()),
        ("modality", pa.string()),
        ("modality_votes", _MODALITY_VOTES),
    ]
)
#: An explicit schema: a column that is empty or all-null still has its type.
SCHEMA = pa.schema(
    [
        ("clip_id", pa.string()),
        ("youtube_id", pa.string()),
        ("start_seconds", pa.float64()),
        ("original_labels", pa.list_(pa.string())),
        ("raters", pa.int32()),
        ("is_gold", pa.bool_()),
        ("labels", pa.list_(_LABEL)),
    ]
)


@dataclass(frozen=True)
class CardFacts:
    """What the dataset card says beyond the records: where the data came from, how the
    study collected it, and how far its raters agreed."""

    title: str
    dataset: str
    taxonomy: str
    categories: Sequence[str]
    design: Sequence[tuple[str, str]]  # (setting, value) in the order shown
    rules: Sequence[tuple[str, str]]  # (what, rule)
    raters: int
    ratings: int
    krippendorff_alpha: float  # nominal, present / absent, over the sampled clips' labels
    modality_agreement: float  # mean share of a label's modality votes equal to its consensus
    licence: str


def licence_check(licence: str) -> str:
    if not LICENCE_PATTERN.fullmatch(licence):
        raise ValueError(
            f"Licence {licence[:70]!r} is not a licence id: lower-case letters, digits, '.', '+' or '-' "
            "(e.g. cc-by-4.0, other, unknown)."
        )
    return licence


def dataset_to_jsonl(records: Iterable[dict]) -> str:
    """One clip record per line, the ``clips`` entries of the JSON export (written as the
    records come: a generator of records is never held whole)."""
    out = io.StringIO()
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False, allow_nan=False))
        out.write("\n")
    return out.getvalue()


#: Records per Parquet row group: what is held as Python objects at once (at 200k clips,
#: 20,000 a group cost 44 MB more peak memory than 5,000; bench/study_scale.py).
PARQUET_BATCH = 5_000


def dataset_to_parquet(records: Iterable[dict]) -> bytes:
    """One Parquet file (zstd), written in row groups of PARQUET_BATCH records."""
    sink = io.BytesIO()
    with pq.ParquetWriter(sink, SCHEMA, compression="zstd") as writer:
        iterator = iter(records)
        written = False
        while batch := list(itertools.islice(iterator, PARQUET_BATCH)):
            writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
            written = True
        if not written:
            writer.write_table(SCHEMA.empty_table())
    return sink.getvalue()


def dataset_to_hf_zip(records: Sequence[dict], *, facts: CardFacts) -> bytes:
    """A folder ``datasets.load_dataset`` reads as is, zipped: README.md (the dataset card,
    whose YAML header names the data file) and the Parquet file."""
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.md", dataset_card(records, facts=facts))
        # Parquet is compressed already: stored, not deflated again.
        archive.writestr(zipfile.ZipInfo(HF_DATA_PATH), dataset_to_parquet(records), zipfile.ZIP_STORED)
    return sink.getvalue()


def _size_category(n: int) -> str:
    """The Hub's size_categories bucket of n rows."""
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def _figure(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"  # nan != nan


def _yaml_text(text: str) -> str:
    """A YAML scalar that stays one string whatever the researcher named things."""
    return json.dumps(text, ensure_ascii=False)  # JSON strings are YAML flow scalars


def dataset_card(records: Sequence[dict], *, facts: CardFacts) -> str:
    """The dataset card: the Hub's YAML metadata, then source, study design, raters,
    agreement, label statistics, the fields and the licence."""
    sampled = [record for record in records if not record["is_gold"]]
    confirmed = [label for record in sampled for label in record["labels"] if label["confirmed"]]
    modality_counts = {code: sum(label["modality"] == code for label in confirmed) for code in metrics.MODALITIES}
    added = sum(label["source"] == "added" for label in confirmed)
    adjudicated = sum(label["adjudicated"] for record in sampled for label in record["labels"])
    raters_per_clip = sum(record["raters"] for record in sampled) / len(sampled) if sampled else float("nan")
    labels_per_clip = len(confirmed) / len(sampled) if sampled else float("nan")
    header = [
        "---",
        f"license: {facts.licence}",
        f"pretty_name: {_yaml_text(facts.title)}",
        "task_categories:",
        "- audio-classification",
        "- video-classification",
        "tags:",
        "- multi-label",
        "- audio-visual",
        "size_categories:",
        f"- {_size_category(len(records))}",
        "configs:",
        "- config_name: default",
        "  data_files:",
        "  - split: train",
        f"    path: {HF_DATA_PATH}",
        "---",
    ]
    body = [
        f"# {markdown_escape(facts.title)}",
        "",
        "A multi-labelled audio-visual dataset built with avlabel: a model proposed labels for each clip,",
        "human raters confirmed or rejected them and added the ones it missed, and each label's consensus",
        "(and where the event is: heard, seen or both) comes from their votes.",
        "",
        "## Source",
        "",
        f"- Clips: dataset `{markdown_escape(facts.dataset)}`; each row names its YouTube id and start second",
        "  (10-second clips).",
        f"- Taxonomy: `{markdown_escape(facts.taxonomy)}`, {len(facts.categories)} classes.",
        f"- Rows: {len(records)} clips ({len(records) - len(sampled)} of them gold clips with known labels).",
        "",
        "## Study design",
        "",
        "| Setting | Value |",
        "|---|---|",
        *(f"| {markdown_escape(name)} | {markdown_escape(value)} |" for name, value in facts.design),
        "",
        *(f"- {markdown_escape(what)}: {markdown_escape(rule)}" for what, rule in facts.rules),
        "",
        "## Raters and agreement (sampled clips, gold clips left out)",
        "",
        "| Figure | Value |",
        "|---|---|",
        f"| Raters | {facts.raters} |",
        f"| Completed ratings | {facts.ratings} |",
        f"| Mean raters per clip | {_figure(raters_per_clip)} |",
        f"| Krippendorff's alpha (nominal, present / absent) | {_figure(facts.krippendorff_alpha)} |",
        f"| Modality agreement (mean share of votes equal to the consensus) | {_figure(facts.modality_agreement)} |",
        f"| Confirmed labels per clip | {_figure(labels_per_clip)} |",
        f"| Confirmed labels added by raters (not proposed) | {added} |",
        f"| Labels adjudicated by the researcher | {adjudicated} |",
        *(f"| Confirmed labels of modality {code} | {count} |" for code, count in modality_counts.items()),
        "",
        "## Fields",
        "",
        "- `clip_id`, `youtube_id`, `start_seconds`: the clip.",
        "- `original_labels`: the labels the source dataset gave the clip.",
        "- `raters`: completed ratings of the clip; `is_gold`: a gold clip (labels known beforehand).",
        "- `labels`: the consensus labels, each with `source` (proposal, decoy or added), `confirmed`,",
        "  `adjudicated` (the researcher decided it: `confirmed`, and a `modality` they gave, are their",
        "  decision rather than the vote), `in_original`, `votes` (present / absent / unsure), `agreement`",
        "  (share of decisive votes on the majority side), `modality` (A heard only, V seen only, AV both;",
        "  null without modality votes) and `modality_votes`.",
        "",
        "## Classes",
        "",
        ", ".join(f"`{markdown_escape(name)}`" for name in facts.categories),
        "",
        "## Licence",
        "",
        f"`{facts.licence}`, as the study's researcher declared it at export. The videos stay on YouTube",
        "under their uploaders' terms; this dataset holds labels and ids only.",
        "",
    ]
    return "\n".join(header + [""] + body)
