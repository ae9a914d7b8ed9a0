#!/usr/bin/env bash
# House rules that a compiler does not check (CONVENTIONS habits 7 and 11): no unsafe libc
# calls, every C source formatted by the checked-in .clang-format, and includes that follow
# the layers of webhook/.
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

# Includes point downward: a file of webhook/LAYER/ includes only headers of its own layer or
# of a lower one (webhook/README.md). A quoted include that names no header of webhook/ fails
# too: every project header lives in a layer. formats/ and trust/ are two folders of one layer.
layers=(base formats+trust core server cli)
declare -A rank=() layer_of=()
for i in "${!layers[@]}"; do
    for folder in ${layers[$i]//+/ }; do
        rank[$folder]=$i
        for h in webhook/"$folder"/*.h; do
            [ -e "$h" ] && layer_of[$(basename "$h")]=$folder
        done
    done
done
upward=()
while IFS=: read -r file _ header; do
    own=${file#webhook/}
    own=${own%%/*}
    [ -n "${rank[$own]+x}" ] || continue
    header=${header#*\"}
    header=${header%%\"*}
    target=${layer_of[$header]:-}
    if [ -z "$target" ]; then
        upward+=("$file: #include \"$header\" (no such header in webhook/)")
    elif [ "${rank[$target]}" -gt "${rank[$own]}" ]; then
        upward+=("$file: #include \"$header\" ($own may not include $target)")
    fi
done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' webhook/*/*.[ch])
if [ ${#upward[@]} -gt 0 ]; then
    printf 'FAIL includes pointing upward (order: %s):\n' "${layers[*]}"
    printf '  %s\n' "${upward[@]}"
    failed=$((failed + 1))
else
    echo "ok   includes point downward (${layers[*]})"
    passed=$((passed + 1))
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
