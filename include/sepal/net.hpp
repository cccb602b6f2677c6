#ifndef SEPAL_NET_HPP
#define SEPAL_NET_HPP

// The optional UDP endpoint (docs/net.md): POSIX sockets, batched I/O, a
// multi-threaded server and a client over the sepal handshake and sessions.
// Not part of sepal.hpp: include it where you want sockets.

#include "net/address.hpp"
#include "net/batch_io.hpp"
#include "net/counters.hpp"
#include "net/limits.hpp"
#include "net/socket.hpp"
#include "net/udp_client.hpp"
#include "net/udp_server.hpp"

#endif
