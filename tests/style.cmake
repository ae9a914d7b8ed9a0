# House rules: banned calls, formatting, no machine paths.
coco_script_test(style /bin/bash ${CMAKE_SOURCE_DIR}/tests/style/check.sh)
