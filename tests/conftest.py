"""Every test process (and the `seen` processes tests start, which inherit the environment) shares
one data key, so that PostgreSQL tests can start (storage.crypto refuses plaintext there) and a
database written by one process is readable by another."""

import os

from cryptography.fernet import Fernet

os.environ.setdefault("SEEN_DATA_KEY", Fernet.generate_key().decode("ascii"))
