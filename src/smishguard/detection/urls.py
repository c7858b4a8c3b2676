from django.urls import path

from smishguard.detection import views

app_name = "detection"

urlpatterns = [
    path("brands", views.brands, name="brands"),
    path("brands/new", views.brand_form, name="brand-add"),
    path("brands/<int:pk>/edit", views.brand_form, name="brand-edit"),
    path("brands/<int:pk>/delete", views.brand_delete, name="brand-delete"),
    path("brands/keywords", views.keyword_add, name="keyword-add"),
]
