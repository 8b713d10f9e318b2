from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.views import health, home

# /api/ paths answer the JSON error envelope, pages Django's own error pages.
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"

urlpatterns = [
    path("", home, name="home"),
    path("healthz", health, name="health"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("annotator.api_urls")),
    path("api/modelzoo/", include("modelzoo.api_urls")),
    path("api/evaluation/", include("evaluation.api_urls")),
    path("ml-backend/", include("modelzoo.ml_backend.urls")),  # Label Studio's contract, not the API
    path("", include("annotator.urls")),
    path("runs/", include("modelzoo.urls")),
    path("evaluation/", include("evaluation.urls")),
]
