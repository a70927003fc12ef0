file(REMOVE_RECURSE "${PREFIX}" "${CONSUMER_BUILD}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${WEFT_BINARY_DIR}" --prefix "${PREFIX}"
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
# An instrumented weft needs an instrumented consumer.
set(flags "")
if(SANITIZE)
  set(flags "-fsanitize=${SANITIZE}")
  if(SANITIZE MATCHES "undefined" AND CXX MATCHES "clang")
    string(APPEND flags " -fno-sanitize=function") # see the top-level CMakeLists.txt
  endif()
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE}" -B "${CONSUMER_BUILD}"
                  -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_CXX_COMPILER=${CXX}
                  "-DCMAKE_CXX_FLAGS=${flags}" "-DCMAKE_EXE_LINKER_FLAGS=${flags}"
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${CONSUMER_BUILD}" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND "${CONSUMER_BUILD}/consumer" RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "consumer: 55")
  message(FATAL_ERROR "consumer failed (${rc}): ${out}")
endif()
