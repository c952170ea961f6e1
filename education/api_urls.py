"""The schools' API of a commune (``/api/v1/education/…``): school staff for their own school,
parents for their own children. Supervising units read the published facts, never these. Each
part adds its routes in its own block below."""
from django.urls import path  # noqa: F401  (used by the blocks below)
from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = []

# --- structure ---
from education import structure_api  # noqa: E402

urlpatterns += [
    path("education/schools/", structure_api.SchoolListView.as_view(), name="education-schools"),
    path("education/schools/<int:pk>/classes/", structure_api.ClassListView.as_view(), name="education-classes"),
    path("education/classes/<int:pk>/students/", structure_api.ClassStudentsView.as_view(),
         name="education-class-students"),
    path("education/students/<int:pk>/", structure_api.StudentView.as_view(), name="education-student"),
    path("education/enrolments/<int:pk>/transfer-out/", structure_api.TransferOutView.as_view(),
         name="education-transfer-out"),
]

# --- assessment ---
from education import assessment_api  # noqa: E402

urlpatterns += [
    path("education/classes/<int:class_id>/marks/<int:subject_id>/<str:period>/", assessment_api.GridView.as_view(),
         name="education-marks-grid"),
    path("education/classes/<int:class_id>/results/<str:period>/", assessment_api.ResultsView.as_view(),
         name="education-results"),
    path("education/schools/<int:school_id>/locks/", assessment_api.LockView.as_view(), name="education-locks"),
]

# --- report cards ---
from education import report_api  # noqa: E402

urlpatterns += [
    path("education/report-jobs/", report_api.ReportJobsView.as_view(), name="api-education-report-jobs"),
    path("education/report-jobs/<int:pk>/", report_api.ReportJobView.as_view(), name="api-education-report-job"),
    path("education/report-jobs/<int:pk>/pdf/", report_api.ReportJobPdfView.as_view(),
         name="api-education-report-job-pdf"),
]

# --- attendance and timetable ---
from education import attendance_api  # noqa: E402

urlpatterns += [
    path("education/attendance/classes/<int:class_id>/days/<str:day>/", attendance_api.AttendanceDayView.as_view(),
         name="education-attendance-day"),
    path("education/attendance/classes/<int:class_id>/months/<str:month>/",
         attendance_api.AttendanceMonthView.as_view(), name="education-attendance-month"),
    path("education/timetable/classes/<int:class_id>/", attendance_api.ClassTimetableView.as_view(),
         name="education-timetable-class"),
    path("education/timetable/teachers/<int:staff_id>/", attendance_api.TeacherTimetableView.as_view(),
         name="education-timetable-teacher"),
    path("education/timetable/slots/", attendance_api.SlotsView.as_view(), name="education-timetable-slots"),
    path("education/timetable/slots/<int:pk>/", attendance_api.SlotView.as_view(), name="education-timetable-slot"),
]

# --- contact book and parents ---
from education import contact_api  # noqa: E402

urlpatterns += [
    path("education/classes/<int:class_id>/messages/", contact_api.ClassMessagesView.as_view(),
         name="education-class-messages"),
    path("education/my-children/", contact_api.MyChildrenView.as_view(), name="education-my-children"),
    path("education/my-children/<int:pk>/", contact_api.MyChildView.as_view(), name="education-my-child"),
]

# --- enrolment applications ---
from education import application_api  # noqa: E402

urlpatterns += [
    path("education/applications/mine/", application_api.MyApplicationsView.as_view(),
         name="education-my-applications"),
    path("education/applications/mine/<int:pk>/withdraw/", application_api.WithdrawView.as_view(),
         name="education-application-withdraw"),
    path("education/applications/schools/<int:school_id>/", application_api.SchoolApplicationsView.as_view(),
         name="education-school-applications"),
    path("education/applications/<int:pk>/", application_api.ApplicationView.as_view(),
         name="education-application"),
    path("education/applications/<int:pk>/decide/", application_api.DecideView.as_view(),
         name="education-application-decide"),
]

# --- fees ---
from education import fee_api  # noqa: E402

urlpatterns += [
    path("education/fees/bank-notification/", fee_api.BankNotificationView.as_view(),
         name="education-fees-bank-notification"),
    path("education/fees/schools/<int:pk>/items/", fee_api.FeeItemsView.as_view(), name="education-fee-items"),
    path("education/fees/schools/<int:pk>/invoices/", fee_api.InvoicesView.as_view(), name="education-fee-invoices"),
    path("education/fees/invoices/<str:code>/", fee_api.InvoiceView.as_view(), name="education-fee-invoice"),
    path("education/fees/my-invoices/", fee_api.MyInvoicesView.as_view(), name="education-fee-my-invoices"),
]

urlpatterns += router.urls
