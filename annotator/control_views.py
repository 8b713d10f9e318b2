"""Pages of a running study's control: the rater's qualification page and its clips' media.
The study page's controls (annotator.views.StudyDetailView) post to annotator.apis.control."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from annotator import selectors
from annotator.apis.qualification import qualification_payload
from annotator.media_serving import MediaPathError, clip_media_file, ranged_file_response
from annotator.roles import RaterRequiredMixin
from config.errors import NotFoundError


class QualificationPageView(RaterRequiredMixin, View):
    """The qualification: the clip due next, answered by keyboard as on the rate page, each
    posted to the qualification API; then the result, and the way to the queue or not."""

    def get(self, request: HttpRequest, study_id: int) -> HttpResponse:
        try:
            study = selectors.study_for_member(rater=request.user, study_id=study_id)
        except NotFoundError as exc:
            raise Http404(exc.message) from exc
        payload = qualification_payload(study=study, rater=request.user)
        config = {
            **payload,
            "answer_url": reverse("annotator-api:qualification-answer", args=[study.pk]),
            "status_url": reverse("annotator-api:qualification-status", args=[study.pk]),
            "rate_url": reverse("annotator:rate", args=[study.pk]),
        }
        context = {"study": study, "state": payload, "config": config}
        return render(request, "annotator/qualify.html", context)


class QualificationMediaView(LoginRequiredMixin, View):
    """A qualification clip's video, for the study's raters and its owner."""

    def get(self, request: HttpRequest, study_id: int, position: int) -> HttpResponse:
        try:
            study = selectors.study_get(study_id=study_id)
            found = selectors.qualification_clip_for_member(study=study, user=request.user, position=position)
            path = clip_media_file(found.clip)
        except NotFoundError as exc:
            raise Http404(exc.message) from exc
        except MediaPathError as exc:
            raise Http404("This clip's media file is not available.") from exc
        return ranged_file_response(request, path)
