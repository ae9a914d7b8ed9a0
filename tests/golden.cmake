# Golden cases of the mutation engine through `coco-webhook mutate` (tests/golden/run.py).
coco_script_test(golden_mutate /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/golden/run.py)
# The same cases through the real server over TLS.
coco_script_test(golden_server /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/golden/run_server.py)
set_tests_properties(golden_server PROPERTIES TIMEOUT 300 LABELS server)
