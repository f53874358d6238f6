"""A patient shares a profile with a caregiver's account; the caregiver can then read it."""

from __future__ import annotations

from typing import Any


def _post(clinic: Any, who: str, path: str, body: dict[str, Any]) -> Any:
    headers = {"Accept": "application/json"} | clinic.csrf(who)
    return clinic.clients[who].post(path, json=body, headers=headers)


def test_patient_shares_with_a_caregiver(clinic: Any) -> None:
    pid = clinic.profile("patient", "share-test")
    path = f"/api/v1/profiles/{pid}"
    assert clinic.clients["other_patient"].get(path).status_code == 404
    answer = _post(clinic, "patient", f"{path}/share", {"username": "other_patient"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["shared_with"] == "other_patient"
    assert clinic.clients["other_patient"].get(path).status_code == 200
    # a caregiver may read and export, never change or re-share
    again = _post(clinic, "other_patient", f"{path}/share", {"username": "caregiver"})
    assert again.status_code == 403


def test_only_patient_accounts_can_be_caregivers(clinic: Any) -> None:
    pid = clinic.profile("patient", "share-test-2")
    answer = _post(clinic, "patient", f"/api/v1/profiles/{pid}/share", {"username": "nav_b"})
    assert answer.status_code == 422
    missing = _post(clinic, "patient", f"/api/v1/profiles/{pid}/share", {"username": "nobody"})
    assert missing.status_code == 422
