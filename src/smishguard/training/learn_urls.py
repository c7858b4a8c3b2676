"""The employee's side of training: /learn/ (modules to take, a module, its quiz)."""

from __future__ import annotations

from django.urls import path

from smishguard.training import learn_views

app_name = "learn"
urlpatterns = [
    path("", learn_views.index, name="index"),
    path("<slug:slug>/", learn_views.module_page, name="module"),
    path("<slug:slug>/quiz", learn_views.quiz_page, name="quiz"),
    path("<slug:slug>/result/<int:attempt_id>", learn_views.result, name="result"),
]
