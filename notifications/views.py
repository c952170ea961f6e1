"""Pages: notification list, compose form, detail with a progress bar polled by htmx."""
from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from communes.permissions import has_any_role
from notifications import selectors, services
from notifications.forms import ComposeForm
from notifications.models import Delivery, Notification
from notifications.permissions import SENDER_ROLES


def senders_only(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not has_any_role(request.user, SENDER_ROLES, getattr(request, "commune", None)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@senders_only
def notification_list(request):
    page = Paginator(selectors.notifications(), 30).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@senders_only
@require_http_methods(["GET", "POST"])
def compose(request):
    form = ComposeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notification = services.create_notification(
                channel=data["channel"], target=data["target"], message=data["message"],
                subject=data["subject"], recipients=services.split_recipients(data["recipients"]),
                village_id=data["village"], user=request.user,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The notification is queued for sending."))
            return redirect("notifications:detail", pk=notification.pk)
    return render(request, "notifications/compose.html", {"form": form}, status=400 if form.errors else 200)


@senders_only
def detail(request, pk):
    notification = get_object_or_404(Notification, pk=pk)
    return render(request, "notifications/detail.html", {
        "notification": notification, "deliveries": selectors.deliveries_of(notification),
    })


@senders_only
def progress(request, pk):
    """The progress partial; once the job is finished it no longer asks to be polled."""
    notification = get_object_or_404(Notification, pk=pk)
    response = render(request, "notifications/_progress.html", {"notification": notification})
    if notification.is_finished and request.headers.get("HX-Request"):
        # The page was opened while the job ran: reload it once so the delivery table is final.
        response["HX-Refresh"] = "true"
    return response


@senders_only
@require_http_methods(["GET", "POST"])
def send_again(request, pk, delivery_pk):
    """Confirm, then send an uncertain delivery again (as a new notification to that recipient)."""
    notification = get_object_or_404(Notification, pk=pk)
    delivery = get_object_or_404(Delivery, pk=delivery_pk, notification=notification)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            error = _("Tick the box to confirm that the message may reach this recipient twice.")
        else:
            try:
                again = services.send_again(delivery.pk, user=request.user)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, _("The message is queued to be sent again."))
                return redirect("notifications:detail", pk=again.pk)
    return render(request, "notifications/send_again.html", {
        "notification": notification, "delivery": delivery, "error": error,
    }, status=400 if error else 200)
