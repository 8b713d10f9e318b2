"""Page forms that render fields. Input is validated by the API's serializers (one set of
rules for pages and clients alike); a form only shows the errors they report."""

from django import forms
from django.contrib.auth import get_user_model
from django.forms.utils import ErrorDict, ErrorList

from annotator import roles, selectors
from annotator.importers.probe import MEDIA_FLAGS
from annotator.models import Dataset, ProposalSet, Study


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
    """The choices are the user's: the datasets they may use and those datasets' proposal sets."""

    name = forms.CharField(max_length=200)
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none())
    proposal_set = ProposalSetChoiceField(
        queryset=ProposalSet.objects.none(),
        widget=ProposalSetSelect,
        help_text="Only the chosen dataset's proposal sets are listed.",
    )
    sample_size = forms.IntegerField(min_value=1, help_text="Clips to sample (gold clips come on top).")
    seed = forms.IntegerField(initial=0, help_text="The same seed gives the same sample and label order.")
    stratified = forms.BooleanField(required=False, initial=True, help_text="Sample evenly across original labels.")
    split = forms.CharField(max_length=20, required=False, help_text="Only clips of this split; empty: all.")
    raters_per_clip = forms.IntegerField(
        min_value=1, initial=3, help_text="Fixed overlap: raters per clip; until settled: the most raters per clip."
    )
    serving = forms.ChoiceField(
        choices=Study.Serving.choices,
        initial=Study.Serving.FIXED,
        help_text="Until settled: each clip is served until its labels are decided, from the fewest raters on.",
    )
    min_raters = forms.IntegerField(min_value=1, initial=3, help_text="Until settled: the fewest raters per clip.")
    quiet_raters = forms.IntegerField(
        min_value=0, initial=8, help_text="Until settled: raters in a row who add nothing before a clip is complete."
    )
    settle_error = forms.FloatField(
        min_value=0.0001, max_value=0.49, initial=0.02, help_text="Until settled: error allowed per label decision."
    )
    ask_modality = forms.BooleanField(
        required=False, initial=True, help_text="Raters say whether a present label is heard, seen or both."
    )
    max_labels_shown = forms.IntegerField(
        min_value=1, max_value=1000, initial=10, help_text="Labels shown per clip, labels raters added included."
    )
    raters = RaterChoiceField(
        queryset=None,
        to_field_name="username",  # the API names raters by username
        widget=forms.CheckboxSelectMultiple,
        help_text="Users in the rater group.",
    )
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
    qualification_clips = forms.IntegerField(
        min_value=0, initial=0, help_text="Gold clips a rater answers before the queue; 0: no qualification."
    )
    qualification_pass_mark = forms.FloatField(
        min_value=0, max_value=1, initial=0.8, help_text="Share of qualification labels answered right to pass."
    )
    gold_feedback = forms.BooleanField(
        required=False, help_text="After a gold clip, show raters which answers disagreed with the truth."
    )
    pause_below_gold_accuracy = forms.FloatField(
        min_value=0, max_value=1, required=False, help_text="Pause a rater whose gold accuracy falls below this."
    )
    pause_above_decoy_acceptance = forms.FloatField(
        min_value=0, max_value=1, required=False, help_text="Pause a rater who accepts more than this share of decoys."
    )
    auto_pause_min_answers = forms.IntegerField(
        min_value=1, initial=10, help_text="Answers on gold labels or decoys before automatic pausing judges."
    )
    instructions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    exclude_media_flags = forms.MultipleChoiceField(
        choices=[(code, f"{code}: {text}") for code, text in MEDIA_FLAGS.items()],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Leave out clips flagged",
        help_text="Flags found at media import; unchecked: flagged clips may be sampled.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = selectors.datasets_for_researcher(user=user)
        self.fields["proposal_set"].queryset = selectors.proposal_sets_for_researcher(user=user).order_by(
            "dataset__name", "name"
        )
        self.fields["raters"].queryset = (
            get_user_model().objects.filter(groups__name=roles.RATER, is_active=True).distinct().order_by("username")
        )

    def show_errors(self, errors: dict) -> None:
        """Show a serializer's errors on the fields (``non_field_errors`` above the form);
        the form runs no validation of its own."""
        self.cleaned_data = {}
        self._errors = ErrorDict()
        for field, messages in errors.items():
            key = None if field == "non_field_errors" or field not in self.fields else field
            texts = [str(message) for message in (messages if isinstance(messages, list) else [messages])]
            self._errors.setdefault(key or "__all__", ErrorList()).extend(texts)
