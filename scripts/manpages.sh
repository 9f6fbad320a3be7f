#!/bin/sh
# manpages.sh BIN ARGUMENT-PARSER-CHECKOUT SCRATCH OUT: a man page per command (section 8),
# from swift-argument-parser's own description of them (its generate-manual tool, built
# alone from the checkout: the GenerateManual plugin would rebuild every product first),
# made to satisfy man-db and lintian (debian/fix-manpage). `make install` and the Debian
# package both call this, so their pages are the same.
set -e
bin=$1 checkout=$2 scratch=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
swift build --package-path "$checkout" --scratch-path "$scratch" -c release --product generate-manual >/dev/null
rm -rf "$out" && mkdir -p "$out"
"$scratch/release/generate-manual" "$bin" --multi-page --section 8 \
    --authors "the mssclamp developers" --date "${MANUAL_DATE:-$(date -u +%Y-%m-%d)}" --output-directory "$out"
rm -f "$out/mssclamp.help.8"
"$here/../debian/fix-manpage" "$out"/*.8
