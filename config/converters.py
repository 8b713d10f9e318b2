"""Path converters shared by every app's routes; importing this module registers them
(each urls module does, so it works whichever is loaded first)."""

from django.urls import register_converter

# The largest value a BigAutoField (PostgreSQL bigint) holds: an id past it cannot exist,
# and sending it to the database would fail there ("integer out of range") as a 500.
MAX_ID = 2**63 - 1


class IdConverter:
    """A database id: ASCII digits only (Django's `int` takes no other), at most MAX_ID.
    A larger number matches no route, so it answers 404 like any id that does not exist."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError(f"{value} is larger than any id")  # Django reads this as "no match"
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
