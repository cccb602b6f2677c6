#ifndef SEPAL_NOISE_HPP
#define SEPAL_NOISE_HPP

/// The Noise Protocol Framework (revision 34) on Botan's primitives: the
/// §5 objects, patterns as types, the typestate handshake and transports,
/// and the run-time name entry point. Not included by sepal.hpp.

#include "noise/algorithms.hpp"
#include "noise/cipher_state.hpp"
#include "noise/dynamic.hpp"
#include "noise/handshake_state.hpp"
#include "noise/patterns.hpp"
#include "noise/protocol.hpp"
#include "noise/symmetric_state.hpp"
#include "noise/transport.hpp"

#endif
