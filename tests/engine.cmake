# The mutation engine: unit tests of its contract, and its fuzz target (corpus replayed).
coco_unit_test(test_engine ${CMAKE_SOURCE_DIR}/tests/unit/test_engine.c)
coco_fuzz_target(fuzz_engine ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_engine.c)
# SPEC §2.6 under three runtime profiles, and initdata values as kata reads them.
coco_fuzz_target(fuzz_preflight ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_preflight.c)
coco_unit_test(test_strmap ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_strmap.c)
coco_unit_test(test_base ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_base.c)
