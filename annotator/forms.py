"""Page forms: they parse and check request input; the services decide the rest."""

import json

from django import forms
from django.contrib.auth import get_user_model

from annotator import roles
from annotator.models import Dataset, Judgment, ProposalSet


class RatingSubmitForm(forms.Form):
    """What the rater page posts: answers as JSON {category_id: answer}, added ids comma-joined."""

    study_clip_id = forms.IntegerField(min_value=1)
    answers = forms.CharField(required=False)
    added = forms.CharField(required=False)
    seconds_spent = forms.FloatField(required=False, min_value=0)
    skipped = forms.BooleanField(required=False)

    def clean_answers(self) -> dict[int, str]:
        raw = self.cleaned_data["answers"].strip()
        if not raw:
            return {}
        try:
            answers = json.loads(raw)
        except ValueError:
            raise forms.ValidationError("answers must be a JSON object.") from None
        if not isinstance(answers, dict):
            raise forms.ValidationError("answers must be a JSON object of category id to answer.")
        parsed: dict[int, str] = {}
        for key, answer in answers.items():
            try:
                category_id = int(key)
            except ValueError:
                raise forms.ValidationError(f"{key!r} is not a category id.") from None
            if answer not in Judgment.Answer.values:
                raise forms.ValidationError(f"{answer!r} is not one of {', '.join(Judgment.Answer.values)}.")
            parsed[category_id] = answer
        return parsed

    def clean_added(self) -> list[int]:
        raw = self.cleaned_data["added"].strip()
        try:
            return [int(part) for part in raw.split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError("added must be comma-separated category ids.") from None


class ProposalSetSelect(forms.Select):
    """Each option carries its dataset id, so the page can show only the chosen dataset's sets."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-dataset"] = str(instance.dataset_id)
        return option


class ProposalSetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ProposalSet) -> str:
        return f"{obj.name} ({obj.get_source_display()})"


class RaterChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        full = obj.get_full_name()
        return f"{obj.username} ({full})" if full else obj.username


class StudyCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.order_by("name"))
    proposal_set = ProposalSetChoiceField(
        queryset=ProposalSet.objects.select_related("dataset").order_by("dataset__name", "name"),
        widget=ProposalSetSelect,
        help_text="Only the chosen dataset's proposal sets are listed.",
    )
    sample_size = forms.IntegerField(min_value=1, help_text="Clips to sample (gold clips come on top).")
    seed = forms.IntegerField(initial=0, help_text="The same seed gives the same sample and label order.")
    stratified = forms.BooleanField(required=False, initial=True, help_text="Sample evenly across original labels.")
    split = forms.CharField(max_length=20, required=False, help_text="Only clips of this split; empty: all.")
    raters_per_clip = forms.IntegerField(min_value=1, initial=3)
    raters = RaterChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple, help_text="Users in the rater group.")
    decoys_per_clip = forms.IntegerField(min_value=0, initial=1, help_text="Labels the model did not propose.")
    gold_rate = forms.FloatField(
        min_value=0, max_value=1, initial=0.0, help_text="Share of extra clips with known labels (0 to 1)."
    )
    show_evidence = forms.BooleanField(
        required=False,
        help_text="Show raters the model's instant moments, its heatmap and, in studies without decoys, "
        "which heads proposed each label (no head proposes a decoy, so with decoys the heads stay hidden).",
    )
    reservation_timeout_seconds = forms.IntegerField(
        min_value=1, initial=600, help_text="A reserved clip returns to the pool after this long."
    )
    instructions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["raters"].queryset = (
            get_user_model().objects.filter(groups__name=roles.RATER, is_active=True).distinct().order_by("username")
        )

    def clean(self):
        cleaned = super().clean()
        dataset, proposal_set = cleaned.get("dataset"), cleaned.get("proposal_set")
        if dataset and proposal_set and proposal_set.dataset_id != dataset.pk:
            self.add_error("proposal_set", f"This proposal set belongs to dataset '{proposal_set.dataset}'.")
        return cleaned
