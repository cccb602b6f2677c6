// sepal-bench: AEAD throughput of sepal against raw, reused Botan in the same
// run. For each AEAD and size it times seal and open (median of repeated
// runs) and prints MB/s, ns/packet, TSC cycles/byte and the sepal/Botan
// throughput ratio; also the cost of rejecting a forged packet and heap
// allocations per operation.
//
//   sepal-bench [--json] [--filter SUBSTRING] [--min-time SECONDS] [--runs N]

#include <botan/aead.h>
#include <botan/secmem.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
  #include <x86intrin.h>
#endif

#include <sepal/sepal.hpp>

// Heap allocation counter for the "allocations per operation" column.
namespace {
std::atomic<std::size_t> g_allocations{0};
}
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

struct options {
  bool json = false;
  std::string filter;
  double min_time = 0.1;
  int runs = 5;
};

std::uint64_t ticks() {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return 0;
#endif
}

struct measurement {
  double ns_per_op = 0;
  double ticks_per_op = 0;
};

/// Median over `runs` of the mean time per call of `op`, each run lasting at
/// least `min_time` seconds.
measurement measure(const std::function<void()>& op, const options& opt) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < 16; ++i) op();  // warm up
  std::vector<measurement> samples;
  for (int r = 0; r < opt.runs; ++r) {
    std::size_t iters = 0, batch = 1;
    const auto t0 = clock::now();
    const auto c0 = ticks();
    double elapsed = 0;
    while (elapsed < opt.min_time) {
      for (std::size_t i = 0; i < batch; ++i) op();
      iters += batch;
      batch *= 2;
      elapsed = std::chrono::duration<double>(clock::now() - t0).count();
    }
    const auto c1 = ticks();
    samples.push_back({elapsed * 1e9 / static_cast<double>(iters), static_cast<double>(c1 - c0) / static_cast<double>(iters)});
  }
  std::sort(samples.begin(), samples.end(), [](auto& a, auto& b) { return a.ns_per_op < b.ns_per_op; });
  return samples[samples.size() / 2];
}

double allocations_per_op(const std::function<void()>& op) {
  for (int i = 0; i < 4; ++i) op();
  const auto before = g_allocations.load();
  constexpr int n = 1000;
  for (int i = 0; i < n; ++i) op();
  return static_cast<double>(g_allocations.load() - before) / n;
}

struct row {
  std::string aead, op;
  std::size_t size;
  measurement sepal, botan;
  double sepal_allocs, botan_allocs;
};

/// Raw Botan used the way a careful caller would: one keyed object per
/// direction and one reused secure_vector.
struct raw_botan {
  std::unique_ptr<Botan::AEAD_Mode> enc, dec;
  Botan::secure_vector<std::uint8_t> buf;
  raw_botan(std::string_view name, std::span<const std::uint8_t> key)
      : enc(Botan::AEAD_Mode::create_or_throw(name, Botan::Cipher_Dir::Encryption)),
        dec(Botan::AEAD_Mode::create_or_throw(name, Botan::Cipher_Dir::Decryption)) {
    enc->set_key(key);
    dec->set_key(key);
  }
};

template <class A>
void bench_aead(const char* name, const options& opt, std::vector<row>& rows) {
  const std::size_t sizes[] = {64, 256, 1200, 16384, 1048576};
  const auto key = sepal::random_bytes<A::key_size>();
  sepal::aead_key<A> sk(key);
  raw_botan rb(sepal::detail::algorithm<A>::mode, key);
  std::array<std::uint8_t, A::nonce_size> nonce{};
  const std::array<std::uint8_t, 8> ad{1, 2, 3, 4, 5, 6, 7, 8};

  for (std::size_t size : sizes) {
    const std::string label = std::string(name) + "/" + std::to_string(size);
    if (!opt.filter.empty() && label.find(opt.filter) == std::string::npos) continue;
    std::fprintf(stderr, "  %s\n", label.c_str());
    std::vector<std::uint8_t> pt(size, 0x42), buf(size + A::tag_size), sealed(size + A::tag_size), out(size);
    rb.buf.reserve(size + 2 * A::tag_size);

    auto sepal_seal = [&] { (void)sk.seal(nonce, ad, pt, buf); };
    auto botan_seal = [&] {
      rb.buf.assign(pt.begin(), pt.end());
      rb.enc->set_associated_data(ad);
      rb.enc->start(nonce);
      rb.enc->finish(rb.buf);
    };
    (void)sk.seal(nonce, ad, pt, sealed);
    auto sepal_open = [&] {
      if (!sk.open(nonce, ad, sealed, out)) std::abort();
    };
    auto botan_open = [&] {
      rb.buf.assign(sealed.begin(), sealed.end());
      rb.dec->set_associated_data(ad);
      rb.dec->start(nonce);
      rb.dec->finish(rb.buf);
    };
    rows.push_back({name, "seal", size, measure(sepal_seal, opt), measure(botan_seal, opt),
                    allocations_per_op(sepal_seal), allocations_per_op(botan_seal)});
    rows.push_back({name, "open", size, measure(sepal_open, opt), measure(botan_open, opt),
                    allocations_per_op(sepal_open), allocations_per_op(botan_open)});
    if (size == 1200) {
      auto forged = sealed;
      forged[forged.size() - 1] ^= 1;
      auto sepal_forged = [&] {
        if (sk.open(nonce, ad, forged, out)) std::abort();
      };
      auto botan_forged = [&] {
        try {
          botan_open();
          std::abort();
        } catch (const Botan::Invalid_Authentication_Tag&) {
        }
      };
      rows.push_back({name, "forged", size, measure(sepal_forged, opt), measure(botan_forged, opt),
                      allocations_per_op(sepal_forged), allocations_per_op(botan_forged)});
    }
  }
}

void print_table(const std::vector<row>& rows) {
  std::printf("%-18s %-6s %8s | %10s %10s %8s %7s | %10s %10s | %6s\n", "aead", "op", "bytes", "sepal MB/s",
              "ns/packet", "cyc/byte", "allocs", "Botan MB/s", "ns/packet", "ratio");
  for (const auto& r : rows) {
    const double s_mbs = static_cast<double>(r.size) / r.sepal.ns_per_op * 1e3;
    const double b_mbs = static_cast<double>(r.size) / r.botan.ns_per_op * 1e3;
    std::printf("%-18s %-6s %8zu | %10.1f %10.0f %8.2f %7.2f | %10.1f %10.0f | %6.3f\n", r.aead.c_str(),
                r.op.c_str(), r.size, s_mbs, r.sepal.ns_per_op, r.sepal.ticks_per_op / static_cast<double>(r.size),
                r.sepal_allocs, b_mbs, r.botan.ns_per_op, r.botan.ns_per_op / r.sepal.ns_per_op);
  }
  std::printf("ratio = Botan time / sepal time (>= 1 means sepal is as fast); cycles are TSC ticks.\n");
  for (const auto& r : rows) {
    if (r.op != "forged") continue;
    for (const auto& v : rows) {
      if (v.aead == r.aead && v.size == r.size && v.op == "open") {
        std::printf("%s: rejecting a forged %zu-byte packet costs %.2fx a valid open\n", r.aead.c_str(), r.size,
                    r.sepal.ns_per_op / v.sepal.ns_per_op);
      }
    }
  }
}

void print_json(const std::vector<row>& rows) {
  std::printf("{\"aead\": [\n");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    std::printf(
        "  {\"aead\": \"%s\", \"op\": \"%s\", \"bytes\": %zu, \"sepal_ns\": %.1f, \"botan_ns\": %.1f, "
        "\"sepal_ticks_per_byte\": %.3f, \"sepal_allocs\": %.2f, \"botan_allocs\": %.2f, \"ratio\": %.4f}%s\n",
        r.aead.c_str(), r.op.c_str(), r.size, r.sepal.ns_per_op, r.botan.ns_per_op,
        r.sepal.ticks_per_op / static_cast<double>(r.size), r.sepal_allocs, r.botan_allocs,
        r.botan.ns_per_op / r.sepal.ns_per_op, i + 1 < rows.size() ? "," : "");
  }
  std::printf("]}\n");
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      opt.json = true;
    } else if (a == "--filter" && i + 1 < argc) {
      opt.filter = argv[++i];
    } else if (a == "--min-time" && i + 1 < argc) {
      opt.min_time = std::atof(argv[++i]);
    } else if (a == "--runs" && i + 1 < argc) {
      opt.runs = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--json] [--filter SUBSTRING] [--min-time SECONDS] [--runs N]\n", argv[0]);
      return 2;
    }
  }
  std::fprintf(stderr, "sepal-bench %s: AEAD seal/open, sepal vs raw reused Botan\n", sepal::version_string);
  std::vector<row> rows;
  bench_aead<sepal::aes128_gcm>("AES-128-GCM", opt, rows);
  bench_aead<sepal::aes256_gcm>("AES-256-GCM", opt, rows);
  bench_aead<sepal::chacha20_poly1305>("ChaCha20-Poly1305", opt, rows);
  if (opt.json) {
    print_json(rows);
  } else {
    print_table(rows);
  }
  return 0;
}
