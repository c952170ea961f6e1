"""Who may read and send notifications (checked here, for pages and API alike)."""
from communes.models import Role

SENDER_ROLES = frozenset({
    Role.CHAIRMAN, Role.VICE_CHAIRMAN, Role.CLERK, Role.RADIO_OPERATOR, Role.COMMUNE_ADMIN,
})
