"""Vietnamese formats: dates are dd/mm/yyyy, money is 1.234.000 đ.

Django's own ``vi`` locale ships no input formats, so without this module a form would read
"03/04/2026" as 4 March (the US default). Every date field in the portal reads day first.
"""
DATE_FORMAT = "d/m/Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "H:i d/m/Y"
YEAR_MONTH_FORMAT = "m/Y"
MONTH_DAY_FORMAT = "d/m"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "H:i d/m/Y"
FIRST_DAY_OF_WEEK = 1  # Monday

DATE_INPUT_FORMATS = [
    "%d/%m/%Y",  # '03/04/2026' is 3 April 2026
    "%d/%m/%y",  # '03/04/26'
    "%d-%m-%Y",  # '03-04-2026'
    "%d.%m.%Y",  # '03.04.2026'
    "%Y-%m-%d",  # ISO 8601 '2026-04-03'
]
TIME_INPUT_FORMATS = ["%H:%M", "%H:%M:%S", "%H giờ %M"]
DATETIME_INPUT_FORMATS = [
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%H:%M %d/%m/%Y",
    "%d/%m/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
]
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
