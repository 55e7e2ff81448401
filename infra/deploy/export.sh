#!/usr/bin/env bash
# Writes the systemd units for every Procfile line into DIR (default: infra/deploy/systemd), with
# honcho's exporter and the templates beside this script. The units expect Vaern installed in a
# virtualenv at /opt/vaern/.venv, run as the user vaern, with its settings in /etc/vaern/vaern.env.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/systemd}"
mkdir -p "$out"
rm -f "$out"/*.service "$out"/*.target  # a line taken out of the Procfile takes its unit with it
exec honcho export --procfile "$here/../../Procfile" --env /dev/null --app vaern --user vaern \
    --app-root /opt/vaern --shell /bin/sh --template-dir "$here/templates" systemd "$out"
