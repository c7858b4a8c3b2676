"""Two processes hitting the rate-limit counters at once, for the tests that they are counted exactly (the
database counters' and Redis')."""

from __future__ import annotations

import subprocess
import sys

# One process: Django set up on its environment's store, ready, then (after "go" on stdin) COUNT hits.
_HAMMER = """
import django, os, sys
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'smishguard.settings')
django.setup()
from django.conf import settings
from django.core.cache import caches
cache = caches[settings.RATELIMIT_USE_CACHE]
cache.get('warm-up')  # open the connection before the start line
print('ready', flush=True)
sys.stdin.readline()
for _ in range(int(sys.argv[1])):
    if sys.argv[2] == 'hit_many':  # the sign-in path: an address's and an account's counter in one statement
        cache.hit_many({'hammered': 600, 'also-hammered': 600})
    elif not cache.add('hammered', 1, 600):  # what django-ratelimit's get_usage does
        cache.incr('hammered')
print('done', flush=True)
"""


def hammer_at_once(env: dict[str, str], how: str, count: int = 500) -> list[str]:
    """Start two processes on ``env``, let them go at the same moment, each making ``count`` hits ``how``
    ("add_incr": add then incr, as django-ratelimit; "hit_many": the sign-in path); each one's stderr."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _HAMMER, str(count), how],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    errors = []
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
        for worker in workers:  # both start at once
            worker.stdin.write("go\n")
            worker.stdin.flush()
        for worker in workers:
            out, err = worker.communicate(timeout=300)
            assert worker.returncode == 0, err
            assert out.strip() == "done"
            errors.append(err)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    return errors
