// tools/compile-times --path links the PROBE_EXTERN probe with this: the
// one translation unit that compiles the default suite.
#include <sepal/handshake/instantiate_default_suite.hpp>
