"""Researcher pages for model runs: the list, a run's live progress and metrics, starting runs.

Live progress comes from the REST API (``/api/modelzoo/runs/...``), polled by a few lines of
JavaScript in the templates.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from annotator.roles import ResearcherRequiredMixin
from config.errors import ApplicationError, NotFoundError
from modelzoo import selectors, services
from modelzoo.forms import PredictForm, TrainForm
from modelzoo.models import ModelRun

RUNS_PER_PAGE = 50
PREDICTIONS_SHOWN = 20


def _run(request: HttpRequest, run_id: int, *, owner: bool = False) -> ModelRun:
    """A run the user may use (with ``owner``: one they started); any other is a 404."""
    select = selectors.run_for_owner if owner else selectors.run_for_researcher
    try:
        return select(user=request.user, run_id=run_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


def _prediction_rows(run: ModelRun) -> list[dict]:
    names = selectors.category_names_by_index(taxonomy=run.dataset.taxonomy)
    return [
        {
            "clip_id": prediction.clip.clip_id,
            "vote": names.get(prediction.vote_index, ""),
            "union": [names.get(index, str(index)) for index in prediction.union_indices],
            "event_type": prediction.event_type,
            "flags": prediction.flags,
            "error": prediction.error,
        }
        for prediction in selectors.run_predictions(run=run)[:PREDICTIONS_SHOWN]
    ]


class RunListView(ResearcherRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        runs = selectors.runs_for_researcher(user=request.user)
        page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
        return render(request, "modelzoo/run_list.html", {"page": page, "runs": page.object_list})


class RunDetailView(ResearcherRequiredMixin, View):
    def get(self, request: HttpRequest, run_id: int) -> HttpResponse:
        run = _run(request, run_id)
        context = {
            "run": run,
            "payload": selectors.run_progress_payload(run=run),
            "prediction_rows": _prediction_rows(run) if run.kind == ModelRun.Kind.PREDICT else [],
            "prediction_count": selectors.run_prediction_count(run_id=run.pk),
            "prediction_runs": selectors.runs_for_researcher(user=request.user).filter(source_run=run)[:20],
        }
        return render(request, "modelzoo/run_detail.html", context)


class RunCancelView(ResearcherRequiredMixin, View):
    def post(self, request: HttpRequest, run_id: int) -> HttpResponse:
        try:
            run = services.model_run_cancel(run=_run(request, run_id, owner=True))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.info(request, f"Run {run.pk}: {run.progress_message or run.status}.")
        return redirect("modelzoo:run-detail", run_id=run_id)


class RunCreateView(ResearcherRequiredMixin, View):
    """Two forms on one page; the submit button's ``action`` says which one was sent."""

    template = "modelzoo/run_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {"source_run": request.GET.get("source_run")} if request.GET.get("source_run") else None
        context = {
            "train_form": TrainForm(prefix="train", user=request.user),
            "predict_form": PredictForm(prefix="predict", initial=initial, user=request.user),
        }
        return render(request, self.template, context)

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action")
        train_form = TrainForm(request.POST if action == "train" else None, prefix="train", user=request.user)
        predict_form = PredictForm(request.POST if action == "predict" else None, prefix="predict", user=request.user)
        form = train_form if action == "train" else predict_form if action == "predict" else None
        if form is None:
            messages.error(request, "Choose whether to train or to predict.")
        elif form.is_valid():
            try:
                if form is train_form:
                    run = services.model_run_start_training(created_by=request.user, **form.service_arguments())
                else:
                    run = services.model_run_start_prediction(created_by=request.user, **form.service_arguments())
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Run {run.pk} queued.")
                return redirect(reverse("modelzoo:run-detail", kwargs={"run_id": run.pk}))
        context = {"train_form": train_form, "predict_form": predict_form, "action": action}
        return render(request, self.template, context, status=400)
