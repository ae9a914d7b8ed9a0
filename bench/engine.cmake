add_executable(engine_bench ${CMAKE_CURRENT_SOURCE_DIR}/engine_bench.c)
target_link_libraries(engine_bench PRIVATE coco_core)
