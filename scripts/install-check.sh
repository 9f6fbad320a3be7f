#!/usr/bin/env bash
# install-check.sh BIN: `make install` into a scratch DESTDIR, checked file by file, then
# `make uninstall`: nothing may be left. Prints what failed; exit 1 on any failure.
set -u
bin=$1
cd "$(dirname "$0")/.."
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
failed=0
fail() { echo "install-check: $*" >&2; failed=1; }
make --no-print-directory install BIN="$bin" DESTDIR="$dest" PREFIX=/usr/local >"$dest.log" 2>&1 || { cat "$dest.log"; rm -f "$dest.log"; exit 1; }
rm -f "$dest.log"
p=$dest/usr/local
for f in sbin/mssclamp lib/systemd/system/mssclamp.service lib/sysusers.d/mssclamp.conf share/man/man8/mssclamp.8 \
    share/man/man8/mssclamp.run.8 share/man/man8/mssclamp.status.8 share/man/man8/mssclamp.reload.8 share/man/man8/mssclamp.doctor.8 \
    share/bash-completion/completions/mssclamp share/zsh/site-functions/_mssclamp share/fish/vendor_completions.d/mssclamp.fish; do
    [ -s "$p/$f" ] || fail "missing $f"
done
[ -s "$dest/usr/local/etc/mssclamp.yaml" ] || fail "missing etc/mssclamp.yaml"
grep -q '^ExecStart=/usr/local/sbin/mssclamp run --config /usr/local/etc/mssclamp.yaml' "$p/lib/systemd/system/mssclamp.service" || fail "unit paths not rewritten"
grep -q '^ExecReload=/usr/local/sbin/mssclamp reload --pid \$MAINPID' "$p/lib/systemd/system/mssclamp.service" || fail "ExecReload not rewritten"
# man-db's own reader: every page names itself (whatis) and has a synopsis.
for page in "$p"/share/man/man8/*.8; do
    lexgrog "$page" >/dev/null 2>&1 || fail "lexgrog cannot read $(basename "$page")"
done
pages=$(ls "$p"/share/man/man8/ | wc -l)
make --no-print-directory uninstall DESTDIR="$dest" PREFIX=/usr/local >/dev/null 2>&1 || fail "make uninstall failed"
left=$(find "$dest" -type f | wc -l)
[ "$left" = 0 ] || { fail "left after uninstall: $left file(s)"; find "$dest" -type f >&2; }
[ $failed = 0 ] && echo "install-check: $pages man pages and every file installed; uninstall left none"
exit $failed
