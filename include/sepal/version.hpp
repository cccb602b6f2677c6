#ifndef SEPAL_VERSION_HPP
#define SEPAL_VERSION_HPP

/// sepal's version as integers, for preprocessor checks.
#define SEPAL_VERSION_MAJOR 0
#define SEPAL_VERSION_MINOR 5
#define SEPAL_VERSION_PATCH 0

namespace sepal {

/// sepal's version as a string ("major.minor.patch").
inline constexpr const char* version_string = "0.5.0";

}  // namespace sepal

#endif
