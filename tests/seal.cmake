# Sealed secrets (`coco-webhook seal`): drivers under tests/seal/ run the command and check
# its output with independent tools (python3-jwcrypto, openssl, python3-jsonschema and
# python3-yaml from Debian, hence the system interpreter); the fuzz target covers the
# parsers of untrusted input (sealed strings, JWKs, resource URIs).
foreach(driver unsigned signed manifest bad_input)
  coco_script_test(seal_${driver} /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/seal/${driver}.py)
endforeach()
coco_fuzz_target(fuzz_seal_inspect ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_seal_inspect.c)
