# The config file reader (webhook/core/config*.c, SPEC §5): unit tests, the data-driven cases of
# tests/config/ (run by test_config: errors with their messages, good files with every value they
# set), and a fuzz target whose corpus is replayed.
coco_unit_test(test_config ${CMAKE_SOURCE_DIR}/tests/unit/test_config.c)
# The runtime profiles (webhook/core/runtime_profile.c): every row of its tables.
coco_unit_test(test_runtime_profile ${CMAKE_SOURCE_DIR}/tests/unit/test_runtime_profile.c)
coco_fuzz_target(fuzz_config ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_config.c)
