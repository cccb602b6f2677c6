#ifndef SEPAL_HANDSHAKE_INSTANTIATE_DEFAULT_SUITE_HPP
#define SEPAL_HANDSHAKE_INSTANTIATE_DEFAULT_SUITE_HPP

// The definitions that <sepal/handshake/extern_default_suite.hpp> declares:
// include this in exactly one translation unit of a program whose other
// translation units include that header. A definition may follow the
// declaration in the same translation unit ([temp.explicit]), so this
// header also works where the other was included first.

#include "extern_default_suite.hpp"

namespace sepal {
template class handshake::client_handshake<handshake::default_suite>;
template class handshake::server_handshake<handshake::default_suite>;
template class handshake::established<handshake::default_suite>;
template class session<>;
template class sealer<>;
template class opener<>;
}  // namespace sepal

#endif
