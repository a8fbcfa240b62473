"""Runs scim2-tester's discovery and misc checks against a live scim-api.

Usage: python check.py BASE_URL TOKEN [HOST]

scim2-tester's CRUD checks begin by creating a user, which a read-only (import-only)
service refuses by design, so only the checks that apply run here: discovery
(ServiceProviderConfig, Schemas, ResourceTypes) and misc. Exits 1 when any check ends
in ERROR or CRITICAL, printing every result.
"""

import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server
from scim2_tester.utils import Status

FAILED = {Status.ERROR, Status.CRITICAL, Status.DEVIATION}


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    base_url, token = sys.argv[1], sys.argv[2]
    headers = {"Authorization": f"Bearer {token}"}
    if len(sys.argv) == 4:
        headers["Host"] = sys.argv[3]
    client = SyncSCIMClient(httpx2.Client(base_url=base_url, headers=headers, timeout=10))
    results = check_server(client, include_tags={"discovery", "misc"})
    passed = failed = skipped = 0
    for result in results:
        if result.status == Status.SKIPPED:
            skipped += 1
            continue
        mark = "FAIL" if result.status in FAILED else "ok"
        print(f"{mark:4} {result.status.name:10} {result.title}: {result.reason or ''}")
        failed += result.status in FAILED
        passed += result.status not in FAILED
    print(f"scim2-tester: {passed} passed, {failed} failed, {skipped} skipped (write checks)")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
