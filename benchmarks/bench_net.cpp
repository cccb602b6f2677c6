// sepal-net-bench: packets per second and MB/s through the UDP endpoint
// (include/sepal/net/) on loopback, for 64 and 1200-byte payloads with 1
// and 2 worker threads, next to the same echo traffic through the
// one-datagram-per-call example loop (examples/udp_echo.hpp) and through
// plain unencrypted UDP over the same batched path (the ceiling); then
// handshakes per second over UDP next to the in-memory handshake.
//
//   sepal-net-bench [--time SECONDS] [--clients N] [--burst N] [--sizes 64,1200]
//
// Echo: each client thread sends a burst of datagrams (one sendmmsg, GSO
// when offered), then receives the burst's echoes; a round trip is one
// payload there and back. Numbers on a shared machine vary by run: every
// cell is the median of three runs.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sepal/net.hpp>

#include "udp_echo.hpp"

namespace {

namespace hs = sepal::handshake;
namespace net = sepal::net;
using suite = hs::default_suite;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct options {
  double seconds = 0.1;  // per run: README command 1 stays under 3 minutes
  int clients = 2;
  int burst = 32;
  std::vector<std::size_t> sizes{64, 1200};
};

struct cell {
  double rtt_per_s = 0;
  double mb_per_s = 0;       // payload MB/s each way
  double calls_per_dgram = 0;  // server system calls per datagram (in + out)
};

double median3(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Runs `clients` threads of `body(stop)` for `seconds`; each returns its
/// round trips. Returns round trips per second.
double drive(int clients, double seconds, const std::function<std::uint64_t(const std::atomic<bool>&, int)>& body) {
  std::atomic<bool> stop{false};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::uint64_t> done(static_cast<std::size_t>(clients));
  std::vector<std::thread> threads;
  clock_type::time_point t0;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      ++ready;
      while (!go) std::this_thread::yield();
      done[static_cast<std::size_t>(c)] = body(stop, c);
    });
  }
  while (ready < clients) std::this_thread::yield();
  t0 = clock_type::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::uint64_t total = 0;
  for (auto d : done) total += d;
  return static_cast<double>(total) / elapsed;
}

struct keys {
  hs::shared_private_key<sepal::p256> root = hs::share(sepal::private_key<sepal::p256>::generate());
  hs::server_config<suite> server_config() const { return {hs::server_identity<suite>::root(root), {}}; }
  hs::client_config<suite> client_config() const { return {root->public_key(), nullptr}; }
};

// ------------------------------------------------------------ the endpoint
cell endpoint_echo(const keys& k, const options& opt, std::size_t size, unsigned threads, net::io_options io) {
  net::udp_server<suite>::config cfg{.handshake = k.server_config(), .threads = threads, .io = io};
  net::udp_server<suite>::handlers h;
  h.on_payload = [](net::udp_server<suite>::connection& c, std::span<const std::uint8_t> p) { c.send(p); };
  net::udp_server<suite> srv(std::move(cfg), std::move(h));
  // One client per thread, each connected before the clock starts.
  std::vector<std::unique_ptr<net::udp_client<suite>>> cs;
  for (int c = 0; c < opt.clients * static_cast<int>(threads); ++c) {
    net::udp_client<suite>::config cc{.handshake = k.client_config(), .server = srv.local()};
    cc.io = io;
    cs.push_back(std::make_unique<net::udp_client<suite>>(cc));
    if (!cs.back()->connect()) std::fprintf(stderr, "connect failed\n");
  }
  const auto before = srv.stats().io;
  const auto rate = drive(static_cast<int>(cs.size()), opt.seconds, [&](const std::atomic<bool>& stop, int c) {
    auto& cl = *cs[static_cast<std::size_t>(c)];
    std::vector<std::uint8_t> payload(size, 1);
    std::uint64_t n = 0;
    while (!stop) {
      for (int i = 0; i < opt.burst; ++i) (void)cl.send(payload);
      for (int i = 0; i < opt.burst; ++i) {
        if (!cl.receive(20ms)) break;
        ++n;
      }
    }
    return n;
  });
  const auto after = srv.stats().io;
  const double dgrams = static_cast<double>(after.datagrams_received - before.datagrams_received);
  const double calls = static_cast<double>(after.receive_calls + after.send_calls - before.receive_calls - before.send_calls);
  return {rate, rate * static_cast<double>(size) / 1e6, dgrams > 0 ? calls / (2 * dgrams) : 0};
}

// ------------------------------------------- plain UDP, same batched path
cell plain_echo(const options& opt, std::size_t size, unsigned threads, net::io_options io) {
  // The same sockets, batches and worker-per-socket layout, no crypto.
  std::vector<std::unique_ptr<net::udp_socket>> socks;
  net::socket_options so{.reuse_port = threads > 1, .gro = io.offload, .gso = io.offload};
  net::endpoint at = net::endpoint::loopback_v4();
  for (unsigned i = 0; i < threads; ++i) {
    socks.push_back(std::make_unique<net::udp_socket>(at, so));
    at = socks.back()->local();
  }
  std::vector<net::io_counters> counters(threads);
  std::vector<std::jthread> workers;
  for (unsigned i = 0; i < threads; ++i) {
    workers.emplace_back([&, i](std::stop_token st) {
      net::receive_batch in(io);
      net::send_batch out(*socks[i], counters[i], io);
      while (!st.stop_requested()) {
        if (!socks[i]->wait_readable(20ms)) continue;
        for (int r = 0; r < 64; ++r) {
          const auto n = in.receive(*socks[i], counters[i]);
          if (n == 0) break;
          for (std::size_t d = 0; d < n; ++d) (void)out.push(*in.at(d).from, in.at(d).data);
          out.flush();
        }
      }
    });
  }
  const auto rate = drive(opt.clients * static_cast<int>(threads), opt.seconds, [&](const std::atomic<bool>& stop, int) {
    net::udp_socket s(net::endpoint::loopback_v4(), {.gro = io.offload, .gso = io.offload});
    net::io_counters cc;
    net::receive_batch in(io);
    net::send_batch out(s, cc, io);
    std::vector<std::uint8_t> payload(size, 1);
    std::uint64_t n = 0;
    while (!stop) {
      for (int i = 0; i < opt.burst; ++i) (void)out.push(socks[0]->local(), payload);
      out.flush();
      int got = 0;
      while (got < opt.burst) {
        auto k = in.receive(s, cc);
        if (k == 0) {
          if (!s.wait_readable(20ms)) break;
          continue;
        }
        got += static_cast<int>(k);
      }
      n += static_cast<std::uint64_t>(got);
    }
    return n;
  });
  for (auto& w : workers) w.request_stop();
  workers.clear();
  net::io_stats st;
  for (auto& c : counters) st += c.snapshot();
  const double dgrams = static_cast<double>(st.datagrams_received);
  return {rate, rate * static_cast<double>(size) / 1e6,
          dgrams > 0 ? static_cast<double>(st.receive_calls + st.send_calls) / (2 * dgrams) : 0};
}

// ----------------------------------- today's one-datagram-per-call loop
cell example_echo(const keys& k, const options&, std::size_t size, double seconds) {
  demo::hs::server_config<demo::suite> sc = k.server_config();
  demo::echo_server srv(std::move(sc));
  std::thread t([&] { srv.run(); });
  // As the demo: 64 client threads, one echo in flight each.
  constexpr int clients = 64;
  std::vector<std::unique_ptr<demo::echo_client>> cs;
  for (int c = 0; c < clients; ++c) {
    cs.push_back(std::make_unique<demo::echo_client>(k.client_config(), srv.port()));
    cs.back()->connect();
  }
  const auto rate = drive(clients, seconds, [&](const std::atomic<bool>& stop, int c) {
    const demo::bytes payload(size, 2);
    std::uint64_t n = 0;
    while (!stop) n += cs[static_cast<std::size_t>(c)]->echo(payload) ? 1 : 0;
    return n;
  });
  srv.stop();
  t.join();
  return {rate, rate * static_cast<double>(size) / 1e6, 1.0};
}

// ------------------------------------------------------------- handshakes
double memory_handshakes(const keys& k, double seconds) {
  const auto sc = k.server_config();
  const auto cc = k.client_config();
  std::uint64_t n = 0;
  const auto t0 = clock_type::now();
  while (std::chrono::duration<double>(clock_type::now() - t0).count() < seconds) {
    auto c = hs::client_handshake<suite>::start(cc);
    auto s = hs::server_handshake<suite>::accept(sc, c.client_hello());
    auto cd = c.receive(s->server_hello());
    auto sd = s->receive(cd->client_finished());
    n += sd.has_value() ? 1 : 0;
  }
  return static_cast<double>(n) / std::chrono::duration<double>(clock_type::now() - t0).count();
}

double endpoint_handshakes(const keys& k, const options& opt, unsigned threads) {
  net::udp_server<suite>::config cfg{.handshake = k.server_config(), .threads = threads};
  cfg.limits.max_sessions = 1'000'000;
  cfg.limits.max_pending = 100'000;
  cfg.limits.max_pending_per_address = 100'000;  // every client is on 127.0.0.1
  net::udp_server<suite>::handlers h;
  h.on_connect = [](net::udp_server<suite>::connection& c) { c.close(); };  // keep the server's tables small
  net::udp_server<suite> srv(std::move(cfg), std::move(h));
  return drive(opt.clients * static_cast<int>(threads), opt.seconds * 2, [&](const std::atomic<bool>& stop, int) {
    std::uint64_t n = 0;
    while (!stop) {
      net::udp_client<suite> c({.handshake = k.client_config(), .server = srv.local()});
      n += c.connect() ? 1 : 0;
    }
    return n;
  });
}

std::vector<std::size_t> parse_sizes(const char* s) {
  std::vector<std::size_t> v;
  for (const char* p = s; *p;) {
    v.push_back(static_cast<std::size_t>(std::strtoul(p, const_cast<char**>(&p), 10)));
    if (*p == ',') ++p;
    else break;
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--time") opt.seconds = std::max(0.05, std::atof(argv[i + 1]));
    else if (a == "--clients") opt.clients = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--burst") opt.burst = std::clamp(std::atoi(argv[i + 1]), 1, 256);
    else if (a == "--sizes") opt.sizes = parse_sizes(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: %s [--time SECONDS] [--clients N] [--burst N] [--sizes 64,1200]\n", argv[0]);
      return 2;
    }
  }
  keys k;
  const net::io_options batched{};
  const net::io_options no_offload{.offload = false};
  {
    net::udp_socket probe(net::endpoint::loopback_v4());
    std::printf("sepal-net-bench: loopback, %u hardware threads; kernel offers GSO %s, GRO %s; %d client thread(s) per worker, bursts of %d, median of 3 runs of %.2f s\n",
                std::thread::hardware_concurrency(), probe.gso() ? "yes" : "no", probe.gro() ? "yes" : "no",
                opt.clients, opt.burst, opt.seconds);
  }
  std::printf("\n%-44s %7s %7s %14s %12s %12s\n", "echo path", "payload", "workers", "round trips/s", "MB/s each way",
              "calls/dgram");
  auto row = [](const char* name, std::size_t size, unsigned threads, const cell& c) {
    std::printf("%-44s %7zu %7u %14.0f %12.1f %12.3f\n", name, size, threads, c.rtt_per_s, c.mb_per_s, c.calls_per_dgram);
  };
  auto med = [](auto f) {
    std::vector<cell> v{f(), f(), f()};
    std::sort(v.begin(), v.end(), [](const cell& a, const cell& b) { return a.rtt_per_s < b.rtt_per_s; });
    return v[1];
  };
  struct summary { std::size_t size; double example, endpoint1, endpoint2, plain1, plain2, endpoint_no_offload, plain_no_offload; };
  std::vector<summary> sums;
  for (const auto size : opt.sizes) {
    summary s{size, 0, 0, 0, 0, 0, 0, 0};
    const auto ex = med([&] { return example_echo(k, opt, size, opt.seconds); });
    row("example loop (udp_echo.hpp, 1 datagram/call)", size, 1, ex);
    s.example = ex.rtt_per_s;
    for (unsigned t : {1u, 2u}) {
      const auto e = med([&] { return endpoint_echo(k, opt, size, t, batched); });
      row("endpoint: sealed, batched, GSO/GRO", size, t, e);
      const auto p = med([&] { return plain_echo(opt, size, t, batched); });
      row("plain UDP, same batched path (ceiling)", size, t, p);
      (t == 1 ? s.endpoint1 : s.endpoint2) = e.rtt_per_s;
      (t == 1 ? s.plain1 : s.plain2) = p.rtt_per_s;
    }
    const auto eno = med([&] { return endpoint_echo(k, opt, size, 1, no_offload); });
    row("endpoint: sealed, batched, no GSO/GRO", size, 1, eno);
    const auto pno = med([&] { return plain_echo(opt, size, 1, no_offload); });
    row("plain UDP, batched, no GSO/GRO", size, 1, pno);
    s.endpoint_no_offload = eno.rtt_per_s;
    s.plain_no_offload = pno.rtt_per_s;
    row("endpoint: sealed, 1 datagram/call", size, 1,
        med([&] { return endpoint_echo(k, opt, size, 1, {.batch = false, .offload = false}); }));
    sums.push_back(s);
  }
  std::printf("\n");
  for (const auto& s : sums) {
    const double best = std::max(s.endpoint1, s.endpoint2);
    std::printf("%4zu B: endpoint / example loop %.1fx (target 3x for 1200 B); endpoint / plain batched UDP %.2f (1 worker), "
                "%.2f (2 workers), %.2f without GSO/GRO (target 0.8)\n",
                s.size, best / s.example, s.endpoint1 / s.plain1, s.endpoint2 / s.plain2,
                s.endpoint_no_offload / s.plain_no_offload);
  }
  const double mem = median3({memory_handshakes(k, opt.seconds), memory_handshakes(k, opt.seconds),
                              memory_handshakes(k, opt.seconds)});
  const double h1 = median3({endpoint_handshakes(k, opt, 1), endpoint_handshakes(k, opt, 1), endpoint_handshakes(k, opt, 1)});
  const double h2 = median3({endpoint_handshakes(k, opt, 2), endpoint_handshakes(k, opt, 2), endpoint_handshakes(k, opt, 2)});
  std::printf("handshakes/s: in memory (one thread, both sides) %.0f; over UDP through the endpoint %.0f with 1 worker (%.2fx), %.0f with 2 workers (%.2fx) (target 0.9x)\n",
              mem, h1, h1 / mem, h2, h2 / mem);
  return 0;
}
