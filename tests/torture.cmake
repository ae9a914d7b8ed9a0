# Allocation-failure tests of the request path (CONVENTIONS habit 9): tests/torture/torture.c
# fails the Nth allocation of each scenario for every N. It interposes malloc and friends, so
# it links the core library without cmocka. clang links its sanitizer runtime into the
# executable itself, where our malloc would replace the sanitizer's: with clang the test runs
# in plain builds only (gcc's shared libasan is interposed correctly, so the gcc ASan build of
# `scripts/dev.sh test` runs it under the sanitizers).
if(COCO_SANITIZE AND CMAKE_C_COMPILER_ID STREQUAL "Clang")
  return()
endif()
add_executable(torture ${CMAKE_SOURCE_DIR}/tests/torture/torture.c)
target_link_libraries(torture PRIVATE coco_core ${CMAKE_DL_LIBS})
add_test(NAME torture COMMAND torture ${CMAKE_SOURCE_DIR})
set_tests_properties(torture PROPERTIES ENVIRONMENT "${COCO_TEST_ENV}" TIMEOUT 900)
# Wrapped to tell where a failed allocation was made (engine.c, or the request's JSON parse).
target_link_options(torture PRIVATE -Wl,--wrap=engine_mutate -Wl,--wrap=json_prune_parse)
