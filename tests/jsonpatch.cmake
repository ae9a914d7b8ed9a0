# JSON Patch (webhook/formats/jsonpatch.c): conformance and unit tests, the evanphx/json-patch oracle,
# a cross-check of the two appliers, and a fuzz target.

coco_unit_test(test_jsonpatch ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_jsonpatch.c)

coco_fuzz_target(fuzz_jsonpatch ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_jsonpatch.c)

# Our applier as a command, for the cross-check.
add_executable(jsonpatch-apply-c ${CMAKE_CURRENT_SOURCE_DIR}/tools/jsonpatch-apply-c.c)
target_link_libraries(jsonpatch-apply-c PRIVATE coco_core)

# The oracle: evanphx/json-patch, the library the API server applies webhook patches with,
# from Debian's golang-github-evanphx-json-patch-dev, built offline in GOPATH mode.
# Interface: oracle/jsonpatch-apply DOC.json PATCH.json (see its main.go).
find_program(COCO_GO go REQUIRED)
set(COCO_GOPATH /usr/share/gocode CACHE PATH "GOPATH holding Debian's Go library sources")
set(COCO_JSONPATCH_ORACLE ${CMAKE_BINARY_DIR}/oracle/jsonpatch-apply)
add_custom_command(
  OUTPUT ${COCO_JSONPATCH_ORACLE}
  COMMAND ${CMAKE_COMMAND} -E env GO111MODULE=off GOPATH=${COCO_GOPATH}
          GOCACHE=${CMAKE_BINARY_DIR}/gocache GOFLAGS= GOPROXY=off GOENV=off CGO_ENABLED=0
          ${COCO_GO} build -trimpath -o ${COCO_JSONPATCH_ORACLE}
          ${CMAKE_CURRENT_SOURCE_DIR}/oracle/jsonpatch-apply/main.go
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/oracle/jsonpatch-apply/main.go
  COMMENT "Building the JSON Patch oracle (evanphx/json-patch)"
  VERBATIM)
add_custom_target(oracle_jsonpatch_apply ALL DEPENDS ${COCO_JSONPATCH_ORACLE})

# Both appliers on every conformance case: they must agree, except for the differences of
# evanphx/json-patch listed (with reasons) in the script.
coco_script_test(jsonpatch_oracle_crosscheck /usr/bin/python3
                 ${CMAKE_CURRENT_SOURCE_DIR}/tools/jsonpatch-crosscheck.py
                 $<TARGET_FILE:jsonpatch-apply-c> ${COCO_JSONPATCH_ORACLE})
