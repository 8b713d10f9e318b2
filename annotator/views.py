"""Pages: the rater's queue and rating page, the researcher's studies, and clip media.

Thin views: each one checks the role, calls a selector or service and renders the result.
Who may see which clip is decided by `selectors.study_clip_for_rater`.
"""

import logging

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from annotator import catalog, selectors, services
from annotator.apis import StudyCreateInputSerializer
from annotator.forms import StudyCreateForm
from annotator.media_serving import MediaPathError, clip_heatmap_file, clip_media_file, ranged_file_response
from annotator.roles import RaterRequiredMixin, ResearcherRequiredMixin
from annotator.selectors.spectrogram_jobs import spectrogram_job_for_study
from annotator.spectrogram import SpectrogramError, spectrogram_for_clip
from config.errors import ApplicationError, NotFoundError

CATEGORY_SUGGESTIONS = 10
STUDY_PAGE_EVENTS = 50  # the latest actions; the API pages through all
logger = logging.getLogger(__name__)


def _with_percent(progress: dict) -> dict:
    total = progress["total"]
    return {**progress, "percent": round(100 * progress["done"] / total, 1) if total else 0}


def _rater_study(request: HttpRequest, study_id: int):
    try:
        return selectors.study_for_rater(rater=request.user, study_id=study_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


def _study_clip(request: HttpRequest, study_clip_id: int):
    try:
        return selectors.study_clip_for_rater(rater=request.user, study_clip_id=study_clip_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


# ---------------------------------------------------------------- rater pages


class RaterHomeView(RaterRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        studies = selectors.rater_studies(rater=request.user).select_related("dataset")
        rows = [
            {"study": study, "progress": _with_percent(selectors.rater_progress(study=study, rater=request.user))}
            for study in studies
        ]
        # Enter on this page opens the first study with work left.
        focus = next((row["study"].pk for row in rows if row["progress"]["available"]), None)
        return render(request, "annotator/rater_home.html", {"rows": rows, "focus": focus})


class RatePageView(RaterRequiredMixin, View):
    """The rate page. GET never changes the queue (a cross-site image or a prefetch must not
    tie clips up): it shows the clip the rater holds a live reservation for, or, holding
    none, a page whose form asks for the next one (rater.js sends it at once), or the done
    page. POST reserves the next clip and answers 303 to the GET, renders the done page when
    nothing is left, or sends the rater to their studies with the reason (closed, busy).

    The page's script then switches from clip to clip in place (the clip held ahead, through
    the queue API), naming the clip on show in the address (`?clip=`, which GET reads for
    nothing: a reload shows the clip being rated); `?prefetch=0` keeps a page per clip."""

    def get(self, request: HttpRequest, study_id: int) -> HttpResponse:
        study = _queue_study(request, study_id)
        state = selectors.rater_queue_state(study=study, rater=request.user, now=timezone.now())
        if not state.is_member:
            raise Http404(f"Study {study_id} does not exist or you are not rating it.")
        try:
            services.require_active(study=study)
            services.require_standing(study=study, state=state.state, qualification=state.qualification)
        except ApplicationError as exc:
            if "qualification" in exc.extra:  # not qualified yet: the qualification page says where they stand
                return redirect("annotator:qualify", study_id=study.pk)
            messages.error(request, exc.message)
            return redirect("annotator:rater-home")
        progress = _with_percent(selectors.rater_progress(study=study, rater=request.user))
        context = {
            "study": study,
            "progress": progress,
            "rate_url": _rate_url(study_id=study.pk, prefetch=_prefetch_on(request)),
        }
        if state.held_study_clip_id is None:
            template = "annotator/rate_start.html" if progress["available"] else "annotator/rate_done.html"
            return render(request, template, context)
        study_clip = selectors.study_clip_get(study_clip_id=state.held_study_clip_id, related=("clip",))
        study_clip.study = study
        payload = selectors.study_clip_payload(study_clip=study_clip)
        context["page"] = rater_page_config(study=study, payload=payload, prefetch=_prefetch_on(request))
        # The rater's last ratings (H) to revise, and feedback after gold clips (apis/revisions.py).
        context["page"].update(
            history_url=reverse("annotator-api:rater-history", args=[study.pk]),
            rating_url_pattern=_id_pattern("annotator-api:rating-detail"),
            revise_url_pattern=_id_pattern("annotator-api:rating-revise"),
            gold_feedback=study.gold_feedback,
        )
        context["first_clip"] = progress["done"] == 0
        return render(request, "annotator/rate.html", context)

    def post(self, request: HttpRequest, study_id: int) -> HttpResponse:
        study = _queue_study(request, study_id)
        page_url = _rate_url(study_id=study.pk, prefetch=_prefetch_on(request))
        try:
            study_clip = services.clip_next_for_rater(study=study, rater=request.user)
        except NotFoundError as exc:
            raise Http404(exc.message) from exc
        except ApplicationError as exc:
            if "qualification" in exc.extra:
                return _see_other(reverse("annotator:qualify", args=[study.pk]))
            messages.error(request, exc.message)
            return _see_other(reverse("annotator:rater-home"))
        if study_clip is None:
            progress = _with_percent(selectors.rater_progress(study=study, rater=request.user))
            return render(request, "annotator/rate_done.html", {"study": study, "progress": progress})
        return _see_other(page_url)


def _prefetch_on(request: HttpRequest) -> bool:
    """Whether the page preloads the next clip: on unless the URL says `?prefetch=0` (the
    full page per clip, kept as the reference bench/rater_page.py measures against)."""
    return request.GET.get("prefetch") != "0"


def _rate_url(*, study_id: int, prefetch: bool) -> str:
    url = reverse("annotator:rate", args=[study_id])
    return url if prefetch else f"{url}?prefetch=0"


def _queue_study(request: HttpRequest, study_id: int):
    """The study by id, closed ones included (the queue says why it serves nothing): whether
    the rater is in it is the queue's check."""
    try:
        return selectors.study_get(study_id=study_id)
    except NotFoundError:  # the same answer as for a study the rater is not in
        raise Http404(f"Study {study_id} does not exist or you are not rating it.") from None


def _see_other(url: str) -> HttpResponseRedirect:
    """303: after a POST the browser GETs the page (a reload then sends nothing again)."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def rater_page_config(*, study, payload: dict, prefetch: bool = True) -> dict:
    """What the page's script needs (also rendered by the template), from the clip payload.
    rater.js builds the same from the payload of the clip it preloads (clipConfig there)."""
    evidence = payload.get("evidence")
    labels = [
        {"category_id": label["category_id"], "name": label["name"], "heads": label.get("heads", [])}
        for label in sorted(payload["labels"], key=lambda label: label["position"])
    ]
    config = {
        "study_clip_id": payload["study_clip_id"],
        "media_url": payload["media_url"],
        "spectrogram_url": payload["spectrogram_url"],
        "categories_url": reverse("annotator:rate-categories", args=[study.pk]),
        # The page submits to the REST endpoint API clients use, then shows the clip it
        # preloaded (held ahead through next_api_url), or POSTs next_url (the page's hidden
        # form) for the next clip.
        "submit_url": reverse("annotator-api:rating-submit", args=[payload["study_clip_id"]]),
        "next_url": _rate_url(study_id=study.pk, prefetch=prefetch),
        "prefetch": prefetch,
        "next_api_url": reverse("annotator-api:study-next", args=[study.pk]),
        # "{id}" stands for a study clip's id in these (the clip held ahead has its own).
        "submit_url_pattern": _id_pattern("annotator-api:rating-submit"),
        "release_url_pattern": _id_pattern("annotator-api:reservation-release"),
        "labels": labels,
        # With modality asked, a label's key also says heard / seen / both (rater.js).
        "ask_modality": payload["ask_modality"],
        "evidence": None,
    }
    if evidence:
        config["evidence"] = {
            "instant_seconds": list(evidence.get("instant_seconds") or []),
            "onset_seconds": list(evidence.get("onset_seconds") or []),
            "event_type": evidence.get("event_type", ""),
            "heatmap_url": evidence.get("heatmap_url") or "",
        }
    return config


def _id_pattern(route: str) -> str:
    """A route taking a study clip id, with "{id}" where the id goes."""
    return reverse(route, args=[0]).replace("/0/", "/{id}/")


class CategorySuggestView(RaterRequiredMixin, View):
    """Autocomplete over the study's taxonomy: ?q=text -> {results: [{id, name}]}."""

    def get(self, request: HttpRequest, study_id: int) -> JsonResponse:
        study = _rater_study(request, study_id)
        query = request.GET.get("q", "").strip()[:100]
        categories = (
            catalog.category_search(taxonomy=study.dataset.taxonomy, query=query, limit=CATEGORY_SUGGESTIONS)
            if query
            else []
        )
        return JsonResponse({"results": [{"id": c.pk, "name": c.name} for c in categories]})


# ---------------------------------------------------------------- researcher pages


class StudyListView(ResearcherRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        rows = []
        for study in selectors.studies_for_researcher(user=request.user):
            totals = selectors.study_progress(study=study)["totals"]
            rows.append({"study": study, "totals": totals, "percent": round(100 * totals["fraction_complete"], 1)})
        return render(request, "annotator/study_list.html", {"rows": rows})


class StudyCreateView(ResearcherRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "annotator/study_form.html", {"form": StudyCreateForm(user=request.user)})

    def post(self, request: HttpRequest) -> HttpResponse:
        # The API's serializer validates (one set of rules); the form only renders the fields.
        form = StudyCreateForm(request.POST, user=request.user)
        serializer = StudyCreateInputSerializer(data=request.POST, context={"user": request.user})
        if not serializer.is_valid():
            form.show_errors(serializer.errors)
            return render(request, "annotator/study_form.html", {"form": form}, status=400)
        try:
            study = services.study_create(owner=request.user, **serializer.validated_data)
        except ApplicationError as exc:
            form.show_errors({"non_field_errors": [exc.message]})
            return render(request, "annotator/study_form.html", {"form": form}, status=400)
        services.spectrogram_job_start(study=study)
        messages.success(request, f"Study '{study.name}' created with {study.study_clips.count()} clips.")
        return redirect("annotator:study-detail", study_id=study.pk)


class StudyDetailView(ResearcherRequiredMixin, View):
    def get(self, request: HttpRequest, study_id: int) -> HttpResponse:
        try:
            study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        except NotFoundError as exc:
            raise Http404(exc.message) from exc
        progress = selectors.study_progress(study=study)
        percent = round(100 * progress["totals"]["fraction_complete"], 1)
        standings = {row["rater_id"]: row for row in selectors.qualification_results(study=study)}
        work = {row["rater_id"]: row for row in progress["raters"]}
        context = {
            "study": study,
            "progress": progress,
            "percent": percent,
            "spectrogram_job": spectrogram_job_for_study(study=study),
            # Raters in the pool and removed ones, with their work and standing.
            "raters": [{**standing, "work": work.get(pk)} for pk, standing in standings.items()],
            "events": selectors.study_events(study=study)[:STUDY_PAGE_EVENTS],
            "events_url": reverse("annotator-api:study-events", args=[study.pk]),
        }
        return render(request, "annotator/study_detail.html", context)


# ---------------------------------------------------------------- clip media


class ClipMediaView(LoginRequiredMixin, View):
    """The clip's video file, with Range support, for raters it is assigned to and the owner."""

    def get(self, request: HttpRequest, study_clip_id: int) -> HttpResponse:
        study_clip = _study_clip(request, study_clip_id)
        try:
            path = clip_media_file(study_clip.clip)
        except MediaPathError as exc:
            raise Http404("This clip's media file is not available.") from exc
        return ranged_file_response(request, path)


class ClipSpectrogramView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, study_clip_id: int) -> JsonResponse:
        study_clip = _study_clip(request, study_clip_id)
        try:
            path = clip_media_file(study_clip.clip)
            document = spectrogram_for_clip(clip=study_clip.clip, media_path=path)
        except MediaPathError as exc:
            raise Http404("This clip's media file is not available.") from exc
        except SpectrogramError as exc:
            # The reason names the media file, which can name the clip in its dataset
            # (VGGSound's files are <youtube_id>_<start>.mp4): logged, not sent.
            logger.warning("spectrogram of study clip %s failed: %s", study_clip.pk, exc)
            return JsonResponse({"detail": "The sound picture could not be made for this clip."}, status=422)
        response = JsonResponse({key: value for key, value in document.items() if key != "source"})
        response["Cache-Control"] = "private, max-age=3600"
        return response


class ClipHeatmapView(LoginRequiredMixin, View):
    """The model's sound-localisation image, when the study shows evidence (or to its owner)."""

    def get(self, request: HttpRequest, study_clip_id: int) -> HttpResponse:
        study_clip = _study_clip(request, study_clip_id)
        if not study_clip.study.show_evidence and study_clip.study.owner_id != request.user.pk:
            raise Http404("This study shows no model evidence.")
        try:
            path = clip_heatmap_file(study_clip)
        except MediaPathError as exc:
            raise Http404("No heatmap for this clip.") from exc
        return ranged_file_response(request, path)
