# Initdata (webhook/trust/initdata_doc.c, core/initdata.c, cli/cli_initdata.c, SPEC §2.5 and §6): the CLI
# checked with independent tools (tomli, sha*sum, base64 | gunzip, the workshop's PCR 8
# recipe), documents refused naming the file, the real server's rules and reloads under load,
# and the document reader's fuzz target (corpus replayed).
foreach(group cli config server reload)
  coco_script_test(initdata_${group} /usr/bin/python3
                   ${CMAKE_SOURCE_DIR}/tests/initdata/test_initdata.py ${group})
  set_tests_properties(initdata_${group} PROPERTIES TIMEOUT 300)
endforeach()
set_tests_properties(initdata_server initdata_reload PROPERTIES LABELS server)
coco_fuzz_target(fuzz_initdata ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_initdata.c)
