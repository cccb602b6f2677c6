#ifndef SEPAL_SEPAL_HPP
#define SEPAL_SEPAL_HPP

/// sepal: authenticated, encrypted sessions on Botan 3. This umbrella header
/// includes the whole public API.

#include "aead.hpp"
#include "aeads.hpp"
#include "concepts.hpp"
#include "curves.hpp"
#include "error.hpp"
#include "handshake/credentials.hpp"
#include "handshake/key_schedule.hpp"
#include "handshake/protocol.hpp"
#include "handshake/retry.hpp"
#include "handshake/suite.hpp"
#include "handshake/transcript.hpp"
#include "hashes.hpp"
#include "header_protection.hpp"
#include "kdf.hpp"
#include "keys.hpp"
#include "kex.hpp"
#include "packet.hpp"
#include "pake/file_user_store.hpp"
#include "pake/login.hpp"
#include "pake/password_kdf.hpp"
#include "pake/registration.hpp"
#include "pake/spake2plus.hpp"
#include "pake/suite.hpp"
#include "replay.hpp"
#include "rng.hpp"
#include "secret.hpp"
#include "session.hpp"
#include "sign.hpp"
#include "suite.hpp"
#include "version.hpp"

#endif
