# The guard (webhook/core/guard.c, `coco-webhook guard`, manifests/components/guard): its
# policy evaluated by an independent CEL implementation (tests/guard/guard_test.mjs, on
# Node.js with @bufbuild/cel, installed into the build tree by tests/guard/npm-install.sh),
# and its manifests against the Kubernetes v1.33 schemas and every overlay
# (tests/install/guard_test.py).
add_executable(cel-quote ${CMAKE_CURRENT_SOURCE_DIR}/tools/cel-quote.c)
target_link_libraries(cel-quote PRIVATE coco_core)

coco_script_test(guard_npm bash ${CMAKE_CURRENT_SOURCE_DIR}/guard/npm-install.sh)
set_tests_properties(guard_npm PROPERTIES FIXTURES_SETUP guard_npm LABELS guard TIMEOUT 600)
coco_script_test(guard_cel node ${CMAKE_CURRENT_SOURCE_DIR}/guard/guard_test.mjs
                 $<TARGET_FILE:cel-quote>)
set_tests_properties(guard_cel PROPERTIES FIXTURES_REQUIRED guard_npm LABELS guard TIMEOUT 300)
coco_script_test(install_guard /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/install/guard_test.py)
set_tests_properties(install_guard PROPERTIES LABELS "install;guard" TIMEOUT 120)
# The v1.33 schemas are in the reference data beside the checkout (tests/CMakeLists.txt).
if(NOT EXISTS "${COCO_SHARED_DIR}/k8s/v1.33")
  set_tests_properties(install_guard PROPERTIES DISABLED TRUE)
endif()
