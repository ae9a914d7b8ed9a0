#!/usr/bin/env bash
# House rules that a compiler does not check (CONVENTIONS habits 7 and 11): no unsafe libc
# calls, and every C source formatted by the checked-in .clang-format.
set -u
cd "${COCO_SRC:?}"
mapfile -t sources < <(find webhook tests bench -name '*.[ch]' -not -path '*/corpus/*' | sort)
failed=0
passed=0

banned=$(grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)[[:space:]]*\(' \
    "${sources[@]}" | grep -v '^[^:]*:[0-9]*:[[:space:]]*\*' || true)
if [ -n "$banned" ]; then
    printf 'FAIL banned calls:\n%s\n' "$banned"
    failed=$((failed + 1))
else
    echo "ok   no banned calls in ${#sources[@]} files"
    passed=$((passed + 1))
fi

if command -v clang-format >/dev/null; then
    unformatted=()
    for f in "${sources[@]}"; do
        clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
    done
    if [ ${#unformatted[@]} -gt 0 ]; then
        printf 'FAIL not clang-formatted (run clang-format -i): %s\n' "${unformatted[*]}"
        failed=$((failed + 1))
    else
        echo "ok   clang-format"
        passed=$((passed + 1))
    fi
else
    echo "FAIL clang-format is not installed"
    failed=$((failed + 1))
fi

# The project carries no paths of a build machine.
paths=$(git grep -nIE '/(work|farm|tmp/ceo)/' -- . ':!*.md' ':!tests/golden/cases' ':!tests/fuzz/corpus' 2>/dev/null | head -5 || true)
if [ -n "$paths" ]; then
    printf 'FAIL machine paths in tracked files:\n%s\n' "$paths"
    failed=$((failed + 1))
else
    echo "ok   no machine paths"
    passed=$((passed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
