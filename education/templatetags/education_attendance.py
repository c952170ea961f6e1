"""The attendance part's piece for a class's page: ``{% load education_attendance %}{% attendance_panel
school_class %}`` shows the students flagged this month (``attendance.flags``) and the links to
the class's attendance (today's, for those who take it) and timetable, to the school's staff only."""
from django import template

from education import attendance, permissions

register = template.Library()


@register.inclusion_tag("education/attendance/_class_panel.html", takes_context=True)
def attendance_panel(context, school_class):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not permissions.can(user, "school.read", school_class.school_id):
        return {"shown": False}
    today = attendance.today()
    return {"shown": True, "school_class": school_class, "flags": attendance.flags(school_class, today),
            "today": today, "may_take": permissions.may_take_attendance(user, school_class)}
