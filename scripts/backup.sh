#!/usr/bin/env bash
# Dump a PostgreSQL database (the portal's or CERES') to one file, PostgreSQL's custom format:
# what the nightly backup runs (docs/deploy.md, "Backups"). The file is complete or absent.
#
#   scripts/backup.sh postgres://user@host:5432/portail var/backups/portail-$(date +%F).dump
set -euo pipefail
url="${1:?usage: scripts/backup.sh <postgres-url> <file.dump>}"
out="${2:?usage: scripts/backup.sh <postgres-url> <file.dump>}"
mkdir -p "$(dirname "$out")"
# No owner, no grants: the dump restores under whichever role runs the restore.
pg_dump --format=custom --no-owner --no-privileges --file="$out.partial" "$url"
pg_restore --list "$out.partial" >/dev/null  # readable, or no backup at all
mv "$out.partial" "$out"
echo "Backup written: $out ($(du -h "$out" | cut -f1))"
