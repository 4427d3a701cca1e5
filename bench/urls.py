"""The project's URLs plus the benchmark's floor and open twin of the book list."""

from django.urls import path

from bench import views
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("bench/floor/", views.floor),
    path(
        "bench/<str:version>/books/",
        views.OpenBookViewSet.as_view({"get": "list"}),
    ),
    *project_urlpatterns,
]
