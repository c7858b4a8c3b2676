"""1,000 demo customers, made the same way on every run from a fixed seed (no data file)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

COUNT = 1000
FIRST_ID = 1001  # ids 1001..2000: four digits, so /customers/1 or /customers/0042 is simply "no such customer"

_FIRST = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Lars",
    "Maya",
    "Nils",
    "Olga",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Amir",
    "Bea",
    "Carlos",
    "Dina",
    "Emil",
    "Fatima",
    "Gio",
    "Hanna",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Marco",
    "Noor",
]
_LAST = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Silva",
    "Novak",
    "Haddad",
    "Kowalski",
    "Brennan",
    "Rossi",
    "Nakamura",
    "Petrov",
    "Achebe",
    "Larsen",
    "Dubois",
    "Fischer",
    "Costa",
    "Ibrahim",
    "Jensen",
    "Kaur",
    "Lopez",
    "Mensah",
    "Nguyen",
    "Olsen",
    "Park",
    "Quinto",
    "Reyes",
    "Sato",
    "Varga",
    "Weber",
]
_COMPANY_A = [
    "Blue",
    "North",
    "Quiet",
    "Bright",
    "Iron",
    "Silver",
    "Harbor",
    "Summit",
    "Pine",
    "Copper",
    "Lake",
    "Maple",
    "Cedar",
    "Granite",
    "Willow",
]
_COMPANY_B = [
    "Analytics",
    "Logistics",
    "Bakery",
    "Dental",
    "Studio",
    "Foods",
    "Robotics",
    "Travel",
    "Clinic",
    "Media",
    "Labs",
    "Textiles",
]
_CITIES = [
    "Lisbon",
    "Oslo",
    "Nairobi",
    "Osaka",
    "Denver",
    "Leeds",
    "Porto",
    "Accra",
    "Lyon",
    "Krakow",
    "Austin",
    "Dublin",
    "Turin",
    "Quito",
    "Tallinn",
    "Perth",
]
_PLANS = ("Starter", "Team", "Business", "Enterprise")
_NOTES = (
    "Asked about moving to annual billing.",
    "Prefers email over phone.",
    "Had a delivery delay in March; credited.",
    "Renewal due next quarter.",
    "Two admins on the account.",
    "Opened a ticket about the export format.",
    "",
)


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    company: str
    email: str
    phone: str
    city: str
    plan: str
    since: date
    balance_cents: int
    note: str

    @property
    def balance(self) -> str:
        sign = "-" if self.balance_cents < 0 else ""
        return f"{sign}${abs(self.balance_cents) / 100:,.2f}"


@cache
def all_customers() -> tuple[Customer, ...]:
    rng = random.Random(14)  # noqa: S311 - demo data, the same on every run
    people = []
    start = date(2016, 1, 4)
    for n in range(COUNT):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        company = f"{rng.choice(_COMPANY_A)} {rng.choice(_COMPANY_B)}"
        number = FIRST_ID + n
        people.append(
            Customer(
                id=str(number),
                name=f"{first} {last}",
                company=company,
                email=f"{first.lower()}.{last.lower()}{number % 97}@{company.split(maxsplit=1)[0].lower()}.example",
                phone=f"+1 555 01{n % 100:02d} {rng.randrange(1000, 10000)}",
                city=rng.choice(_CITIES),
                plan=rng.choice(_PLANS),
                since=start + timedelta(days=rng.randrange(0, 3650)),
                balance_cents=rng.randrange(-50_000, 250_000),
                note=rng.choice(_NOTES),
            )
        )
    return tuple(people)


@cache
def _by_id() -> dict[str, Customer]:
    return {c.id: c for c in all_customers()}


def get(customer_id: str) -> Customer | None:
    return _by_id().get(customer_id)


def page(number: int, size: int) -> tuple[Customer, ...]:
    """Customers of page ``number`` (from 1); empty past the end."""
    if number < 1:
        return ()
    return all_customers()[(number - 1) * size : number * size]


def pages(size: int) -> int:
    return -(-COUNT // size)
