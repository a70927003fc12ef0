#include "report.hpp"

#include "bench_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace weft::bench {
namespace {

// A workload's rows: for each worker count, the weft run and its baseline twin.
struct row {
  unsigned workers = 0;
  const measured* weft = nullptr;
  const measured* base = nullptr; // tbb or asio
  // weft doing the same work by hand, where a workload has such a twin (gather: spawn N,
  // then join N): what the combinator costs over the code it replaces.
  const measured* by_hand = nullptr;
  // weft spawning and joining the same children one at a time (gather: its spawn_join twin).
  const measured* spawn_join = nullptr;
  // The paired rounds of weft, oneTBB and the serial twin (bench_support.hpp, add_paired).
  const measured* paired = nullptr;
};

// The impl name of the paired rounds.
constexpr const char* k_paired_impl = "paired";

// The impl name of a by_hand twin.
constexpr const char* k_by_hand_impl = "by_hand";
// The impl name of a twin that spawns and joins the same children one at a time.
constexpr const char* k_spawn_join_impl = "spawn_join";

struct table {
  std::string workload, description, args, base_impl, compare_to;
  const measured* serial = nullptr;       // the serial twin; the one on the first CPU where pinned
  std::vector<const measured*> pinned_serials; // by CPU index, where the workload pins its twins
  std::vector<row> rows;
};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string time_cell(const measured* m) {
  if (m == nullptr) {
    return "–";
  }
  if (!m->error.empty()) {
    return "ERROR: " + m->error;
  }
  std::string s = fmt("%.3f", m->median() * 1e3) + " ±" + fmt("%.0f", m->spread() * 100) + "%";
  if (m->spread() > 0.10) {
    s += " ⚠";
  }
  return s;
}

bool ok(const measured* m) { return m != nullptr && m->error.empty() && !m->seconds.empty(); }

bool pinned_serials_ok(const table& t) {
  return !t.pinned_serials.empty() && std::all_of(t.pinned_serials.begin(), t.pinned_serials.end(), ok);
}

// The time `workers` threads would take with no scheduling cost at all: the serial time
// divided by the workers, or, where the serial twin was pinned to each CPU in turn, the
// work shared out in proportion to each used CPU's speed, 1 / (1/s_0 + ... + 1/s_{w-1})
// (CPUs beyond the pinned ones add nothing: the extra workers share them). On equally fast
// CPUs the two agree; on a host whose neighbours slow one core, only the second is a bound
// a scheduler can reach. 0 when there is no serial time.
double ideal_seconds(const table& t, unsigned workers) {
  if (pinned_serials_ok(t)) {
    double rate = 0;
    const std::size_t used = std::min<std::size_t>(std::max(1u, workers), t.pinned_serials.size());
    for (std::size_t k = 0; k < used; ++k) {
      rate += 1.0 / t.pinned_serials[k]->median();
    }
    return 1.0 / rate;
  }
  return ok(t.serial) && workers > 0 ? t.serial->median() / workers : 0;
}

std::vector<table> build_tables(const std::vector<measured>& results) {
  // One table per workload and argument set, in workload order.
  std::vector<table> tables;
  for (const auto& w : workloads()) {
    std::vector<std::string> arg_sets;
    for (const auto& m : results) {
      if (m.workload == w.name && std::find(arg_sets.begin(), arg_sets.end(), m.args) == arg_sets.end()) {
        arg_sets.push_back(m.args);
      }
    }
    // In increasing order of their first value ("children:2" before "children:16"): the runs
    // come in random order when interleaved.
    std::stable_sort(arg_sets.begin(), arg_sets.end(), [](const std::string& a, const std::string& b) {
      const auto first_value = [](const std::string& s) {
        const std::size_t at = s.find_first_of("0123456789");
        return at == std::string::npos ? 0.0 : std::strtod(s.c_str() + at, nullptr);
      };
      return first_value(a) < first_value(b);
    });
    for (const auto& args : arg_sets) {
      table t{w.name, w.description, args, "", w.compare_to, nullptr, {}, {}};
      std::map<unsigned, row> by_workers;
      for (const auto& m : results) {
        if (m.workload != w.name || m.args != args) {
          continue;
        }
        if (m.impl == "serial" && m.cpu >= 0) {
          const auto k = static_cast<std::size_t>(m.cpu);
          t.pinned_serials.resize(std::max(t.pinned_serials.size(), k + 1), nullptr);
          t.pinned_serials[k] = &m;
        } else if (m.impl == "serial") {
          t.serial = &m;
        } else {
          row& r = by_workers[m.workers];
          r.workers = m.workers;
          if (m.impl == "weft") {
            r.weft = &m;
          } else if (m.impl == k_by_hand_impl) {
            r.by_hand = &m;
          } else if (m.impl == k_spawn_join_impl) {
            r.spawn_join = &m;
          } else if (m.impl == k_paired_impl) {
            r.paired = &m;
          } else {
            t.base_impl = m.impl;
            r.base = &m;
          }
        }
      }
      for (auto& [n, r] : by_workers) {
        t.rows.push_back(r);
      }
      if (t.serial == nullptr && !t.pinned_serials.empty()) {
        t.serial = t.pinned_serials.front();
      }
      tables.push_back(std::move(t));
    }
  }
  return tables;
}

std::string base_label(const std::string& impl) {
  if (impl == "tbb") {
    return "oneTBB";
  }
  if (impl == "asio") {
    return "plain Asio";
  }
  return impl.empty() ? "baseline" : impl;
}

// The compiler that built weft and the benchmarks (and compiled oneTBB's inline parts):
// the same code differs by up to 30% per task between g++ and clang++ here.
std::string compiler() {
#if defined(__clang__)
  std::string v = std::string("clang++ ") + __clang_version__;
  while (!v.empty() && v.back() == ' ') {
    v.pop_back(); // clang's version string ends in a space
  }
  return v;
#elif defined(__GNUC__)
  return std::string("g++ ") + __VERSION__;
#else
  return "an unknown compiler";
#endif
}

std::string today() {
  char buf[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&now));
  return buf;
}

// The median weft ns/task of workload `name` at `workers` (any args), or 0.
double weft_ns_per_task(const std::vector<measured>& results, const std::string& name, unsigned workers) {
  for (const auto& m : results) {
    if (m.workload == name && m.impl == "weft" && m.workers == workers && ok(&m) && m.tasks > 0) {
      return m.median() * 1e9 / m.tasks;
    }
  }
  return 0;
}

// A ratio counter of paired rounds: "median ±spread", ⚠ over 10%.
std::string paired_cell(const measured& m, const std::string& counter) {
  if (m.counter_reps.count(counter) == 0) {
    return "–";
  }
  const double spread = m.counter_spread(counter);
  return fmt("%.3f", m.counter_median(counter)) + " ±" + fmt("%.0f", spread * 100) + "%" +
         (spread > 0.10 ? " ⚠" : "");
}

// The paired rounds' table of a workload (bench_support.hpp, add_paired), if it has them.
void write_paired(std::ostream& out, const table& t) {
  if (std::none_of(t.rows.begin(), t.rows.end(), [](const row& r) { return r.paired != nullptr; })) {
    return;
  }
  const std::string base = base_label("tbb"); // add_paired's baseline
  out << "\nPaired rounds (see the top of the report):\n\n"
      << "| workers | rounds | weft faster in | weft / " << base << " | weft / ideal | " << base
      << " / ideal | weft, " << base << ", ideal (ms) |\n|---|---|---|---|---|---|---|\n";
  for (const auto& r : t.rows) {
    if (r.paired == nullptr) {
      continue;
    }
    const measured& m = *r.paired;
    out << "| " << r.workers << " | ";
    if (!m.error.empty()) {
      out << "ERROR: " << m.error << " | | | | | |\n";
      continue;
    }
    const auto total = [&m](const std::string& counter) {
      double sum = 0;
      if (auto it = m.counter_reps.find(counter); it != m.counter_reps.end()) {
        for (double v : it->second) {
          sum += v;
        }
      }
      return sum;
    };
    const double rounds = total("rounds");
    const double faster = total("weft_faster_rounds");
    out << fmt("%.0f", rounds) << " | " << fmt("%.0f", faster) << " ("
        << fmt("%.0f", rounds > 0 ? faster / rounds * 100 : 0) << "%) | " << paired_cell(m, "weft_over_tbb") << " | "
        << paired_cell(m, "weft_over_ideal") << " | " << paired_cell(m, "tbb_over_ideal") << " | "
        << fmt("%.3f", m.counter_median("weft_ms")) << ", " << fmt("%.3f", m.counter_median("tbb_ms")) << ", "
        << fmt("%.3f", m.counter_median("ideal_ms")) << " |\n";
  }
}

void write_markdown(std::ostream& out, const std::vector<table>& tables, const std::vector<measured>& results,
                    std::size_t reps, bool interleaved) {
  out << "# weft benchmark report\n\n"
      << "Measured " << today() << " on " << std::thread::hardware_concurrency()
      << " hardware threads, built with " << compiler() << "; each cell is the median of " << reps
      << " repetitions, ± the spread (max − min) / median; ⚠ marks a spread over 10%.\n"
      << (interleaved ? "The repetitions of all benchmarks ran interleaved in random order, so a slow phase of the"
                        " host slows weft and its baselines alike.\n"
                      : "The repetitions of each benchmark ran back to back.\n")
      << "Times are per iteration of the workload, in ms. Ratios below 1 mean weft is faster.\n"
      << "Ideal = serial time / workers (see the pinned workloads below for unequal CPUs)."
      << " Overhead per task = (weft time − ideal) × workers / tasks: what the scheduler costs"
      << " per task, summed over all workers.\n"
      << "Paired rounds (where a table has them): each round runs weft, oneTBB and the serial twin on each"
         " CPU the workers use, one after the other (in a new random order every round; each run starts once"
         " the previous one's idle threads have stopped spinning), and takes the ratios within the round, so a"
         " slow phase of the host that outlasts a round slows both sides of a ratio alike. \"weft faster in\":"
         " the rounds in which weft took less time than oneTBB. Ratio cells: the median over the repetitions of"
         " each repetition's median ratio, ± the spread of those medians; the times are medians too. Where these"
         " ratios and those of the medians in the main table disagree, these are the ones to trust.\n\n";
  for (const auto& t : tables) {
    out << "## " << t.workload << " (" << t.args << ")\n\n" << t.description << "\n\n";
    const bool has_serial = ok(t.serial);
    const double tasks = t.rows.empty() ? (t.serial ? t.serial->tasks : 0)
                                        : (t.rows.front().weft ? t.rows.front().weft->tasks : 0);
    if (has_serial && !t.pinned_serials.empty()) {
      out << "Every twin is pinned: weft's worker k and oneTBB's slot k to the k-th CPU, the serial twin to"
             " each CPU in turn. Serial:";
      double fastest = 0, slowest = 0;
      for (std::size_t k = 0; k < t.pinned_serials.size(); ++k) {
        const measured* m = t.pinned_serials[k];
        out << (k ? "; " : " ") << "CPU " << k << ": " << time_cell(m) << " ms";
        if (ok(m)) {
          fastest = fastest == 0 ? m->median() : std::min(fastest, m->median());
          slowest = std::max(slowest, m->median());
        }
      }
      if (tasks > 0) {
        out << " (" << fmt("%.2f", t.serial->median() * 1e9 / tasks) << " ns per task of work on CPU 0)";
      }
      out << ". Ideal at w workers = 1 / (1/serial on CPU 0 + ... + 1/serial on CPU w−1).";
      if (fastest > 0 && slowest / fastest > 1.10) {
        out << " ⚠ The CPUs differ by " << fmt("%.0f", (slowest / fastest - 1) * 100)
            << "% on this workload (a shared host's neighbours load them unequally).";
      }
      out << "\n\n";
    } else if (has_serial) {
      out << "Serial: " << time_cell(t.serial) << " ms";
      if (tasks > 0) {
        out << " (" << fmt("%.2f", t.serial->median() * 1e9 / tasks) << " ns per task of work)";
      }
      out << "\n\n";
    }
    const std::string base = base_label(t.base_impl);
    out << "| workers | weft (ms) | " << base << " (ms) | weft / " << base << " | weft ns/task | " << base
        << " ns/task |";
    if (has_serial) {
      out << " overhead/task (ns) | speed-up vs serial | weft / ideal | " << base << " / ideal |";
    }
    const bool compare = !t.compare_to.empty();
    if (compare) {
      out << " weft / " << t.compare_to << " (ns/task) |";
    }
    const bool by_hand = std::any_of(t.rows.begin(), t.rows.end(), [](const row& r) { return r.by_hand != nullptr; });
    if (by_hand) {
      out << " weft / by hand |";
    }
    const bool same_child =
        std::any_of(t.rows.begin(), t.rows.end(), [](const row& r) { return r.spawn_join != nullptr; });
    if (same_child) {
      out << " weft / spawn+join of the same child |";
    }
    out << " steals/iter |\n|---|---|---|---|---|---|";
    if (has_serial) {
      out << "---|---|---|---|";
    }
    if (compare) {
      out << "---|";
    }
    if (by_hand) {
      out << "---|";
    }
    if (same_child) {
      out << "---|";
    }
    out << "---|\n";
    for (const auto& r : t.rows) {
      out << "| " << r.workers << " | " << time_cell(r.weft) << " | " << time_cell(r.base) << " | ";
      out << (ok(r.weft) && ok(r.base) ? fmt("%.2f", r.weft->median() / r.base->median()) : "–") << " | ";
      out << (ok(r.weft) && r.weft->tasks > 0 ? fmt("%.1f", r.weft->median() * 1e9 / r.weft->tasks) : "–") << " | ";
      out << (ok(r.base) && r.base->tasks > 0 ? fmt("%.1f", r.base->median() * 1e9 / r.base->tasks) : "–") << " |";
      if (has_serial) {
        const double ideal = ideal_seconds(t, r.workers);
        if (ok(r.weft) && r.weft->tasks > 0 && ideal > 0) {
          const double s = t.serial->median();
          const double w = r.weft->median();
          out << " " << fmt("%.1f", (w - ideal) * r.workers * 1e9 / r.weft->tasks) << " | " << fmt("%.2f", s / w)
              << "x | " << fmt("%.2f", w / ideal) << " |";
        } else {
          out << " – | – | – |";
        }
        out << " " << (ok(r.base) && ideal > 0 ? fmt("%.2f", r.base->median() / ideal) : "–") << " |";
      }
      if (compare) {
        const double other = weft_ns_per_task(results, t.compare_to, r.workers);
        out << " "
            << (ok(r.weft) && r.weft->tasks > 0 && other > 0 ? fmt("%.2f", r.weft->median() * 1e9 / r.weft->tasks / other)
                                                              : "–")
            << " |";
      }
      if (by_hand) {
        out << " " << (ok(r.weft) && ok(r.by_hand) ? fmt("%.2f", r.weft->median() / r.by_hand->median()) : "–") << " |";
      }
      if (same_child) {
        out << " " << (ok(r.weft) && ok(r.spawn_join) ? fmt("%.2f", r.weft->median() / r.spawn_join->median()) : "–")
            << " |";
      }
      const auto it = ok(r.weft) ? r.weft->counters.find("steals") : std::map<std::string, double>::const_iterator{};
      out << " " << (ok(r.weft) && it != r.weft->counters.end() ? fmt("%.0f", it->second) : "–") << " |\n";
    }
    write_paired(out, t);
    bool round_trip_heading = false;
    for (const auto& r : t.rows) {
      for (const measured* m : {r.weft, r.base}) {
        if (!ok(m) || m->round_trips_ns.empty()) {
          continue;
        }
        if (!round_trip_heading) {
          out << "\nCross-core round trip (two threads bouncing a cache line), measured after each"
                 " repetition, ns; this workload's times follow it:\n";
          round_trip_heading = true;
        }
        out << "- " << (m == r.weft ? std::string("weft") : base_label(t.base_impl)) << ", " << r.workers
            << " worker(s):";
        for (double v : m->round_trips_ns) {
          out << " " << fmt("%.0f", v);
        }
        out << "\n";
      }
    }
    for (const auto& r : t.rows) {
      if (ok(r.weft)) {
        if (auto b = r.weft->counters.find("bytes_per_pending_child"); b != r.weft->counters.end()) {
          out << "\nHeap bytes per pending child beyond its own frame (" << r.workers
              << " workers, fresh runtime): " << fmt("%.1f", b->second) << "\n";
        }
      }
    }
    out << "\n";
  }
}

void write_json(std::ostream& out, const std::vector<measured>& results) {
  out << "{\n  \"date\": \"" << today() << "\",\n  \"hardware_threads\": " << std::thread::hardware_concurrency()
      << ",\n  \"results\": [\n";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& m = results[i];
    out << "    {\"workload\": \"" << m.workload << "\", \"impl\": \"" << m.impl << "\", \"args\": \"" << m.args
        << "\", \"workers\": " << m.workers << ", \"tasks_per_iteration\": " << m.tasks;
    if (m.cpu >= 0) {
      out << ", \"pinned_to_cpu\": " << m.cpu;
    }
    if (ok(&m)) {
      out << ", \"median_seconds\": " << fmt("%.9g", m.median()) << ", \"spread\": " << fmt("%.4f", m.spread())
          << ", \"ns_per_task\": " << (m.tasks > 0 ? fmt("%.3f", m.median() * 1e9 / m.tasks) : "null");
      out << ", \"repetitions_seconds\": [";
      for (std::size_t k = 0; k < m.seconds.size(); ++k) {
        out << (k ? ", " : "") << fmt("%.9g", m.seconds[k]);
      }
      out << "]";
      if (m.impl == k_paired_impl) {
        // Each repetition's median ratios, and the median over them (the report's cells).
        for (const auto& [name, reps] : m.counter_reps) {
          out << ", \"" << name << "\": " << fmt("%.6g", m.counter_median(name)) << ", \"" << name
              << "_repetitions\": [";
          for (std::size_t k = 0; k < reps.size(); ++k) {
            out << (k ? ", " : "") << fmt("%.6g", reps[k]);
          }
          out << "]";
        }
      } else {
        for (const auto& [name, v] : m.counters) {
          if (name != "tasks") {
            out << ", \"" << name << "\": " << fmt("%.6g", v);
          }
        }
      }
    } else {
      out << ", \"error\": \"" << m.error << "\"";
    }
    out << "}" << (i + 1 < results.size() ? "," : "") << "\n";
  }
  out << "  ]\n}\n";
}

// Two charts per workload: ns per task against workers (weft and its baseline), and
// speed-up over the serial twin against workers (with the ideal line).
void write_svg(std::ostream& out, const std::vector<table>& tables) {
  const int pw = 360, ph = 220, margin = 50;
  const int rows = static_cast<int>(tables.size());
  const int width = 2 * pw + 40, height = std::max(1, rows) * (ph + 40) + 40;
  out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
      << "' font-family='sans-serif' font-size='11'>\n<rect width='100%' height='100%' fill='white'/>\n"
      << "<text x='10' y='20' font-size='14'>weft benchmark report (" << today() << ")</text>\n";
  for (int ti = 0; ti < rows; ++ti) {
    const table& t = tables[static_cast<std::size_t>(ti)];
    unsigned max_w = 1;
    for (const auto& r : t.rows) {
      max_w = std::max(max_w, r.workers);
    }
    for (int panel = 0; panel < 2; ++panel) {
      const int x0 = 10 + panel * (pw + 20), y0 = 40 + ti * (ph + 40);
      // Each series: points (workers, value).
      std::vector<std::pair<std::string, std::vector<std::pair<double, double>>>> series;
      std::vector<std::pair<double, double>> ws, bs, ideal;
      for (const auto& r : t.rows) {
        if (panel == 0) {
          if (ok(r.weft) && r.weft->tasks > 0) ws.emplace_back(r.workers, r.weft->median() * 1e9 / r.weft->tasks);
          if (ok(r.base) && r.base->tasks > 0) bs.emplace_back(r.workers, r.base->median() * 1e9 / r.base->tasks);
        } else if (ok(t.serial)) {
          if (ok(r.weft)) ws.emplace_back(r.workers, t.serial->median() / r.weft->median());
          if (ok(r.base)) bs.emplace_back(r.workers, t.serial->median() / r.base->median());
          ideal.emplace_back(r.workers, t.serial->median() / ideal_seconds(t, r.workers));
        }
      }
      series.emplace_back("weft", ws);
      series.emplace_back(base_label(t.base_impl), bs);
      if (panel == 1) {
        series.emplace_back("ideal", ideal);
      }
      double max_v = 0;
      for (const auto& s : series) {
        for (const auto& p : s.second) {
          max_v = std::max(max_v, p.second);
        }
      }
      if (max_v <= 0) {
        max_v = 1;
      }
      max_v *= 1.1;
      const auto px = [&](double w) {
        return x0 + margin + (max_w > 1 ? (w - 1) / (max_w - 1) : 0.5) * (pw - margin - 10);
      };
      const auto py = [&](double v) { return y0 + ph - 30 - v / max_v * (ph - 50); };
      out << "<text x='" << x0 << "' y='" << y0 + 10 << "' font-size='12'>" << t.workload << ": "
          << (panel == 0 ? "ns per task" : "speed-up vs serial") << "</text>\n";
      out << "<line x1='" << x0 + margin << "' y1='" << py(0) << "' x2='" << x0 + pw - 10 << "' y2='" << py(0)
          << "' stroke='black'/>\n<line x1='" << x0 + margin << "' y1='" << py(0) << "' x2='" << x0 + margin
          << "' y2='" << y0 + 20 << "' stroke='black'/>\n";
      for (int k = 0; k <= 4; ++k) {
        const double v = max_v * k / 4;
        out << "<text x='" << x0 + 2 << "' y='" << py(v) + 4 << "'>" << fmt(v < 10 ? "%.1f" : "%.0f", v) << "</text>\n";
      }
      for (const auto& r : t.rows) {
        out << "<text x='" << px(r.workers) - 3 << "' y='" << py(0) + 14 << "'>" << r.workers << "</text>\n";
      }
      out << "<text x='" << x0 + pw / 2 << "' y='" << py(0) + 26 << "'>workers</text>\n";
      const char* colours[] = {"#d62728", "#1f77b4", "#999999"};
      for (std::size_t si = 0; si < series.size(); ++si) {
        const auto& pts = series[si].second;
        if (pts.empty()) {
          continue;
        }
        out << "<polyline fill='none' stroke='" << colours[si] << "' stroke-width='2'"
            << (si == 2 ? " stroke-dasharray='4,3'" : "") << " points='";
        for (const auto& p : pts) {
          out << px(p.first) << "," << py(p.second) << " ";
        }
        out << "'/>\n";
        for (const auto& p : pts) {
          out << "<circle cx='" << px(p.first) << "' cy='" << py(p.second) << "' r='3' fill='" << colours[si] << "'/>\n";
        }
        out << "<text x='" << x0 + pw - 90 << "' y='" << y0 + 24 + 13 * static_cast<int>(si) << "' fill='"
            << colours[si] << "'>" << series[si].first << "</text>\n";
      }
    }
  }
  out << "</svg>\n";
}

} // namespace

namespace {

double spread_of(const std::vector<double>& v) {
  if (v.size() < 2) {
    return 0;
  }
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  std::vector<double> copy = v;
  const double m = median_of(copy);
  return m > 0 ? (*hi - *lo) / m : 0;
}

} // namespace

double measured::median() const {
  std::vector<double> v = seconds;
  return median_of(v);
}

double measured::spread() const { return spread_of(seconds); }

double measured::counter_median(const std::string& name) const {
  const auto it = counter_reps.find(name);
  if (it == counter_reps.end()) {
    return 0;
  }
  std::vector<double> v = it->second;
  return median_of(v);
}

double measured::counter_spread(const std::string& name) const {
  const auto it = counter_reps.find(name);
  return it == counter_reps.end() ? 0 : spread_of(it->second);
}

void report_collector::ReportRuns(const std::vector<Run>& runs) {
  ConsoleReporter::ReportRuns(runs);
  for (const Run& run : runs) {
    if (run.run_type != Run::RT_Iteration) {
      continue;
    }
    const std::string name = run.run_name.function_name;
    // name: workload/impl[/key:value...][/workers:N]
    std::vector<std::string> parts;
    std::stringstream in(name);
    for (std::string p; std::getline(in, p, '/');) {
      parts.push_back(p);
    }
    if (parts.size() < 2) {
      continue;
    }
    measured* m = nullptr;
    measured entry;
    entry.workload = parts[0];
    entry.impl = parts[1];
    for (std::size_t i = 2; i < parts.size(); ++i) {
      if (parts[i].rfind("workers:", 0) == 0) {
        entry.workers = static_cast<unsigned>(std::stoul(parts[i].substr(8)));
      } else if (parts[i].rfind("cpu:", 0) == 0) {
        entry.cpu = std::stoi(parts[i].substr(4));
      } else {
        entry.args += (entry.args.empty() ? "" : ", ") + parts[i];
      }
    }
    for (auto& existing : m_results) {
      if (existing.workload == entry.workload && existing.impl == entry.impl && existing.args == entry.args &&
          existing.workers == entry.workers && existing.cpu == entry.cpu) {
        m = &existing;
      }
    }
    if (m == nullptr) {
      m_results.push_back(entry);
      m = &m_results.back();
    }
    if (run.error_occurred) {
      m->error = run.error_message;
      m_any_error = true;
      continue;
    }
    if (run.iterations > 0) {
      m->seconds.push_back(run.real_accumulated_time / static_cast<double>(run.iterations));
    }
    for (const auto& [cname, c] : run.counters) {
      m->counters[cname] = c.value;
      m->counter_reps[cname].push_back(c.value);
    }
    if (auto it = run.counters.find("cross_core_rtt_ns"); it != run.counters.end()) {
      m->round_trips_ns.push_back(it->second.value);
    }
    if (auto it = run.counters.find("tasks"); it != run.counters.end()) {
      m->tasks = it->second.value;
    }
  }
}

bool report_collector::write(const std::string& dir, const options& opt) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "weft_bench: cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
    return false;
  }
  const auto tables = build_tables(m_results);
  std::size_t reps = 0;
  for (const auto& m : m_results) {
    reps = std::max(reps, m.seconds.size());
  }
  std::ofstream md(dir + "/report.md"), js(dir + "/report.json"), svg(dir + "/report.svg");
  if (!md || !js || !svg) {
    std::fprintf(stderr, "weft_bench: cannot write the report files in %s\n", dir.c_str());
    return false;
  }
  write_markdown(md, tables, m_results, reps, opt.interleaved);
  write_json(js, m_results);
  write_svg(svg, tables);
  std::printf("\nreport written to %s/report.md, report.json, report.svg\n", dir.c_str());
  return true;
}

} // namespace weft::bench
