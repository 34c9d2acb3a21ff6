"""Schemathesis hooks for test/fuzz/openapi-fuzz.test.ts.

- Path parameters name a seeded record about half the time (FUZZ_RECORDS, JSON: parameter name -> IDs), so
  the run reaches handlers and workflows instead of testing 404s only.
- Every request's outcome is appended to FUZZ_LOG as one JSON line: the test counts requests, 5xx and hangs
  from it, whatever schemathesis itself reports.
"""

import json
import os
import threading

import schemathesis
from hypothesis import strategies as st

RECORDS = json.loads(os.environ.get("FUZZ_RECORDS", "{}"))
LOG = os.environ["FUZZ_LOG"]
_lock = threading.Lock()


def _write(entry):
    line = json.dumps(entry) + "\n"
    with _lock, open(LOG, "a", encoding="utf-8") as log:
        log.write(line)


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    choices = {}
    for name, value in path_parameters.items():
        known = RECORDS.get(name)
        choices[name] = st.one_of(st.just(value), st.sampled_from(known)) if known else st.just(value)
    return st.fixed_dictionaries(choices)


def _label(case):
    return case.operation.label


def _phase(case):
    phase = getattr(getattr(case, "meta", None), "phase", None)
    name = getattr(phase, "name", None)
    return getattr(name, "value", name)


def _known(case):
    parameters = case.path_parameters or {}
    return any(value in RECORDS.get(name, []) for name, value in parameters.items())


@schemathesis.hook
def after_call(context, case, response):
    entry = {"operation": _label(case), "phase": _phase(case), "method": case.method, "status": response.status_code, "seconds": response.elapsed, "knownRecord": _known(case)}
    if response.status_code >= 500:
        # Enough to replay it by hand: the request as sent and what the API answered.
        request = response.request
        entry.update({"request": f"{request.method} {request.url}", "body": _body(request), "answer": response.text_lossy()[:500]})
    _write(entry)


@schemathesis.hook
def after_network_error(context, case, request):
    # A timeout or a dropped connection: the request got no answer in time, which the test counts as a hang.
    _write({"operation": _label(case), "status": None, "hang": True, "request": f"{request.method} {request.url}", "body": _body(request)})


def _body(request):
    body = request.body
    if body is None:
        return None
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return body[:2000]
