# Allocation-failure tests of the request path (CONVENTIONS habit 9): tests/torture/torture.c
# fails the Nth allocation of each scenario for every N. It interposes malloc and friends, so
# it links the core library without cmocka.
add_executable(torture ${CMAKE_SOURCE_DIR}/tests/torture/torture.c)
target_link_libraries(torture PRIVATE coco_core ${CMAKE_DL_LIBS})
add_test(NAME torture COMMAND torture ${CMAKE_SOURCE_DIR})
set_tests_properties(torture PROPERTIES ENVIRONMENT "${COCO_TEST_ENV}" TIMEOUT 900)
# Wrapped to tell where a failed allocation was made (engine.c, or the request's JSON parse).
target_link_options(torture PRIVATE -Wl,--wrap=engine_mutate -Wl,--wrap=cJSON_ParseWithLengthOpts)
