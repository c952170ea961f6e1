"""The schools' pages for their staff and the commune's leaders (``/schools/…`` on a commune
host). Each part of the app adds its routes in its own block below, after its marker."""
from django.urls import path

from education import views

app_name = "education"

urlpatterns = [
    path("", views.home, name="home"),
]

# --- structure: schools, years, classes, staff, students, imports (education/structure_views.py) ---
from education import structure_views as sv  # noqa: E402

urlpatterns += [
    path("year/", sv.year, name="year"),
    path("<int:school_id>/", sv.school, name="school"),
    path("<int:school_id>/without-phone/", sv.students_without_phone, name="students_without_phone"),
    path("<int:school_id>/classes/new/", sv.class_new, name="class_new"),
    path("<int:school_id>/staff/new/", sv.staff_new, name="staff_new"),
    path("staff/<int:pk>/", sv.staff_edit, name="staff_edit"),
    path("classes/<int:class_id>/", sv.class_detail, name="class"),
    path("classes/<int:class_id>/edit/", sv.class_edit, name="class_edit"),
    path("classes/<int:class_id>/assignments/", sv.assignments, name="assignments"),
    path("classes/<int:class_id>/add/", sv.student_add, name="student_add"),
    path("classes/<int:class_id>/import/", sv.import_start, name="import_start"),
    path("imports/<int:pk>/", sv.import_detail, name="import"),
    path("imports/<int:pk>/refused.xlsx", sv.import_errors, name="import_errors"),
    path("imports/template.xlsx", sv.import_template, name="import_template"),
    path("students/<int:pk>/", sv.student, name="student"),
    path("students/<int:pk>/guardians/new/", sv.guardian_new, name="guardian_new"),
    path("guardians/<int:pk>/", sv.guardian_edit, name="guardian_edit"),
    path("enrolments/<int:pk>/transfer-out/", sv.transfer_out, name="transfer_out"),
    path("enrolments/<int:pk>/move/", sv.move, name="move"),
    path("enrolments/<int:pk>/year-end/", sv.year_end, name="year_end"),
    path("classes/<int:class_id>/year-end/", sv.class_year_end, name="class_year_end"),
]

# --- assessment: marks grid, evaluations, locks, results (education/assessment_views.py) ---
from education import assessment_views as av  # noqa: E402

urlpatterns += [
    path("marks/", av.marks_index, name="marks_index"),
    path("classes/<int:class_id>/marks/", av.class_marks, name="class_marks"),
    path("classes/<int:class_id>/marks/<int:subject_id>/<str:period>/", av.grid, name="marks_grid"),
    path("classes/<int:class_id>/marks/<int:subject_id>/<str:period>/save/", av.grid_save, name="marks_save"),
    path("classes/<int:class_id>/evaluations/<str:period>/", av.evaluations, name="evaluations"),
    path("classes/<int:class_id>/evaluations/<str:period>/save/", av.evaluations_save, name="evaluations_save"),
    path("classes/<int:class_id>/results/<str:period>/", av.results, name="results"),
    path("<int:school_id>/locks/", av.locks, name="locks"),
]

# --- report cards (education/report_views.py) ---
from education import report_views  # noqa: E402

urlpatterns += [
    path("reports/", report_views.index, name="reports_index"),
    path("reports/classes/<int:class_id>/", report_views.class_reports, name="reports_class"),
    path("reports/jobs/<int:pk>/", report_views.job_page, name="reports_job"),
    path("reports/jobs/<int:pk>/poll/", report_views.job_poll, name="reports_poll"),
    path("reports/jobs/<int:pk>/pdf/", report_views.job_pdf, name="reports_pdf"),
    path("reports/jobs/<int:pk>/sign/", report_views.job_sign, name="reports_sign"),
    path("reports/students/<int:enrolment_id>/card.pdf", report_views.student_card, name="reports_student"),
]

# --- attendance and timetable (education/attendance_views.py, education/timetable_views.py) ---
from education import attendance_views, timetable_views  # noqa: E402

urlpatterns += [
    path("attendance/", attendance_views.attendance_index, name="attendance_index"),
    path("attendance/school/<int:school_id>/", attendance_views.attendance_school, name="attendance_school"),
    path("attendance/school/<int:school_id>/xlsx/", attendance_views.attendance_school_xlsx,
         name="attendance_school_xlsx"),
    path("classes/<int:class_id>/attendance/", attendance_views.attendance_today, name="attendance_today"),
    path("classes/<int:class_id>/attendance/month/", attendance_views.attendance_month, name="attendance_month"),
    path("classes/<int:class_id>/attendance/month/xlsx/", attendance_views.attendance_month_xlsx,
         name="attendance_month_xlsx"),
    path("classes/<int:class_id>/attendance/<str:day>/", attendance_views.attendance_day, name="attendance_day"),
    path("timetable/school/<int:school_id>/", timetable_views.timetables, name="timetables"),
    path("timetable/school/<int:school_id>/copy/", timetable_views.copy_timetable, name="timetable_copy"),
    path("timetable/teacher/<int:staff_id>/", timetable_views.teacher_timetable, name="teacher_timetable"),
    path("classes/<int:class_id>/timetable/", timetable_views.class_timetable, name="class_timetable"),
    path("classes/<int:class_id>/timetable/edit/", timetable_views.class_timetable_edit, name="class_timetable_edit"),
]

# --- contact book (education/contact_views.py) ---
from education import contact_views  # noqa: E402

urlpatterns += [
    path("messages/", contact_views.my_messages, name="my_messages"),
    path("classes/<int:class_id>/messages/", contact_views.class_messages, name="class_messages"),
    path("students/<int:student_id>/contact-book/", contact_views.student_contact_book, name="student_contact_book"),
]

# --- enrolment applications, staff side (education/application_views.py) ---
from education import application_views  # noqa: E402

urlpatterns += [
    path("applications/", application_views.staff_index, name="applications_index"),
    path("applications/school/<int:school_id>/", application_views.staff_school, name="applications_school"),
    path("applications/<int:pk>/", application_views.staff_detail, name="applications_detail"),
    path("applications/<int:pk>/papers/<int:doc>/", application_views.staff_document, name="applications_document"),
    path("applications/<int:pk>/<str:action>/", application_views.staff_action, name="applications_action"),
]

# --- fees (education/fee_views.py) ---
from education import fee_views  # noqa: E402

urlpatterns += [
    path("fees/", fee_views.fee_home, name="fee_home"),
    path("fees/<int:pk>/", fee_views.fee_school, name="fee_school"),
    path("fees/<int:pk>/issue/", fee_views.fee_issue, name="fee_issue"),
    path("fees/<int:pk>/arrears/", fee_views.fee_arrears, name="fee_arrears"),
    path("fees/<int:pk>/arrears.xlsx", fee_views.fee_arrears_xlsx, name="fee_arrears_xlsx"),
    path("fees/<int:pk>/notifications/", fee_views.fee_notifications, name="fee_notifications"),
    path("fees/items/<int:pk>/", fee_views.fee_item, name="fee_item"),
    path("fees/classes/<int:pk>/", fee_views.fee_class, name="fee_class"),
    path("fees/classes/<int:pk>/notices.pdf", fee_views.fee_class_notices, name="fee_class_notices"),
    path("fees/classes/<int:pk>/remind/", fee_views.fee_class_remind, name="fee_class_remind"),
    path("fees/invoices/<str:code>/", fee_views.fee_invoice, name="fee_invoice"),
    path("fees/invoices/<str:code>/cash/", fee_views.fee_invoice_cash, name="fee_invoice_cash"),
    path("fees/invoices/<str:code>/cancel/", fee_views.fee_invoice_cancel, name="fee_invoice_cancel"),
    path("fees/receipts/<int:pk>.pdf", fee_views.fee_receipt, name="fee_receipt"),
]

# --- figures (education/figure_views.py) ---
