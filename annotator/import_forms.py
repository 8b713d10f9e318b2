"""Page forms of the import pages. They render fields only: the API's serializers validate
(annotator.apis.imports), and a form shows the errors they report."""

from django import forms
from django.forms.utils import ErrorDict, ErrorList

from annotator import selectors
from annotator.importers.clip_formats import CLIP_READERS
from annotator.importers.proposal_files import PROPOSAL_FORMATS
from annotator.importers.taxonomy import BUILTIN_TAXONOMIES, CATEGORY_READERS
from annotator.models import Taxonomy


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ImportForm(forms.Form):
    """A form whose errors come from a serializer; `action` says which form a page got."""

    action = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.action}_%s")  # several forms on one page, one name each
        super().__init__(*args, **kwargs)

    def show_errors(self, errors: dict) -> None:
        self.cleaned_data = {}
        self._errors = ErrorDict()
        for field, messages in errors.items():
            key = field if field in self.fields else "__all__"
            texts = [str(message) for message in (messages if isinstance(messages, list) else [messages])]
            self._errors.setdefault(key, ErrorList()).extend(texts)


class DatasetCreateForm(ImportForm):
    action = "dataset"
    name = forms.CharField(max_length=100)
    taxonomy = forms.ModelChoiceField(queryset=Taxonomy.objects.none(), help_text="Its class list.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["taxonomy"].queryset = selectors.taxonomy_list()


class TaxonomyImportForm(ImportForm):
    action = "taxonomy"
    name = forms.CharField(max_length=100, required=False, help_text="Default: the built-in's name.")
    file = forms.FileField(required=False, label="Class-list file", help_text="VGGSound stat.csv, or one label a line.")
    format = forms.ChoiceField(
        choices=[("", "by the file's suffix"), *((name, name) for name in sorted(CATEGORY_READERS))], required=False
    )
    builtin = forms.ChoiceField(
        choices=[("", "none: upload a file"), *((name, name) for name in sorted(BUILTIN_TAXONOMIES))],
        required=False,
        label="Or a built-in class list",
    )


class ClipsImportForm(ImportForm):
    action = "clips"
    file = forms.FileField(label="Clip list")
    format = forms.ChoiceField(choices=[(name, name) for name in sorted(CLIP_READERS)], initial="generic")
    split = forms.CharField(max_length=20, required=False, help_text="For files without a split column.")


class MediaUploadForm(ImportForm):
    action = "media-upload"
    files = forms.FileField(
        widget=MultipleFileInput(attrs={"multiple": True}),
        label="Media files",
        help_text="<clip_id>.mp4 (or .webm, .mkv, .avi, .mov, .m4a, .wav); many at once.",
    )


class MediaFolderForm(ImportForm):
    action = "media-folder"
    folder = forms.CharField(max_length=1000, label="Server folder", help_text="Under a folder the operator allows.")
    reprobe = forms.BooleanField(required=False, help_text="Probe again files unchanged since the last import.")


class ProposalsImportForm(ImportForm):
    action = "proposals"
    file = forms.FileField(label="Proposal file", help_text="CSV or JSON (docs/generic_csv.md).")
    name = forms.CharField(max_length=200, label="Proposal set name", help_text="A rerun replaces its content.")
    format = forms.ChoiceField(
        choices=[("", "by the file's suffix"), *((name, name) for name in PROPOSAL_FORMATS)], required=False
    )


class GoldImportForm(ImportForm):
    action = "gold"
    file = forms.FileField(label="Gold file", help_text="clip_id,label,truth[,modality] (docs/gold_labels.md).")


class LabelStudioImportForm(ImportForm):
    action = "label-studio"
    file = forms.FileField(label="Label Studio export", help_text='The project\'s "Export", format JSON.')
    study = forms.CharField(
        max_length=200,
        required=False,
        label="Study name",
        help_text="Its annotations become this closed study's ratings; default 'Label Studio: <file name>'.",
    )
    config = forms.CharField(
        required=False,
        label="Labelling config (XML)",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Names the video\'s key: <Video value="$video"/>; leave empty for "video".',
    )


DATASET_IMPORT_FORMS = (
    ClipsImportForm,
    MediaUploadForm,
    MediaFolderForm,
    ProposalsImportForm,
    GoldImportForm,
    LabelStudioImportForm,
)
