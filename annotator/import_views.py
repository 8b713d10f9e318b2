"""Import pages for researchers: create a dataset (and upload a taxonomy), import a clip list,
media, proposals, gold labels and Label Studio exports into a dataset they own, and follow each import job's
progress. The pages validate with the API's serializers and call the same services; the job
page polls the job's JSON (GET /api/imports/<id>/)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views import View

from annotator import selectors, services
from annotator.apis.imports import (
    ClipsImportInputSerializer,
    DatasetCreateApi,
    GoldImportInputSerializer,
    LabelStudioImportInputSerializer,
    MediaImportInputSerializer,
    ProposalsImportInputSerializer,
    TaxonomyImportApi,
    job_payload,
)
from annotator.apis.media_uploads import MediaUploadApi
from annotator.import_forms import (
    DATASET_IMPORT_FORMS,
    DatasetCreateForm,
    TaxonomyImportForm,
)
from annotator.roles import ResearcherRequiredMixin
from config.errors import ApplicationError, NotFoundError

RECENT_JOBS = 20
SHOWN_REFUSED = 10


def _form_data(request: HttpRequest) -> QueryDict:
    """The posted fields and files together, as the API's serializers read a multipart body."""
    data = request.POST.copy()
    data.update(request.FILES)
    return data


def _valid(serializer_class, request: HttpRequest, form) -> dict | None:
    serializer = serializer_class(data=_form_data(request))
    if serializer.is_valid():
        return serializer.validated_data
    form.show_errors(serializer.errors)
    return None


class DatasetCreateView(ResearcherRequiredMixin, View):
    """A new dataset of an existing taxonomy; beside it, a class list to import as a taxonomy."""

    template = "annotator/dataset_form.html"
    max_body_setting = "AVLABEL_UPLOAD_MAX_BYTES"

    def get(self, request: HttpRequest) -> HttpResponse:
        taxonomy = request.GET.get("taxonomy", "")
        initial = {"taxonomy": taxonomy} if taxonomy.isascii() and taxonomy.isdigit() and len(taxonomy) < 19 else {}
        context = {"dataset_form": DatasetCreateForm(initial=initial), "taxonomy_form": TaxonomyImportForm()}
        return render(request, self.template, {**context, "datasets": selectors.datasets_owned(user=request.user)})

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action")
        dataset_form = DatasetCreateForm(request.POST if action == DatasetCreateForm.action else None)
        taxonomy_form = TaxonomyImportForm(request.POST if action == TaxonomyImportForm.action else None)
        if action == DatasetCreateForm.action:
            data = _valid(DatasetCreateApi.InputSerializer, request, dataset_form)
            if data is not None:
                try:
                    dataset = services.dataset_create(owner=request.user, **data)
                except ApplicationError as exc:
                    dataset_form.show_errors({"non_field_errors": [exc.message]})
                else:
                    messages.success(request, f"Dataset '{dataset.name}' created: import its clips and media.")
                    return redirect("annotator:dataset-import", dataset_id=dataset.pk)
        elif action == TaxonomyImportForm.action:
            data = _valid(TaxonomyImportApi.InputSerializer, request, taxonomy_form)
            if data is not None:
                try:
                    job = services.taxonomy_import_start(
                        owner=request.user,
                        name=data["name"],
                        upload=data.get("file"),
                        file_format=data["format"],
                        builtin=data["builtin"],
                    )
                except ApplicationError as exc:
                    taxonomy_form.show_errors({"non_field_errors": [exc.message]})
                else:
                    return redirect("annotator:import-job-detail", job_id=job.pk)
        else:
            messages.error(request, "Choose whether to create a dataset or to import a taxonomy.")
        context = {"dataset_form": dataset_form, "taxonomy_form": taxonomy_form, "action": action}
        context["datasets"] = selectors.datasets_owned(user=request.user)
        return render(request, self.template, context, status=400)


class DatasetImportView(ResearcherRequiredMixin, View):
    """A dataset's import forms (one per kind; the `action` field says which was sent) and its
    recent import jobs."""

    template = "annotator/dataset_import.html"
    max_body_setting = "AVLABEL_UPLOAD_MAX_BYTES"

    def get(self, request: HttpRequest, dataset_id: int) -> HttpResponse:
        dataset = _own_dataset(request, dataset_id)
        return render(request, self.template, self._context(request, dataset, {}))

    def post(self, request: HttpRequest, dataset_id: int) -> HttpResponse:
        dataset = _own_dataset(request, dataset_id)
        action = request.POST.get("action", "")
        forms = {form_class.action: form_class(request.POST if action == form_class.action else None)
                 for form_class in DATASET_IMPORT_FORMS}  # fmt: skip
        form = forms.get(action)
        if form is None:
            messages.error(request, "Choose what to import.")
        else:
            try:
                job = self._start(request, dataset, action, form)
            except ApplicationError as exc:
                form.show_errors({"non_field_errors": [exc.message]})
            else:
                if job is not None:
                    return redirect("annotator:import-job-detail", job_id=job.pk)
        return render(request, self.template, self._context(request, dataset, forms), status=400)

    def _start(self, request: HttpRequest, dataset, action: str, form):
        """The job the form starts, or None when its serializer refused the input."""
        owner = request.user
        if action == "clips":
            data = _valid(ClipsImportInputSerializer, request, form)
            return data and services.clips_import_start(
                owner=owner, dataset=dataset, upload=data["file"], file_format=data["format"], split=data["split"]
            )
        if action == "proposals":
            data = _valid(ProposalsImportInputSerializer, request, form)
            return data and services.proposals_import_start(
                owner=owner, dataset=dataset, upload=data["file"], name=data["name"], file_format=data["format"]
            )
        if action == "gold":
            data = _valid(GoldImportInputSerializer, request, form)
            return data and services.gold_import_start(owner=owner, dataset=dataset, upload=data["file"])
        if action == "label-studio":
            data = _valid(LabelStudioImportInputSerializer, request, form)
            return data and services.label_studio_import_start(
                owner=owner, dataset=dataset, upload=data["file"], study_name=data["study"], config=data["config"]
            )
        if action == "media-folder":
            data = _valid(MediaImportInputSerializer, request, form)
            if data is not None and not data["folder"]:
                form.show_errors({"folder": ["Name a server folder."]})
                return None
            return data and services.media_import_start(
                owner=owner, dataset=dataset, folder=data["folder"], reprobe=data["reprobe"]
            )
        data = _valid(MediaUploadApi.InputSerializer, request, form)
        if data is None:
            return None
        results = services.media_files_store(dataset=dataset, files=data["files"])
        refused = [result for result in results if result.status == "refused"]
        for result in refused[:SHOWN_REFUSED]:
            messages.warning(request, f"{result.name}: {result.message}")
        if len(refused) == len(results):
            form.show_errors({"files": ["No file was stored."]})
            return None
        messages.info(request, f"{len(results) - len(refused)} media files stored, {len(refused)} refused.")
        return services.media_import_start(owner=owner, dataset=dataset)

    def _context(self, request: HttpRequest, dataset, forms: dict) -> dict:
        forms = {form_class.action: forms.get(form_class.action) or form_class() for form_class in DATASET_IMPORT_FORMS}
        return {
            "dataset": dataset,
            "summary": selectors.dataset_summary(dataset=dataset),
            "clip_count": dataset.clips.count(),
            "forms": forms,
            "clips_form": forms["clips"],
            "media_upload_form": forms["media-upload"],
            "media_folder_form": forms["media-folder"],
            "proposals_form": forms["proposals"],
            "gold_form": forms["gold"],
            "label_studio_form": forms["label-studio"],
            "jobs": selectors.import_jobs_for_researcher(user=request.user).filter(dataset=dataset)[:RECENT_JOBS],
            "proposal_sets": dataset.proposal_sets.order_by("name"),
            "media_roots": [str(root) for root in settings.AVLABEL_MEDIA_IMPORT_ROOTS],
        }


class ImportJobDetailView(ResearcherRequiredMixin, View):
    def get(self, request: HttpRequest, job_id: int) -> HttpResponse:
        try:
            job = selectors.import_job_for_researcher(user=request.user, job_id=job_id)
        except NotFoundError as exc:
            raise Http404(exc.message) from exc
        payload = job_payload(job)
        return render(request, "annotator/import_job.html", {"job": job, "payload": payload})


def _own_dataset(request: HttpRequest, dataset_id: int):
    try:
        return selectors.dataset_for_owner(user=request.user, dataset_id=dataset_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
