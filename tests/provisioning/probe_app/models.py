from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone


class ProbeCategory(models.Model):
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100, db_comment="Name shown to people")
    rank = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        db_table_comment = "Probe categories"
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=Q(active=True), name="probe_category_active_code"),
            models.CheckConstraint(condition=Q(rank__lte=1000), name="probe_category_rank_max"),
        ]
        indexes = [models.Index(Lower("name"), name="probe_category_lower_name")]


class ProbeItem(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        DONE = "done", "done"

    category = models.ForeignKey(ProbeCategory, on_delete=models.CASCADE, related_name="items")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created = models.DateTimeField(default=timezone.now)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    counter = models.IntegerField(db_default=5)
    total = models.GeneratedField(expression=F("counter") * 2, output_field=models.IntegerField(), db_persist=True)
    data = models.JSONField(default=dict)
    slug = models.SlugField(unique=True)
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["draft", "done"]), name="probe_item_status_valid"),
            models.UniqueConstraint(fields=["category", "owner"], name="probe_item_unique_owner"),
        ]
        indexes = [models.Index(fields=["status", "-created"], name="probe_item_status_created")]
