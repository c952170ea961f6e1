"""The schools' pages for parents and citizens on the commune's host: the parent's view of their
children (``/my-children/…``) and online enrolment (``/school-enrolment/…``). Each part adds its
routes in its own block below, after its marker."""
from django.urls import path  # noqa: F401  (used by the blocks below)

app_name = "education_public"

urlpatterns = []

# --- parents: the contact book on a phone (education/parent_views.py) ---
from education import parent_views  # noqa: E402

urlpatterns += [
    path("my-children/", parent_views.my_children, name="my_children"),
    path("my-children/<int:pk>/", parent_views.child, name="child"),
]

# --- enrolment applications, citizen side (education/application_views.py) ---
from education import application_views  # noqa: E402

urlpatterns += [
    path("school-enrolment/", application_views.enrolment_home, name="enrolment"),
    path("school-enrolment/apply/", application_views.apply, name="application_apply"),
    path("school-enrolment/applications/", application_views.my_applications, name="my_applications"),
    path("school-enrolment/applications/<int:pk>/", application_views.my_application, name="my_application"),
    path("school-enrolment/applications/<int:pk>/sent/", application_views.sent, name="application_sent"),
    path("school-enrolment/applications/<int:pk>/withdraw/", application_views.withdraw,
         name="application_withdraw"),
    path("school-enrolment/applications/<int:pk>/papers/<int:doc>/", application_views.my_document,
         name="my_document"),
]

# --- fees: the parent's invoices and VietQR (education/fee_views.py) ---
from education import fee_views  # noqa: E402

urlpatterns += [
    path("my-children/invoices/", fee_views.my_invoices, name="my_invoices"),
    path("my-children/invoices/<str:code>/", fee_views.my_invoice, name="my_invoice"),
    path("my-children/invoices/<str:code>/vietqr.png", fee_views.my_invoice_qr, name="my_invoice_qr"),
    path("my-children/invoices/<str:code>/receipts/<int:pk>.pdf", fee_views.my_receipt, name="my_receipt"),
]
