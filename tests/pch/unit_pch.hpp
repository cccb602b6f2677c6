// Precompiled for the unit test executable (Meson's cpp_pch): Catch2 and
// every sepal header, parsed once per build instead of once per test file
// (about 2 s of each file's compile). Test files still include what they use.
// It also declares the default suite's handshake and session types extern
// (the opt-in of sepal/handshake/extern_default_suite.hpp): they are compiled
// once, in unit/instantiate_default_suite.cpp, so the executable's link
// proves that opt-in works.
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <sepal/handshake/extern_default_suite.hpp>
#include <sepal/sepal.hpp>

#include "test_support.hpp"
