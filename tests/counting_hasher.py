"""A password hasher for tests that counts the passwords it checks (the guess an attacker pays
for). Its hashes carry their own algorithm name, so only accounts made with it are counted."""

import threading

from portail.accounts.hashers import Argon2idHasher


class CountingHasher(Argon2idHasher):
    algorithm = "argon2counted"
    lock = threading.Lock()
    checks = 0

    def verify(self, password: str, encoded: str) -> bool:
        with CountingHasher.lock:
            CountingHasher.checks += 1
        return bool(super().verify(password, encoded))
