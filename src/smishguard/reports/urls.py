from django.urls import path

from smishguard.reports import views

app_name = "reports"

urlpatterns = [
    path("tokens", views.api_tokens, name="tokens"),
    path("tokens/<int:pk>/revoke", views.api_token_revoke, name="token-revoke"),
]

urlpatterns += [
    path("reports", views.inbox, name="inbox"),
    path("reports/<int:pk>", views.report_detail, name="report"),
    path("reports/<int:pk>/attack", views.report_attack, name="report-attack"),
    path("campaigns", views.campaigns, name="campaigns"),
    path("campaigns/<int:pk>", views.campaign, name="campaign"),
    path("campaigns/<int:pk>/blocklist", views.campaign_blocklist, name="campaign-blocklist"),
    path("campaigns/<int:pk>/warn", views.campaign_warn, name="campaign-warn"),
    path("campaigns/<int:pk>/warning", views.campaign_warning, name="campaign-warning"),
    path("campaigns/<int:pk>/status", views.campaign_status, name="campaign-status"),
    path("campaigns/<int:pk>/stix", views.campaign_stix, name="campaign-stix"),
    path("blocklist", views.blocklist, name="blocklist"),
    path("blocklist/<int:pk>/remove", views.blocklist_remove, name="blocklist-remove"),
    path("blocklist/remove", views.blocklist_remove_domain, name="blocklist-remove-domain"),
]
