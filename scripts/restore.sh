#!/usr/bin/env bash
# Restore a dump of scripts/backup.sh into a NEW database (never over an existing one), in one
# transaction: the database ends up complete or the script fails and leaves it empty.
#
#   scripts/restore.sh var/backups/portail-2026-12-01.dump postgres://user@host:5432/portail_restored
#
# Then point the application at it and check it (docs/deploy.md, "Backups"):
#   DATABASE_URL=<url> python manage.py migrate --check && python manage.py check --database default
set -euo pipefail
dump="${1:?usage: scripts/restore.sh <file.dump> <postgres-url-of-a-new-database>}"
url="${2:?usage: scripts/restore.sh <file.dump> <postgres-url-of-a-new-database>}"
name="${url##*/}"
name="${name%%\?*}"
server="${url%/*}"
if [[ ! "$name" =~ ^[A-Za-z0-9_]+$ ]]; then
  echo "Database name must be letters, digits and _: $name" >&2
  exit 2
fi
if [ -n "$(psql "$server/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
  echo "Database $name exists: restore into a new one (a restore never overwrites)" >&2
  exit 1
fi
psql "$server/postgres" -qc "CREATE DATABASE \"$name\""
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$url" "$dump"
psql "$url" -qc "ANALYZE"  # planner statistics are not in the dump
echo "Restored $dump into $name"
