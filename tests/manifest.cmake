# Manifest reading and writing (webhook/formats/manifest*.c): unit tests of errors and limits, the
# sigs.k8s.io/yaml oracle compared with our reader on the scalar table and the samples,
# round trips through our writers, and a fuzz target (read, write YAML, read again).
coco_unit_test(test_manifest ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_manifest.c)
coco_fuzz_target(fuzz_manifest ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_manifest.c)
# The scalar grammars under it (jsonnum, yaml11, gonum), each checked against itself.
coco_fuzz_target(fuzz_scalars ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_scalars.c)

# Our reader as a command: each document as compact JSON per line, or written back.
add_executable(manifest-to-json ${CMAKE_CURRENT_SOURCE_DIR}/tools/manifest-to-json.c)
target_link_libraries(manifest-to-json PRIVATE coco_core)

# The oracle: sigs.k8s.io/yaml (go-yaml v2), the conversion kubectl uses, from Debian's
# golang-k8s-sigs-yaml-dev, built offline in GOPATH mode. Others call it at
# ${CMAKE_BINARY_DIR}/oracle/yaml2json; interface in tests/oracle/yaml2json/main.go.
find_program(COCO_GO go REQUIRED)
set(COCO_GOPATH /usr/share/gocode CACHE PATH "GOPATH holding Debian's Go library sources")
set(COCO_YAML2JSON_ORACLE ${CMAKE_BINARY_DIR}/oracle/yaml2json)
add_custom_command(
  OUTPUT ${COCO_YAML2JSON_ORACLE}
  COMMAND ${CMAKE_COMMAND} -E env GO111MODULE=off GOPATH=${COCO_GOPATH}
          GOCACHE=${CMAKE_BINARY_DIR}/gocache GOFLAGS= GOPROXY=off GOENV=off CGO_ENABLED=0
          ${COCO_GO} build -trimpath -o ${COCO_YAML2JSON_ORACLE}
          ${CMAKE_CURRENT_SOURCE_DIR}/oracle/yaml2json/main.go
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/oracle/yaml2json/main.go
  COMMENT "Building the YAML oracle (sigs.k8s.io/yaml)"
  VERBATIM)
add_custom_target(oracle_yaml2json ALL DEPENDS ${COCO_YAML2JSON_ORACLE})

# The data-driven comparisons with the oracle (cases under tests/manifest/, see check.py).
coco_script_test(manifest_oracle /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/manifest/check.py
                 oracle $<TARGET_FILE:manifest-to-json> ${COCO_YAML2JSON_ORACLE})
coco_script_test(manifest_roundtrip /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/manifest/check.py
                 roundtrip $<TARGET_FILE:manifest-to-json> ${COCO_YAML2JSON_ORACLE})
