// Shared by sepal-bench's translation units: options, timing and the
// report sections that each benchmark area (packets, handshakes, password
// login, request signing, certificates) contributes.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
  #include <x86intrin.h>
#endif

namespace bench {

struct options {
  bool json = false;
  bool csv = false;    ///< the AEAD cells as CSV on stdout
  bool wide = false;   ///< one table with every column
  std::string filter;
  std::string plot;    ///< SVG file to write, empty: none
  double min_time = 0.02;  // per subject and round (5 rounds): README command 1 stays under 3 minutes on 2 cores;
                           // --min-time 0.1 or more for a quiet machine's final figures
  double max_spread = 0.10;  ///< (max - min) / median above which a cell is flagged noisy
  int runs = 5;
  int threads = 0;     ///< --threads N: aggregate throughput on N threads
  std::vector<std::size_t> sizes;  ///< packet sizes, empty: the defaults
};

inline std::uint64_t ticks() {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return 0;
#endif
}

struct timing {
  double ns = 0;     ///< per operation
  double ticks = 0;  ///< TSC ticks per operation
};

using op_fn = std::function<void(std::size_t)>;

/// One repetition: the mean cost of `op` over at least `min_time` seconds of
/// timed work. `op(k)` performs `k` operations; `prepare(k)`, untimed,
/// readies state for them (fresh openers).
inline timing run_once(const op_fn& op, double min_time, const op_fn& prepare = {}, std::size_t max_batch = 1024) {
  using clock = std::chrono::steady_clock;
  double ns = 0, tk = 0;
  // Batches double from 1, so a slow operation (a signature, a handshake)
  // stops within about twice min_time instead of after 16 of them.
  std::size_t done = 0, batch = 1;
  while (ns < min_time * 1e9) {
    if (prepare) prepare(batch);
    const auto t0 = clock::now();
    const auto c0 = ticks();
    op(batch);
    tk += static_cast<double>(ticks() - c0);
    ns += std::chrono::duration<double, std::nano>(clock::now() - t0).count();
    done += batch;
    batch = std::min<std::size_t>(batch * 2, max_batch);
  }
  return {ns / static_cast<double>(done), tk / static_cast<double>(done)};
}

inline void warm_up(const op_fn& op, const op_fn& prepare, std::size_t max_batch) {
  if (prepare) prepare(std::min<std::size_t>(8, max_batch));
  op(std::min<std::size_t>(8, max_batch));
}

/// Median over `runs` runs of the mean cost of `op` (see run_once).
inline timing measure(const op_fn& op, const options& opt, const op_fn& prepare = {}, std::size_t max_batch = 1024) {
  warm_up(op, prepare, max_batch);
  std::vector<timing> samples;
  for (int r = 0; r < opt.runs; ++r) samples.push_back(run_once(op, opt.min_time, prepare, max_batch));
  std::sort(samples.begin(), samples.end(), [](const timing& a, const timing& b) { return a.ns < b.ns; });
  return samples[samples.size() / 2];
}

/// Median and range of repeated measurements.
struct spread {
  double median = 0, min = 0, max = 0;
  /// (max - min) / median: 0 for one run.
  double relative() const { return median > 0 ? (max - min) / median : 0; }
};

inline spread summarize(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {median, v.front(), v.back()};
}

/// What interleaved() times: an operation, its untimed preparation, and the
/// largest batch one preparation may make.
struct subject {
  op_fn op, prepare;
  std::size_t max_batch = 1024;
};

/// Interleaved repetitions: each of `runs` rounds times every subject once,
/// the first subject rotating from round to round, so that a slow spell of a
/// shared machine hits all of them alike and per-round ratios stay honest.
/// Returns samples[subject][round].
inline std::vector<std::vector<timing>> interleaved(const std::vector<subject>& subjects, const options& opt) {
  for (const auto& s : subjects) warm_up(s.op, s.prepare, s.max_batch);
  std::vector<std::vector<timing>> out(subjects.size());
  for (int r = 0; r < opt.runs; ++r) {
    for (std::size_t k = 0; k < subjects.size(); ++k) {
      const std::size_t i = (k + static_cast<std::size_t>(r)) % subjects.size();
      out[i].push_back(run_once(subjects[i].op, opt.min_time, subjects[i].prepare, subjects[i].max_batch));
    }
  }
  return out;
}

/// Operations per second of `op`, median of the runs.
inline double rate(const std::function<void(std::size_t)>& op, const options& opt) {
  return 1e9 / measure(op, opt, {}, 64).ns;
}

/// What a benchmark area adds to the report: lines for the text table and
/// one member of the JSON object.
struct section {
  std::string text;
  std::string json_key;
  std::string json_value;
};

}  // namespace bench
