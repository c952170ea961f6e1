from django.urls import path

from signatures import views

app_name = "signatures"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("image/", views.upload_image, name="upload-image"),
    path("import/", views.import_own, name="import-own"),
    path("sign/", views.sign_upload, name="sign"),
    path("grants/<int:pk>/pin/", views.change_pin, name="change-pin"),
    path("grants/<int:pk>/revoke/", views.revoke_grant, name="revoke-grant"),
    path("grants/<int:pk>/unlock/", views.unlock_grant, name="unlock-grant"),
    path("commune/", views.commune, name="commune"),
    path("commune/import/", views.import_certificate, name="import"),
    path("commune/remote/", views.register_remote, name="register-remote"),
    path("commune/seal/", views.upload_seal, name="upload-seal"),
    path("certificates/<int:pk>/", views.certificate_detail, name="certificate"),
    path("certificates/<int:pk>/deactivate/", views.deactivate, name="deactivate"),
    path("certificates/<int:pk>/grants/", views.add_grant, name="add-grant"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job-progress"),
    path("jobs/<int:pk>/download/", views.download, name="download"),
]
