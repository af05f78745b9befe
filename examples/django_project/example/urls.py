from django.urls import path

from . import views

urlpatterns = [
    path("profile", views.profile),
    path("archive", views.archive),
    path("feed", views.feed),
    path("search", views.search),
]
