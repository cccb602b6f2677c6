#ifndef SEPAL_HANDSHAKE_EXTERN_DEFAULT_SUITE_HPP
#define SEPAL_HANDSHAKE_EXTERN_DEFAULT_SUITE_HPP

// Opt-in separate compilation of the default suite (as Asio's separate
// compilation or {fmt}'s compiled mode): the handshake and session types of
// `handshake::default_suite` are declared explicitly instantiated elsewhere
// (C++20 [temp.explicit]), so a translation unit that includes this header
// instead of protocol.hpp + session.hpp does not generate their code again
// (the compiler may still look at inline members to inline them). Exactly one translation unit of the program includes
// <sepal/handshake/instantiate_default_suite.hpp>, which defines them; without
// it the program does not link (undefined references name the types).
//
// sepal stays header-only: this changes where the default suite's code is
// compiled, never what it does. Other suites are unaffected.

#include "../session.hpp"
#include "protocol.hpp"

namespace sepal {
extern template class handshake::client_handshake<handshake::default_suite>;
extern template class handshake::server_handshake<handshake::default_suite>;
extern template class handshake::established<handshake::default_suite>;
extern template class session<>;
extern template class sealer<>;
extern template class opener<>;
}  // namespace sepal

#endif
