# The admission server (webhook/core/admission.c, server/*.c, base/log.c,
# arena.c, cli_serve.c): unit tests, end-to-end tests of the real binary over TLS on loopback
# (tests/server/test_server.py, one CTest per group), and the AdmissionReview fuzz target.
coco_unit_test(test_server_units ${CMAKE_SOURCE_DIR}/tests/server/test_units.c)
coco_unit_test(test_json_nul ${CMAKE_SOURCE_DIR}/tests/unit/test_json_nul.c)
coco_fuzz_target(fuzz_admission ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_admission.c)

foreach(group cli admission http parallel flood tls testssl reload shutdown)
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
endif()
