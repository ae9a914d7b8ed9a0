# The command line: help, exit statuses, input errors.
coco_script_test(cli /bin/bash ${CMAKE_SOURCE_DIR}/tests/cli/test_cli.sh)
