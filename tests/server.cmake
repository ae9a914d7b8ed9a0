# The admission server (webhook/core/admission.c, server/*.c, base/log.c,
# arena.c, cli_serve.c): unit tests, end-to-end tests of the real binary over TLS on loopback
# (tests/server/test_server.py, one CTest per group), and the AdmissionReview fuzz target.
coco_unit_test(test_server_units ${CMAKE_SOURCE_DIR}/tests/server/test_units.c)
coco_unit_test(test_json_nul ${CMAKE_SOURCE_DIR}/tests/unit/test_json_nul.c)
coco_fuzz_target(fuzz_admission ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_admission.c)
coco_fuzz_target(fuzz_json_text ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_json_text.c)
coco_unit_test(test_json_prune ${CMAKE_SOURCE_DIR}/tests/unit/test_json_prune.c)
target_compile_definitions(test_json_prune PRIVATE COCO_SRCDIR="${CMAKE_SOURCE_DIR}")
coco_fuzz_target(fuzz_json_prune ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_json_prune.c)

foreach(group cli admission http budget parallel flood tls testssl reload shutdown)
  coco_script_test(server_${group} /usr/bin/python3
                   ${CMAKE_SOURCE_DIR}/tests/server/test_server.py ${group})
  set_tests_properties(server_${group} PROPERTIES TIMEOUT 300 LABELS server)
endforeach()
# Debian's testssl.sh takes a few minutes (it runs hundreds of handshakes from a shell script).
set_tests_properties(server_testssl PROPERTIES TIMEOUT 1200)

# Hostile and valid reviews from several client processes over keep-alive TLS
# (tests/server/test_storm.py). Answers within 2 s; sanitizer builds run several times slower.
coco_script_test(server_storm /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/server/test_storm.py)
set_tests_properties(server_storm PROPERTIES TIMEOUT 900 LABELS server)
if(COCO_SANITIZE)
  set_property(TEST server_storm APPEND PROPERTY ENVIRONMENT COCO_STORM_BOUND_S=6)
  # AddressSanitizer's shadow memory and quarantine are not the server's: no RSS bound there.
  set_property(TEST server_budget APPEND PROPERTY ENVIRONMENT COCO_SANITIZED=1)
endif()

# Rolling replacements under load (tests/server/test_rollout.py), driven by a client that
# calls the webhook as the API server does: Go's net/http (apiclient/main.go, standard
# library only, built offline).
find_program(COCO_GO go REQUIRED)
set(COCO_GOPATH /usr/share/gocode CACHE PATH "GOPATH holding Debian's Go library sources")
set(COCO_APICLIENT ${CMAKE_BINARY_DIR}/tools/apiclient)
add_custom_command(
  OUTPUT ${COCO_APICLIENT}
  COMMAND ${CMAKE_COMMAND} -E env GO111MODULE=off GOPATH=${COCO_GOPATH}
          GOCACHE=${CMAKE_BINARY_DIR}/gocache GOFLAGS= GOPROXY=off GOENV=off CGO_ENABLED=0
          ${COCO_GO} build -trimpath -o ${COCO_APICLIENT}
          ${CMAKE_CURRENT_SOURCE_DIR}/server/apiclient/main.go
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/server/apiclient/main.go
  COMMENT "Building the API-server-like test client (Go net/http)"
  VERBATIM)
add_custom_target(apiclient ALL DEPENDS ${COCO_APICLIENT})
coco_script_test(server_rollout /usr/bin/python3
                 ${CMAKE_SOURCE_DIR}/tests/server/test_rollout.py rollout ${COCO_APICLIENT})
set_tests_properties(server_rollout PROPERTIES TIMEOUT 300 LABELS server)
