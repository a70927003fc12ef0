#pragma once
// Collects weft_bench's runs and writes report.md, report.json and report.svg.

#include "bench_support.hpp"

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace weft::bench {

/// One benchmark (all its repetitions).
struct measured {
  std::string workload, impl, args;
  unsigned workers = 0;                // 0: serial (no pool)
  int cpu = -1;                        // a pinned serial twin's CPU (index into allowed_cpus()), else -1
  std::vector<double> seconds;         // per iteration, one per repetition
  double tasks = 0;                    // tasks per iteration
  std::map<std::string, double> counters; // the last repetition's
  std::map<std::string, std::vector<double>> counter_reps; // every repetition's, in order
  std::vector<double> round_trips_ns;      // cross_core_rtt_ns of each repetition, if reported
  std::string error;

  [[nodiscard]] double median() const;
  [[nodiscard]] double spread() const; // (max - min) / median
  /// The median and spread over the repetitions of counter `name` (0 when absent).
  [[nodiscard]] double counter_median(const std::string& name) const;
  [[nodiscard]] double counter_spread(const std::string& name) const;
};

/// Prints what the console reporter prints, and keeps every run for the report.
class report_collector : public benchmark::ConsoleReporter {
public:
  void ReportRuns(const std::vector<Run>& runs) override;

  /// Writes the three report files into dir; false (with a message) on failure.
  bool write(const std::string& dir, const options& opt) const;
  [[nodiscard]] bool any_error() const noexcept { return m_any_error; }

private:
  std::vector<measured> m_results; // in registration order
  bool m_any_error = false;
};

} // namespace weft::bench
