# The admission server (webhook/admission.c, server.c, metrics.c, log.c, reload.c, certstore.c,
# arena.c, cli_serve.c): unit tests, end-to-end tests of the real binary over TLS on loopback
# (tests/server/test_server.py, one CTest per group), and the AdmissionReview fuzz target.
coco_unit_test(test_server_units ${CMAKE_SOURCE_DIR}/tests/server/test_units.c)
coco_unit_test(test_json_nul ${CMAKE_SOURCE_DIR}/tests/unit/test_json_nul.c)
coco_fuzz_target(fuzz_admission ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_admission.c)

foreach(group cli admission http parallel flood tls reload shutdown)
  coco_script_test(server_${group} /usr/bin/python3
                   ${CMAKE_SOURCE_DIR}/tests/server/test_server.py ${group})
  set_tests_properties(server_${group} PROPERTIES TIMEOUT 300 LABELS server)
endforeach()
