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
  std::string filter;
  double min_time = 0.1;
  int runs = 5;
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

/// Median over `runs` runs of the mean cost of `op`. `op(k)` performs `k`
/// operations; `prepare(k)`, untimed, readies state for them (fresh openers).
inline timing measure(const std::function<void(std::size_t)>& op, const options& opt,
               const std::function<void(std::size_t)>& prepare = {}, std::size_t max_batch = 1024) {
  using clock = std::chrono::steady_clock;
  if (prepare) prepare(std::min<std::size_t>(8, max_batch));
  op(std::min<std::size_t>(8, max_batch));  // warm up
  std::vector<timing> samples;
  for (int r = 0; r < opt.runs; ++r) {
    double ns = 0, tk = 0;
    std::size_t done = 0, batch = std::min<std::size_t>(16, max_batch);
    while (ns < opt.min_time * 1e9) {
      if (prepare) prepare(batch);
      const auto t0 = clock::now();
      const auto c0 = ticks();
      op(batch);
      tk += static_cast<double>(ticks() - c0);
      ns += std::chrono::duration<double, std::nano>(clock::now() - t0).count();
      done += batch;
      batch = std::min<std::size_t>(batch * 2, max_batch);
    }
    samples.push_back({ns / static_cast<double>(done), tk / static_cast<double>(done)});
  }
  std::sort(samples.begin(), samples.end(), [](const timing& a, const timing& b) { return a.ns < b.ns; });
  return samples[samples.size() / 2];
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
