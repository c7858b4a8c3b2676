from django.urls import path

from smishguard.messaging import views

app_name = "messaging"

urlpatterns = [
    path("twilio/sms", views.inbound_sms, name="inbound"),
    path("twilio/status", views.status_callback, name="status"),
]
