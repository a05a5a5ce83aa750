#!/usr/bin/env python3
"""Export the collected corrections as a dataset: an .npz (backend/recognition/corrections.py) and its SHA-256.

    ADMIN_TOKEN=... python scripts/export_feedback.py --url http://127.0.0.1:8000 --out feedback.npz
    python scripts/export_feedback.py --out feedback.npz      # straight from the database: DATA_DIR / DATABASE_URL

From a server it pages through the admin route GET /feedback/rows (the token from $ADMIN_TOKEN); without
--url it reads the database the service's settings name. Prints the number of rows and the digest.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from backend.recognition.corrections import from_rows, save_corrections
from backend.service.feedback.store import FeedbackStore, database_url_for
from backend.service.settings import Settings

PAGE = 1000


def rows_from_server(url: str, token: str) -> list[dict]:
    rows: list[dict] = []
    while True:
        after = rows[-1]["id"] if rows else 0
        request = urllib.request.Request(
            f"{url.rstrip('/')}/feedback/rows?after_id={after}&limit={PAGE}", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            page = json.load(response)["rows"]
        rows.extend(page)
        if len(page) < PAGE:
            return rows


def rows_from_database(settings: Settings) -> list[dict]:
    store = FeedbackStore(database_url_for(settings.data_dir, settings.database_url.get_secret_value()))
    rows: list[dict] = []
    try:
        while page := store.rows(after_id=rows[-1]["id"] if rows else 0, limit=PAGE):
            rows.extend(row.as_dict() for row in page)
    finally:
        store.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="the .npz to write (its digest goes to OUT.sha256)")
    p.add_argument("--url", help="a running server to export from (needs $ADMIN_TOKEN); default: the database itself")
    args = p.parse_args(argv)
    if args.url:
        token = os.environ.get("ADMIN_TOKEN", "")
        if not token:
            p.error("--url needs the server's admin token in $ADMIN_TOKEN")
        try:
            rows = rows_from_server(args.url, token)
        except urllib.error.HTTPError as err:
            print(f"the server refused: HTTP {err.code} {err.read().decode(errors='replace')}", file=sys.stderr)
            return 1
    else:
        rows = rows_from_database(Settings.from_env())
    sha256 = save_corrections(args.out, from_rows(rows))
    print(json.dumps({"rows": len(rows), "out": str(args.out), "sha256": sha256}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
