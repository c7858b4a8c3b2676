"""A session revoked from the command line is refused by every gunicorn worker on the very next request."""

import http.client
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from servers import clean_env, django_eval, gunicorn, smishguard

pytestmark = pytest.mark.integration


def get_me(url: str, token: str) -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", "/api/me", headers={"Cookie": f"sg_session={token}", "Connection": "close"})
        return conn.getresponse().status
    finally:
        conn.close()


def workers_answering(server, status: int, since: int) -> set[str]:
    pids = set()
    for line in server.access_lines()[since:]:
        pid, code, _method, path = line.split()
        if path == "/api/me" and int(code) == status:
            pids.add(pid)
    return pids


def test_cli_revocation_reaches_every_worker(tmp_path):
    env = clean_env(tmp_path / "var")
    smishguard(env, "migrate")
    smishguard(env, "employees", "add", "ann@example.com", "--name", "Ann")
    smishguard(env, "employees", "add", "bob@example.com", "--name", "Bob")
    make = (
        "from smishguard.accounts import services, sessions\n"
        "for email in ('ann@example.com', 'bob@example.com'):\n"
        "    print(sessions.create(services.get_employee(email), request=None)[0])\n"
    )
    ann_token, bob_token = django_eval(env, make).split()
    with gunicorn(env, workers=2, log_dir=tmp_path) as server, ThreadPoolExecutor(max_workers=6) as pool:

        def burst(token: str, n: int) -> list[int]:
            # Concurrent requests keep one worker busy, so the other one has to accept some of them.
            return list(pool.map(lambda _: get_me(server.url, token), range(n)))

        # Until both workers have served Ann's session, keep asking.
        for _ in range(50):
            assert set(burst(ann_token, 12)) == {200}
            if len(workers_answering(server, 200, 0)) >= 2:
                break
        assert len(workers_answering(server, 200, 0)) == 2, "both workers should have served the session"
        mark = len(server.access_lines())

        result = smishguard(env, "sessions", "revoke", "--user", "ann@example.com")
        assert "revoked 1 session(s)" in result.stdout

        # The very next request is refused...
        assert get_me(server.url, ann_token) == 401
        # ...and so is every one after it, whichever worker takes it.
        for _ in range(50):
            assert set(burst(ann_token, 12)) == {401}
            if len(workers_answering(server, 401, mark)) >= 2:
                break
        assert len(workers_answering(server, 401, mark)) == 2
        # Bob's session, not revoked, still works.
        assert get_me(server.url, bob_token) == 200
