"""The app's durable jobs are registered, so the sweeper and the worker find them."""
from jobs import registry
from jobs.services import schemas_with_due_jobs, sweep_all

from documents.models import ExchangeJob, ReminderJob


def test_jobs_are_registered_and_swept(communes):
    assert registry.get_model("documents.ExchangeJob") is ExchangeJob
    assert registry.get_model("documents.reminderjob") is ReminderJob
    schemas = [c.schema_name for c in communes.values()]
    assert schemas_with_due_jobs(schemas) == set()
    assert sweep_all()["schemas"] >= 3


def test_beat_task_is_a_celery_task():
    from documents.tasks import send_reminders

    assert send_reminders.name == "documents.send_reminders"
