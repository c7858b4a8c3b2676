"""The console's Awareness results page and its downloads, under /console/training/results/."""

from django.urls import path

from smishguard.training import results_views

app_name = "awareness"

urlpatterns = [
    path("", results_views.overview, name="results"),
    path("trend.csv", results_views.trend_csv, name="trend_csv"),
    path("xapi.jsonl", results_views.xapi_lines, name="xapi"),
]
