"""Errors a job (or a gateway it calls) raises to tell the runner what to do next."""


class JobError(Exception):
    """Base class."""


class RetryableError(JobError):
    """A passing failure (timeout, 5xx, connection refused): retry later with a backoff."""


class PermanentError(JobError):
    """Retrying cannot help (bad input, 4xx): the job fails now."""


class LeaseLost(JobError):
    """Another worker took over this job: stop without committing anything."""


class WaitRequested(JobError):
    """Raised by ``ctx.wait``: park the job until ``resume`` or ``until``."""

    def __init__(self, reason: str, until=None):
        super().__init__(reason)
        self.reason = reason
        self.until = until
