"""Issue 14, containment under real concurrency: many checks of the same employee at the same moment, on several
gunicorn workers, let exactly ``max_customers`` distinct customers through, never more (each check locks the
employee's containment row: PostgreSQL's row lock, SQLite's one writer).  A real server on its own data folder,
in SQLite and in production mode."""

from __future__ import annotations

import http.client
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from servers import Database, clean_env, django_eval, gunicorn, smishguard

POLICY = """
[gateway.containment]
max_customers = 5

[[gateway.rules]]
domain = "crm.example.com"
resources = ["^/customers/(?P<customer>[^/]+)"]
policy = "signed_in"
"""
CLIENTS = 16
CUSTOMERS = 32


def check(url: str, token: str, customer: int) -> tuple[int, str]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(
            "GET",
            "/api/authz/auth-request",
            headers={
                "Cookie": f"sg_session={token}",
                "X-Original-Method": "GET",
                "X-Original-URL": f"https://crm.example.com/customers/{customer}",
                "Connection": "close",
            },
        )
        response = conn.getresponse()
        return response.status, response.getheader("X-Smishguard-Reason") or ""
    finally:
        conn.close()


def test_simultaneous_checks_of_one_employee_let_no_more_than_the_threshold_through(tmp_path):
    config = tmp_path / "smishguard.toml"
    config.write_text(POLICY, encoding="utf-8")
    env = clean_env(tmp_path / "var", SMISHGUARD_CONFIG=str(config))
    smishguard(env, "migrate")
    smishguard(env, "employees", "add", "mallory@example.com", "--name", "Mallory")
    token = django_eval(
        env,
        "from smishguard.accounts import services, sessions\n"
        "print(sessions.create(services.get_employee('mallory@example.com'), request=None)[0])\n",
    ).strip()
    with gunicorn(env, workers=4, log_dir=tmp_path) as server:
        assert check(server.url, token, 0)[0] == 200  # the employee's containment row exists; one customer read
        start = threading.Barrier(CLIENTS)

        def one(customer: int) -> tuple[int, str]:
            if customer <= CLIENTS:
                start.wait(timeout=60)  # the first wave leaves together
            return check(server.url, token, customer)

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            answers = list(pool.map(one, range(1, CUSTOMERS + 1)))
    admitted = [a for a in answers if a[0] == 200]
    assert len(admitted) == 4, answers  # 5 in all with customer 0
    assert {a for a in answers if a[0] != 200} <= {(403, "bulk_read_contained"), (401, "signed_out")}
    assert (403, "bulk_read_contained") in answers
    with Database(env) as db:
        rows = db.execute("SELECT customer, decision, reason FROM gateway_accessrecord").fetchall()
        contained = db.execute(
            "SELECT contained_at FROM gateway_containment c JOIN accounts_employee e ON e.id = c.employee_id "
            "WHERE e.email = ?",
            ["mallory@example.com"],
        ).fetchone()
        events = db.execute("SELECT count(*) FROM audit_event WHERE action = ?", ["gateway:containment:contained"])
        (contained_events,) = events.fetchone()
    assert len({customer for customer, decision, _ in rows if decision == "allow"}) == 5
    assert sum(1 for _, decision, _ in rows if decision == "allow") == 5
    assert contained is not None
    assert contained[0] is not None
    assert contained_events == 1  # contained once, by the one check that crossed the line
