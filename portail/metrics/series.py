"""The series this process counts. Under gunicorn, PROMETHEUS_MULTIPROC_DIR makes prometheus-client
keep them in files that the scrape adds up across workers (portail/metrics/gunicorn.py)."""

from prometheus_client import Counter, Histogram

REQUEST_SECONDS = Histogram(
    "portail_request_duration_seconds",
    "Time to answer a request, by view (route name) and method.",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS = Counter(
    "portail_requests",
    "Requests answered, by view, method and status class (2xx, 3xx, 4xx, 5xx).",
    ["view", "method", "status"],
)
LOGINS = Counter(
    "portail_logins",
    "Logins of people (portal) and agents (back-office): success, failure, throttled.",
    ["kind", "outcome"],
)
SECOND_FACTOR = Counter(
    "portail_second_factor",
    "Second-factor (TOTP) codes submitted by agents: success or failure.",
    ["outcome"],
)
ACCOUNT_SECOND_FACTOR = Counter(
    "portail_account_second_factor",
    "Second factors checked for portal accounts (login, step-up, removal), by factor (totp, "
    "recovery, passkey) and outcome (success, failure).",
    ["factor", "outcome"],
)
CODES_REDEEMED = Counter(
    "portail_activation_codes_redeemed",
    "Activation codes redeemed (a démarche activated with a code).",
)
CODES_REFUSED = Counter(
    "portail_activation_codes_refused",
    "Activation code entries refused (wrong or expired code, or blocked after too many tries).",
)
JOURNAL_EVENTS = Counter(
    "portail_journal_events",
    "Journal lines committed, by action (a fixed list: docs/accounts.md and the others).",
    ["action"],
)
