#!/usr/bin/env bash
# README's first command ("Try it"), verbatim, on a copy of the working tree in a temporary
# directory, with a fresh virtual environment: it must install statusguard from the package
# registry's build tools, audit the bundled demo, show its findings and fixes, and exit 0.
#
#   bash tests/readme_first_command.sh        (needs python3 >= 3.11, pip and the registry; ~30-60 s)
#
# The command is read from README.md (the first ```sh block), so that the README cannot drift
# from what is tested.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/statusguard-readme.XXXXXX")"
trap 'rm -rf "$work"' EXIT

command="$(awk '/^```sh$/ { inside = 1; next } inside && /^```$/ { exit } inside { print }' "$root/README.md")"
if [ -z "$command" ] || [ "$(printf '%s\n' "$command" | wc -l)" -ne 1 ]; then
  echo "readme_first_command: expected one command in README.md's first sh block, got: $command" >&2
  exit 1
fi
case "$command" in
  *"statusguard audit"*) ;;
  *) echo "readme_first_command: README's first command no longer runs the demo audit: $command" >&2; exit 1 ;;
esac

# The tracked files plus new ones not ignored: what a clone would have, with local changes.
(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - --) | (cd "$work" && tar -xf -)

cd "$work"
export PIP_DISABLE_PIP_VERSION_CHECK=1
unset STATUSGUARD_MODE VIRTUAL_ENV PYTHONPATH
echo "== $command   (in $work)"
set +e
bash -c "$command" > audit.txt 2> audit.err
status=$?
set -e
if [ "$status" -ne 0 ]; then
  echo "readme_first_command: exit status $status, expected 0" >&2
  tail -n 30 audit.err >&2
  exit 1
fi

# pip's own output comes first on stdout: the report starts at its header.
sed -n '/^statusguard audit of/,$p' audit.txt > report.txt
fail() { echo "readme_first_command: $1" >&2; cat audit.txt >&2; exit 1; }
# It shows what it finds, route by route, and what statusguard's fixes make of it.
grep -q '^statusguard audit of statusguard.demo:app' report.txt || fail "no report header"
grep -q '^/admin (serves GET, HEAD): requires authentication' report.txt || fail "no /admin section"
grep -q '401-www-authenticate' report.txt || fail "the demo's 401 without a challenge is not reported"
grep -q '^    fixed   + WWW-Authenticate: Bearer realm="demo"' report.txt || fail "no fix shown"
grep -q '^How to fix:' report.txt || fail "no how-to-fix list"
grep -q 'statusguard audit yourpackage.module:app' report.txt || fail "no pointer to auditing one's own app"
width="$(awk '{ if (length($0) > max) max = length($0) } END { print max + 0 }' report.txt)"
[ "$width" -le 100 ] || fail "a line is $width columns wide (at most 100)"
# The installed package is the one from this tree, and the console script is on the venv's bin.
[ -x .venv/bin/statusguard ] || fail "no statusguard console script in the venv"
.venv/bin/python -c 'import statusguard, sys; sys.exit(0 if statusguard.__file__.startswith(sys.argv[1]) else 1)' \
  "$work/src" || fail "statusguard was not installed from this tree"
echo "readme_first_command: ok (a report of $(wc -l < report.txt) lines, at most $width columns)"
