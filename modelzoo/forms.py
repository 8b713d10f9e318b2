"""Forms of the run pages: start a training run or a prediction run. Their choices are the
user's: the datasets they may use and their trained runs."""

from django import forms

from annotator import selectors as annotator_selectors
from annotator.models import Dataset
from modelzoo import selectors
from modelzoo.models import ModelRun
from modelzoo.nn.config import CONFIGS

RECIPE = "recipe"
TRAIN_KIND_CHOICES = [
    (ModelRun.ModelKind.EVENT_HEADS, "event heads (ours), end to end"),
    (RECIPE, "event heads (ours), three-stage recipe"),
    (ModelRun.ModelKind.NAIVE_AV, "naive audio-visual (baseline)"),
    (ModelRun.ModelKind.AUDIO_ONLY, "audio only (baseline)"),
    (ModelRun.ModelKind.VISION_ONLY, "vision only (baseline)"),
]


class TrainForm(forms.Form):
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none())
    model_kind = forms.ChoiceField(choices=TRAIN_KIND_CHOICES)
    config_name = forms.ChoiceField(choices=[(name, name) for name in CONFIGS.names()], initial="tiny")
    split = forms.CharField(max_length=20, initial="train")
    val_split = forms.CharField(max_length=20, initial="val", required=False)
    epochs = forms.IntegerField(min_value=1, max_value=1000, initial=10)
    batch_size = forms.IntegerField(min_value=1, max_value=1024, initial=8)
    learning_rate = forms.FloatField(min_value=1e-8, max_value=10.0, initial=1e-3)
    vision_weights = forms.CharField(
        max_length=500, required=False, help_text="Optional local MC3-18 weights file (recipe only)."
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = annotator_selectors.datasets_for_researcher(user=user)

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["recipe"] = data["model_kind"] == RECIPE
        if data["recipe"]:
            data["model_kind"] = ModelRun.ModelKind.EVENT_HEADS
        return data


class PredictForm(forms.Form):
    source_run = forms.ModelChoiceField(queryset=ModelRun.objects.none(), label="Trained run")
    dataset = forms.ModelChoiceField(
        queryset=Dataset.objects.none(), required=False, help_text="Default: the dataset the run trained on."
    )
    split = forms.CharField(max_length=20, required=False, help_text="Empty: every split.")
    chunk_size = forms.IntegerField(min_value=1, max_value=100_000, initial=64, help_text="Clips per GPU task.")
    make_proposals = forms.BooleanField(required=False, initial=True, label="Store the union labels as proposals")
    proposal_set_name = forms.CharField(max_length=200, required=False)
    with_heatmaps = forms.BooleanField(required=False, initial=True, label="Write localisation heatmaps")

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source_run"].queryset = selectors.trained_runs(user=user)
        self.fields["dataset"].queryset = annotator_selectors.datasets_for_researcher(user=user)
        self.fields["source_run"].label_from_instance = lambda run: (
            f"#{run.pk} {run.get_model_kind_display()} ({run.config_name}) on {run.dataset.name}"
        )

    def service_arguments(self) -> dict:
        return dict(self.cleaned_data)
