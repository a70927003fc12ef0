# Runs the full benchmark sweep and prints report.md.
execute_process(COMMAND "${BENCH}" --report_dir=${REPORT_DIR} --benchmark_repetitions=5
                  --benchmark_min_time=0.1
                RESULT_VARIABLE rc)
if(EXISTS "${REPORT_DIR}/report.md")
  file(READ "${REPORT_DIR}/report.md" report)
  message("${report}")
endif()
if(rc)
  message(FATAL_ERROR "weft_bench failed (${rc})")
endif()
