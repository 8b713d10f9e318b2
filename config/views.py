from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from annotator.roles import user_is_researcher


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Researchers land on their studies, raters on their queue."""
    return redirect("/studies/" if user_is_researcher(request.user) else "/rate/")


def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
