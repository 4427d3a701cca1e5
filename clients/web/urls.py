"""Routes of the sample web client."""

from django.urls import path

from clients.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login", views.login, name="login"),
    path("callback", views.callback, name="callback"),
    path("logout", views.logout, name="logout"),
    path("books/", views.books, name="books"),
    path("books/<int:book_id>/", views.book, name="book"),
    path("books/<int:book_id>/review", views.review, name="review"),
    path("stats/", views.stats, name="stats"),
]
