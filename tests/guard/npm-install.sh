#!/usr/bin/env bash
# Installs the guard test's npm packages (package.json, pinned by package-lock.json) into
# $COCO_BUILD/guard-npm, with npm's cache beside them. Once installed for this lock file it
# asks the registry nothing: later runs, and runs without a network, reuse the tree.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${COCO_BUILD:?}/guard-npm
mkdir -p "$dest"
if [ -d "$dest/node_modules/@bufbuild/cel" ] && cmp -s "$here/package-lock.json" "$dest/installed-lock.json"; then
    echo "guard-npm: installed for this package-lock.json"
    exit 0
fi
command -v npm >/dev/null || { echo "npm is missing: run scripts/dev.sh deps" >&2; exit 1; }
cp "$here/package.json" "$here/package-lock.json" "$dest/"
npm ci --prefix "$dest" --cache "$dest/npm-cache" --prefer-offline --no-audit --no-fund \
    --loglevel=error
cp "$here/package-lock.json" "$dest/installed-lock.json"
echo "guard-npm: installed $(node -p "require('$dest/node_modules/@bufbuild/cel/package.json').version" 2>/dev/null || echo '?')"
