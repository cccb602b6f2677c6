// The one translation unit of sepal-unit-tests that compiles the default
// suite's handshake and session types; every other file sees them as extern
// through the precompiled header (pch/unit_pch.hpp).
#include <sepal/handshake/instantiate_default_suite.hpp>
