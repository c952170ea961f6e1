"""URL converters: malformed codes never reach a view or a query (the resolver answers 404)."""
from django.urls import register_converter


class CommuneCode:
    """An official commune code: exactly five digits."""

    regex = "[0-9]{5}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ProvinceCode(CommuneCode):
    """An official province code: exactly two digits."""

    regex = "[0-9]{2}"


register_converter(CommuneCode, "commune_code")
register_converter(ProvinceCode, "province_code")
