# Golden cases of the mutation engine through `coco-webhook mutate` (tests/golden/run.py).
coco_script_test(golden_mutate /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/golden/run.py)
