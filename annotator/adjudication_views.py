"""The adjudication page: a researcher works through their study's contested labels from
the keyboard, watching each clip and deciding; decisions go to the REST endpoints API
clients use (session auth + CSRF), so validation lives once (annotator/apis/adjudication.py)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from rest_framework.pagination import PageNumberPagination

from annotator import selectors
from annotator.apis import ContestedLabelListApi
from annotator.roles import ResearcherRequiredMixin
from annotator.selectors.adjudication import STATE_OPEN, STATES
from config.errors import NotFoundError


class AdjudicatePageView(ResearcherRequiredMixin, View):
    """The page with the first page of labels in the chosen state (`?state=`, open by
    default) as its script's data; adjudicate.js pages on through the contested API."""

    def get(self, request: HttpRequest, study_id: int) -> HttpResponse:
        try:
            study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        except NotFoundError as exc:
            raise Http404(exc.message) from exc
        state = request.GET.get("state", STATE_OPEN)
        if state not in STATES:
            state = STATE_OPEN
        labels = selectors.study_contested_labels(study=study, state=state)
        page_size = PageNumberPagination.page_size or 50
        count = labels.count()
        first = labels[0:page_size]
        clear_url = reverse("annotator-api:adjudication-clear", args=[study.pk, 0, 0])
        config = {
            "state": state,
            "count": count,
            "page_size": page_size,
            "labels": ContestedLabelListApi.OutputSerializer(first, many=True).data,
            "has_next": count > len(first),
            "ask_modality": study.ask_modality,
            "contested_url": reverse("annotator-api:study-contested", args=[study.pk]),
            "adjudicate_url": reverse("annotator-api:label-adjudicate", args=[study.pk]),
            # "{study_clip}" and "{category}" stand for a label's ids in this one.
            "clear_url_pattern": clear_url.removesuffix("0/0/") + "{study_clip}/{category}/",
        }
        context = {"study": study, "state": state, "states": STATES, "count": count, "page": config}
        return render(request, "annotator/adjudicate.html", context)
