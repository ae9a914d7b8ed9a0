# Cost regression (SPEC §3, linear cost): the largest objects the caps allow, through
# `mutate` and the real server, with bounds far above the measured cost.
coco_script_test(scale_cost /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/scale/test_scale.py)
set_tests_properties(scale_cost PROPERTIES TIMEOUT 1800 LABELS server
                     ENVIRONMENT "${COCO_TEST_ENV};COCO_SANITIZE=${COCO_SANITIZE}")
