# Runs weft_bench with --fail-every-check and checks that every benchmark of the selected
# workloads reported the error, that none printed a time, and that the run failed.
execute_process(COMMAND "${BENCH}" --quick --threads=1 --workloads=fib,matmul --benchmark_min_time=0.01
                        --fail-every-check
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(rc EQUAL 0)
  message(FATAL_ERROR "weft_bench exited 0 although every result check failed:\n${out}${err}")
endif()
# fib and matmul at 1 worker: serial on CPU 0, weft, oneTBB and paired, for each.
string(REGEX MATCHALL "ERROR OCCURRED: 'result disagrees with the serial value'" errors "${out}")
list(LENGTH errors n)
if(NOT n EQUAL 8)
  message(FATAL_ERROR "expected 8 benchmarks to report a wrong result, saw ${n}:\n${out}")
endif()
if(out MATCHES "[0-9] us ")
  message(FATAL_ERROR "a benchmark printed a time for a wrong result:\n${out}")
endif()
