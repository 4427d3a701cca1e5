"""Catalogue routes, mounted by `config.urls` under `/api/<version>/` (namespace `api`)."""

from rest_framework.routers import DefaultRouter

from resources import views

router = DefaultRouter()
router.register("books", views.BookViewSet, basename="book")
router.register(
    r"books/(?P<book_pk>[0-9]+)/reviews", views.ReviewViewSet, basename="book-review"
)
router.register("authors", views.AuthorViewSet, basename="author")
router.register(
    r"authors/(?P<author_pk>[0-9]+)/books",
    views.AuthorBookViewSet,
    basename="author-book",
)
router.register("stats", views.CatalogueStatisticsViewSet, basename="stats")

urlpatterns = router.urls
