"""Persistence of user data: saved patient profiles (``store.profiles``)."""
