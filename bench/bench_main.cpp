// weft_bench: weft's workloads beside oneTBB, plain Asio and serial twins, with a report.
//
// usage: weft_bench [--workloads=a,b] [--threads=1,2,...] [--max-threads=N] [--quick]
//                   [--report_dir=DIR] [google benchmark flags]
#include "bench_support.hpp"
#include "report.hpp"
#include "workloads.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using weft::bench::workloads;

void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--workloads=a,b] [--threads=1,2,...] [--max-threads=N] [--quick]\n"
               "          [--report_dir=DIR] [google benchmark flags]\n"
               "  --workloads    comma-separated subset of:",
               argv0);
  for (const auto& w : workloads()) {
    std::fprintf(stderr, " %s", w.name.c_str());
  }
  std::fprintf(stderr,
               "\n  --threads      worker counts to sweep (default 1..hardware threads)\n"
               "  --max-threads  sweep 1..N (may exceed the hardware threads)\n"
               "  --quick        small problem sizes (a smoke test, not a measurement)\n"
               "  --fail-every-check  treat every result as wrong (tests that a wrong result\n"
               "                 is reported as an error and fails the run)\n"
               "  --report_dir   write report.md, report.json and report.svg there (repetitions\n"
               "                 then run interleaved in random order unless\n"
               "                 --benchmark_enable_random_interleaving says otherwise)\n");
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    out.push_back(item);
  }
  return out;
}

bool parse_count(const std::string& s, unsigned& out) {
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < 1 || v > 1024) {
    return false;
  }
  out = static_cast<unsigned>(v);
  return true;
}

} // namespace

int main(int argc, char** argv) {
  weft::bench::options opt;
  std::set<std::string> selected;
  std::string report_dir;
  std::vector<char*> rest{argv[0]};
  bool interleaving_set = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* flag) -> const char* {
      const std::size_t n = std::strlen(flag);
      return arg.compare(0, n, flag) == 0 ? argv[i] + n : nullptr;
    };
    if (arg == "--help" || arg == "-h") {
      usage(argv[0]);
      return 0;
    } else if (const char* v = value("--workloads=")) {
      for (const auto& name : split(v)) {
        bool known = false;
        for (const auto& w : workloads()) {
          known = known || w.name == name;
        }
        if (!known) {
          std::fprintf(stderr, "weft_bench: unknown workload '%s'\n", name.c_str());
          usage(argv[0]);
          return 2;
        }
        selected.insert(name);
      }
    } else if (const char* v = value("--threads=")) {
      for (const auto& t : split(v)) {
        unsigned n = 0;
        if (!parse_count(t, n)) {
          std::fprintf(stderr, "weft_bench: bad thread count '%s' (want 1..1024)\n", t.c_str());
          usage(argv[0]);
          return 2;
        }
        opt.threads.push_back(n);
      }
    } else if (const char* v = value("--max-threads=")) {
      unsigned n = 0;
      if (!parse_count(v, n)) {
        std::fprintf(stderr, "weft_bench: bad --max-threads '%s' (want 1..1024)\n", v);
        usage(argv[0]);
        return 2;
      }
      opt.threads.clear();
      for (unsigned t = 1; t <= n; ++t) {
        opt.threads.push_back(t);
      }
    } else if (arg == "--quick") {
      opt.quick = true;
    } else if (arg == "--fail-every-check") {
      weft::bench::g_fail_every_check = true;
    } else if (const char* v = value("--report_dir=")) {
      report_dir = v;
    } else if (arg.rfind("--benchmark_", 0) == 0 || arg.rfind("--v=", 0) == 0) {
      if (const char* v = value("--benchmark_enable_random_interleaving=")) {
        interleaving_set = true;
        opt.interleaved = std::strcmp(v, "true") == 0 || std::strcmp(v, "1") == 0;
      }
      rest.push_back(argv[i]);
    } else {
      std::fprintf(stderr, "weft_bench: unknown argument '%s'\n", arg.c_str());
      usage(argv[0]);
      return 2;
    }
  }
  if (opt.threads.empty()) {
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned t = 1; t <= hw; ++t) {
      opt.threads.push_back(t);
    }
  }
  for (const auto& w : workloads()) {
    if (selected.empty() || selected.count(w.name) != 0) {
      w.register_all(opt);
    }
  }
  // A report interleaves the repetitions of all its benchmarks in random order unless told
  // otherwise: this host's slow phases (seconds long) then hit weft and its baselines
  // alike instead of one column, and the ratios are medians of comparable samples.
  static char interleave_flag[] = "--benchmark_enable_random_interleaving=true";
  if (!report_dir.empty() && !interleaving_set) {
    rest.push_back(interleave_flag);
    opt.interleaved = true;
  }
  int bench_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&bench_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(bench_argc, rest.data())) {
    return 2;
  }
  weft::bench::report_collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();
  if (!report_dir.empty()) {
    if (!collector.write(report_dir, opt)) {
      return 1;
    }
  }
  return collector.any_error() ? 1 : 0;
}
