from django.urls import path

from documents import registers, views

app_name = "documents"

urlpatterns = [
    path("", views.home, name="home"),
    path("notices/read/", views.notices_read, name="notices-read"),
    path("incoming/", views.incoming_list, name="incoming-list"),
    path("incoming/new/", views.incoming_create, name="incoming-create"),
    path("incoming/<int:pk>/", views.incoming_detail, name="incoming-detail"),
    path("incoming/<int:pk>/edit/", views.incoming_edit, name="incoming-edit"),
    path("incoming/<int:pk>/scan.pdf", views.incoming_file, name="incoming-file"),
    path("incoming/<int:pk>/attachments/<int:attachment_pk>/", views.incoming_attachment, name="incoming-attachment"),
    path("incoming/<int:pk>/<slug:action>/", views.incoming_action, name="incoming-action"),
    path("outgoing/", views.outgoing_list, name="outgoing-list"),
    path("outgoing/new/", views.outgoing_create, name="outgoing-create"),
    path("outgoing/<int:pk>/", views.outgoing_detail, name="outgoing-detail"),
    path("outgoing/<int:pk>/edit/", views.outgoing_edit, name="outgoing-edit"),
    path("outgoing/<int:pk>/preview.pdf", views.outgoing_preview, name="outgoing-preview"),
    path("outgoing/<int:pk>/files/<slug:kind>.pdf", views.outgoing_file, name="outgoing-file"),
    path("outgoing/<int:pk>/attachments/<int:attachment_pk>/", views.outgoing_attachment, name="outgoing-attachment"),
    path("outgoing/<int:pk>/attachments/<int:attachment_pk>/remove/", views.outgoing_attachment_remove,
         name="outgoing-attachment-remove"),
    path("outgoing/<int:pk>/progress/", views.outgoing_progress, name="outgoing-progress"),
    path("outgoing/<int:pk>/<slug:action>/", views.outgoing_action, name="outgoing-action"),
    path("statistics/", views.statistics_page, name="statistics"),
    path("statistics.xlsx", views.statistics_xlsx, name="statistics-xlsx"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/authorities/new/", views.authority_create, name="authority-create"),
    path("settings/authorities/<int:pk>/end/", views.authority_end, name="authority-end"),
]
for kind in registers.KINDS:
    urlpatterns += [
        path(f"registers/{kind}/", views.register_view(kind), name=f"register-{kind}"),
        path(f"registers/{kind}.pdf", views.register_view(kind, "pdf"), name=f"register-{kind}-pdf"),
        path(f"registers/{kind}.xlsx", views.register_view(kind, "xlsx"), name=f"register-{kind}-xlsx"),
    ]
