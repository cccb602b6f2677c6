#ifndef SEPAL_HTTP_VERIFIER_HPP
#define SEPAL_HTTP_VERIFIER_HPP

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../detail/bytes.hpp"
#include "../error.hpp"
#include "content_digest.hpp"
#include "keys.hpp"
#include "message.hpp"
#include "nonce_cache.hpp"
#include "signature_base.hpp"
#include "structured_fields.hpp"

namespace sepal::http {

/// Where a verifier finds the keys of a key id. Several keys may be active
/// for one id at once: that is how secrets rotate without downtime.
class key_store {
 public:
  virtual ~key_store() = default;
  /// The keys of `keyid` active at `now` (Unix seconds); empty when none.
  /// Must not throw.
  [[nodiscard]] virtual std::vector<std::shared_ptr<const verification_key>> find(std::string_view keyid,
                                                                                   std::int64_t now) noexcept = 0;
};

/// A `key_store` in memory. Each key has a version name (to retire it by)
/// and an optional validity window. Thread-safe.
class memory_key_store final : public key_store {
 public:
  /// Adds `key` as `version` of `keyid`, active from `not_before` until
  /// `not_after` (Unix seconds, inclusive).
  void add(std::string keyid, std::string version, verification_key key, std::int64_t not_before = 0,
           std::int64_t not_after = std::numeric_limits<std::int64_t>::max()) {
    const std::lock_guard lock(m_mutex);
    m_keys[std::move(keyid)].push_back(
        {std::move(version), std::make_shared<const verification_key>(std::move(key)), not_before, not_after});
  }
  /// Removes `version` of `keyid`; false when there was none.
  bool retire(std::string_view keyid, std::string_view version) {
    const std::lock_guard lock(m_mutex);
    const auto it = m_keys.find(std::string(keyid));
    if (it == m_keys.end()) return false;
    return std::erase_if(it->second, [&](const entry& e) { return e.version == version; }) > 0;
  }
  [[nodiscard]] std::vector<std::shared_ptr<const verification_key>> find(std::string_view keyid,
                                                                           std::int64_t now) noexcept override {
    try {
      const std::lock_guard lock(m_mutex);
      std::vector<std::shared_ptr<const verification_key>> out;
      const auto it = m_keys.find(std::string(keyid));
      if (it == m_keys.end()) return out;
      for (const auto& e : it->second)
        if (now >= e.not_before && now <= e.not_after) out.push_back(e.key);
      return out;
    } catch (...) {
      return {};
    }
  }

 private:
  struct entry {
    std::string version;
    std::shared_ptr<const verification_key> key;
    std::int64_t not_before, not_after;
  };
  std::map<std::string, std::vector<entry>, std::less<>> m_keys;
  std::mutex m_mutex;
};

/// What a verifier demands of a signature beyond its validity (RFC 9421 §1.4
/// leaves these to the application; §3.2.1 lists them). The defaults match
/// `signing_profile`'s.
struct verify_policy {
  /// Components every accepted signature must cover.
  std::vector<std::string> required_components = {"@method", "@target-uri"};
  /// A message with content (or a Content-Digest field) must cover
  /// content-digest, and its digest must match the content (RFC 9530).
  bool require_content_digest = true;
  /// `created` is required; it may be at most this far in the future...
  std::int64_t max_clock_skew = 30;
  /// ...and at most this old.
  std::int64_t max_age = 300;
  /// Require an `expires` parameter (always enforced when present).
  bool require_expires = false;
  /// Require a `nonce`; with one, a replay within `max_age` is refused.
  bool require_nonce = true;
  /// When set, only a signature with this `tag` is considered (RFC 9421
  /// §2.3: the tag names the application profile).
  std::optional<std::string> tag = std::string("sepal-request/1");
  /// When set, only the signature under this label is considered.
  std::optional<std::string> label;
  /// Algorithms accepted at all (each key still accepts only its own).
  std::vector<algorithm> allowed_algorithms = {algorithm::hmac_sha256, algorithm::ecdsa_p256_sha256,
                                               algorithm::ecdsa_p384_sha384, algorithm::ed25519};
  /// Structured types of further fields, for `sf` (RFC 9421 §2.1.1). Owned
  /// names: a policy built from temporaries stays valid.
  std::vector<std::pair<std::string, field_type>> field_types;
  /// Keep the signature base the verifier built in the outcome
  /// (`verification::signature_base()`), for debugging a client. Costs a
  /// copy per request; off by default.
  bool keep_signature_base = false;

  /// sepal's profile (the defaults): tag `sepal-request/1`, a nonce with
  /// replay protection, `created` within the skew and age limits.
  [[nodiscard]] static verify_policy strict() { return {}; }

  /// For generic RFC 9421 clients (library defaults send neither `tag` nor
  /// `nonce`; `signing_profile::interop()` is the matching client): any
  /// tag, no nonce required, `created` and `expires` both required and
  /// enforced, the same required components and Content-Digest rule.
  ///
  /// Security: a signature without a nonce can be replayed until it
  /// expires (at most `max_age`); keep `max_age` short, or require
  /// something per-request among the covered components.
  [[nodiscard]] static verify_policy interop() {
    verify_policy p;
    p.tag.reset();
    p.require_nonce = false;
    p.require_expires = true;
    return p;
  }
};

/// Why a request was refused: for logs. Clients get `public_reason()` only.
enum class verify_failure {
  no_signature,            ///< no Signature / Signature-Input (or a member missing from Signature)
  wrong_tag,               ///< signatures are present, but none has the policy's `tag` (none, or another)
  wrong_label,             ///< signatures are present, but none under the policy's label
  malformed,               ///< the fields do not parse, or the parameters have the wrong types
  missing_component,       ///< a component the policy requires is not covered
  component,               ///< a covered component cannot be derived from the message
                           ///< (`verification::component_failure()` says which)
  missing_created,         ///< no `created`
  created_in_future,       ///< `created` beyond the allowed clock skew
  too_old,                 ///< `created` older than `max_age`
  expired,                 ///< `expires` has passed, or is missing when required
  missing_nonce,           ///< no `nonce` when required
  unknown_key,             ///< no active key with that `keyid`
  algorithm_not_allowed,   ///< `alg` names another algorithm than the key's, or one the policy refuses
  bad_signature,           ///< no active key verifies the signature
  content_digest,          ///< Content-Digest missing, not covered, or not matching the content
  replayed,                ///< the nonce was seen within its lifetime
  nonce_cache_full,        ///< the replay cache is full of live nonces: refused, fail closed
  nonce_quota,             ///< this key id holds its whole share of the replay cache: refused
};

/// A short name for logs.
[[nodiscard]] constexpr std::string_view describe(verify_failure f) noexcept {
  switch (f) {
    case verify_failure::no_signature: return "no signature";
    case verify_failure::wrong_tag: return "no signature with the required tag";
    case verify_failure::wrong_label: return "no signature with the required label";
    case verify_failure::malformed: return "malformed Signature or Signature-Input";
    case verify_failure::missing_component: return "a required component is not covered";
    case verify_failure::component: return "a covered component cannot be derived from the message";
    case verify_failure::missing_created: return "no created parameter";
    case verify_failure::created_in_future: return "created is in the future";
    case verify_failure::too_old: return "signature too old";
    case verify_failure::expired: return "signature expired";
    case verify_failure::missing_nonce: return "no nonce";
    case verify_failure::unknown_key: return "unknown key id";
    case verify_failure::algorithm_not_allowed: return "algorithm not allowed for this key";
    case verify_failure::bad_signature: return "signature does not verify";
    case verify_failure::content_digest: return "content digest missing or wrong";
    case verify_failure::replayed: return "replayed nonce";
    case verify_failure::nonce_cache_full: return "replay cache full";
    case verify_failure::nonce_quota: return "replay cache share of this key id full";
  }
  return "unknown";
}

/// What verification established.
struct verified_signature {
  std::string label;         ///< the Dictionary key
  std::string keyid;         ///< the key id the signer named
  http::algorithm alg{};     ///< the key's algorithm
  signature_params params;   ///< covered components and parameters
};

/// A verification outcome: the verified signature, or the failure.
class verification {
 public:
  verification(verified_signature v) : m_ok(std::move(v)) {}  // NOLINT: implicit by design
  verification(verify_failure f) noexcept : m_failure(f) {}   // NOLINT: implicit by design
  /// A `component` failure, with which component and why.
  explicit verification(base_failure why) : m_failure(verify_failure::component), m_component(std::move(why)) {}

  [[nodiscard]] bool has_value() const noexcept { return m_ok.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  [[nodiscard]] const verified_signature& value() const { return m_ok.value(); }
  [[nodiscard]] const verified_signature* operator->() const noexcept { return &*m_ok; }
  /// Why it failed (for logs); meaningless on success.
  [[nodiscard]] verify_failure failure() const noexcept { return m_failure; }
  /// For a `component` failure: the component and the precise reason (for
  /// logs, never for the client).
  [[nodiscard]] const std::optional<base_failure>& component_failure() const noexcept { return m_component; }
  /// The signature base the verifier built, when the policy has
  /// `keep_signature_base` and verification got that far; empty otherwise.
  /// For debugging: compare it with the client's.
  [[nodiscard]] const std::string& signature_base() const noexcept { return m_base; }
  /// The HTTP status to answer a failure with.
  [[nodiscard]] static constexpr int http_status() noexcept { return 401; }
  /// What to tell the client: the same for every failure, so the response
  /// is no oracle for which check failed.
  [[nodiscard]] static constexpr std::string_view public_reason() noexcept { return "invalid request signature"; }

 private:
  friend class request_verifier;
  std::optional<verified_signature> m_ok;
  verify_failure m_failure = verify_failure::no_signature;
  std::optional<base_failure> m_component;
  std::string m_base;
};

/// Verifies RFC 9421 signatures on incoming messages against a key store and
/// a policy, with replay protection. Thread-safe.
///
/// Security: the verifier owns its policy and shares ownership of its key
/// store. The replay cache holds `nonce_capacity` nonces (64 bytes each, in
/// all); one key id may hold at most `nonce_per_key_limit` of them (0: a
/// quarter), so one misbehaving key cannot lock the others out
/// (`nonce_cache`).
class request_verifier {
 public:
  /// A verifier over `keys`, with a replay cache of `nonce_capacity` slots
  /// of which one key id may hold `nonce_per_key_limit` (0: a quarter).
  ///
  /// Errors: throws `sepal::error(invalid_argument)` for a null store,
  /// `rng_failure` when the cache cannot be keyed.
  explicit request_verifier(std::shared_ptr<key_store> keys, verify_policy policy = {},
                            std::size_t nonce_capacity = 1 << 16, std::size_t nonce_per_key_limit = 0)
      : m_keys(std::move(keys)), m_policy(std::move(policy)), m_nonces(nonce_capacity, nonce_per_key_limit) {
    if (!m_keys) throw error(errc::invalid_argument);
  }

  /// Deleted: the verifier would keep a reference to the caller's store (a
  /// temporary one dangles at once); share ownership instead, as
  /// `request_verifier(std::make_shared<memory_key_store>(...))`.
  explicit request_verifier(const key_store& keys, verify_policy policy = {}, std::size_t nonce_capacity = 1 << 16,
                            std::size_t nonce_per_key_limit = 0) = delete;

  /// Verifies `msg` at `now` (Unix seconds), RFC 9421 §3.2. Never throws.
  [[nodiscard]] verification verify(const message& msg, std::int64_t now) noexcept {
    return verify_with(msg, nullptr, now);
  }

  /// Verifies `response` at `now`, where the covered components with the
  /// `req` parameter come from `request`, the request it answers (RFC 9421
  /// §2.4). Without it such a signature fails as `component`
  /// (`base_error::no_request`). Never throws.
  [[nodiscard]] verification verify(const message& response, const message& request, std::int64_t now) noexcept {
    return verify_with(response, &request, now);
  }

  /// An Accept-Signature member (RFC 9421 §5.1) asking for what this
  /// verifier's policy requires: the policy's label (else `label`), its
  /// required components plus `content-digest` when the policy requires
  /// it, `created`, `expires` when required, its `tag`, and `keyid` and
  /// `nonce` (a challenge the verifier chose) when given. Send it with a
  /// 401 or in a request for a signed response; `parse_accept_signature`
  /// and `profile_for` read it on the other side.
  ///
  /// Security: a requested nonce is only a challenge if the application
  /// checks that the verified signature carries it
  /// (`verified_signature::params.nonce()`).
  [[nodiscard]] std::string accept_signature(std::string_view label = "sig",
                                             std::optional<std::string> keyid = std::nullopt,
                                             std::optional<std::string> nonce = std::nullopt) const {
    sf::inner_list l;
    for (const auto& c : m_policy.required_components) l.items.push_back({c, {}});
    if (m_policy.require_content_digest && !std::any_of(l.items.begin(), l.items.end(), [](const sf::item& i) {
          return std::get<std::string>(i.value) == "content-digest";
        }))
      l.items.push_back({std::string("content-digest"), {}});
    l.params.emplace_back("created", true);
    if (m_policy.require_expires) l.params.emplace_back("expires", true);
    if (keyid) l.params.emplace_back("keyid", std::move(*keyid));
    if (nonce) l.params.emplace_back("nonce", std::move(*nonce));
    if (m_policy.tag) l.params.emplace_back("tag", *m_policy.tag);
    return (m_policy.label ? *m_policy.label : std::string(label)) + "=" + sf::serialize(sf::member(l));
  }

  /// The policy in force.
  [[nodiscard]] const verify_policy& policy() const noexcept { return m_policy; }
  /// The replay cache.
  [[nodiscard]] const nonce_cache& nonces() const noexcept { return m_nonces; }

 private:
  verification verify_with(const message& msg, const message* request, std::int64_t now) noexcept {
    try {
      std::string base;
      auto v = run(msg, request, now, base);
      if (m_policy.keep_signature_base) v.m_base = std::move(base);
      return v;
    } catch (...) {
      return verify_failure::malformed;
    }
  }

  static std::string joined(const message& msg, std::string_view name) {
    std::string out;
    for (const auto v : msg.values(name)) {
      if (!out.empty()) out += ", ";
      out += detail::canonical_line(v);
    }
    return out;
  }

  verification run(const message& msg, const message* request, std::int64_t now, std::string& base_out) {
    const auto inputs_text = joined(msg, "signature-input");
    const auto sigs_text = joined(msg, "signature");
    if (inputs_text.empty() || sigs_text.empty()) return verify_failure::no_signature;
    const auto inputs = sf::parse_dictionary(inputs_text);
    const auto sigs = sf::parse_dictionary(sigs_text);
    if (!inputs || !sigs) return verify_failure::malformed;

    // §3.2 step 1: pick the one signature this policy is about.
    const std::pair<std::string, sf::member>* chosen = nullptr;
    bool label_seen = false;
    for (const auto& entry : *inputs) {
      if (m_policy.label && entry.first != *m_policy.label) continue;
      label_seen = true;
      if (m_policy.tag) {
        const auto p = signature_params::from_member(entry.second);
        if (!p || p->tag() != *m_policy.tag) continue;
      }
      chosen = &entry;
      break;
    }
    if (chosen == nullptr) {
      if (inputs->empty()) return verify_failure::no_signature;
      return label_seen ? verify_failure::wrong_tag : verify_failure::wrong_label;
    }
    const auto params = signature_params::from_member(chosen->second);
    const auto* sig_member = sf::find(*sigs, chosen->first);
    const auto* sig_item = sig_member ? std::get_if<sf::item>(sig_member) : nullptr;
    const auto* sig = sig_item ? std::get_if<sf::bytes>(&sig_item->value) : nullptr;
    if (!params) return verify_failure::malformed;
    if (sig == nullptr) return sig_member ? verify_failure::malformed : verify_failure::no_signature;

    if (const auto f = check_policy(msg, *params, now)) return *f;

    const auto keyid = params->keyid();
    if (!keyid) return verify_failure::unknown_key;
    const auto keys = m_keys->find(*keyid, now);
    if (keys.empty()) return verify_failure::unknown_key;

    std::vector<std::pair<std::string_view, field_type>> types;
    types.reserve(m_policy.field_types.size());
    for (const auto& [name, type] : m_policy.field_types) types.emplace_back(name, type);
    auto base = detail::build_base(msg, request, *params, types);
    if (auto* f = std::get_if<base_failure>(&base)) return verification(std::move(*f));
    base_out = std::move(std::get<std::string>(base));
    const auto& text = base_out;
    const auto base_bytes = sepal::detail::bytes_of(text);

    const auto named = params->alg();
    const auto named_alg = named ? algorithm_from_name(*named) : std::nullopt;
    if (named && !named_alg) return verify_failure::algorithm_not_allowed;
    const verification_key* good = nullptr;
    bool any_allowed = false;
    for (const auto& k : keys) {
      if (named_alg && *named_alg != k->alg()) continue;  // §3.2 step 6: alg must match the key
      if (std::find(m_policy.allowed_algorithms.begin(), m_policy.allowed_algorithms.end(), k->alg()) ==
          m_policy.allowed_algorithms.end())
        continue;
      any_allowed = true;
      if (k->verify(base_bytes, sig->value)) {
        good = k.get();
        break;
      }
    }
    if (good == nullptr) return any_allowed ? verify_failure::bad_signature : verify_failure::algorithm_not_allowed;

    if (m_policy.require_content_digest && !digest_ok(msg, *params)) return verify_failure::content_digest;

    // Only authenticated nonces enter the cache, so forgeries cannot fill it.
    if (const auto nonce = params->nonce()) {
      auto until = *params->created() + m_policy.max_age;
      if (const auto e = params->expires()) until = std::min(until, *e);
      switch (m_nonces.insert(*keyid, *nonce, now, until + 1)) {
        case nonce_cache::outcome::fresh: break;
        case nonce_cache::outcome::replayed: return verify_failure::replayed;
        case nonce_cache::outcome::full: return verify_failure::nonce_cache_full;
        case nonce_cache::outcome::over_quota: return verify_failure::nonce_quota;
      }
    }
    return verified_signature{chosen->first, *keyid, good->alg(), *params};
  }

  std::optional<verify_failure> check_policy(const message& msg, const signature_params& params,
                                             std::int64_t now) const {
    for (const auto& c : m_policy.required_components)
      if (!params.covers(c)) return verify_failure::missing_component;
    const bool has_content = !msg.content.empty() || !msg.values("content-digest").empty();
    if (m_policy.require_content_digest && has_content && !params.covers("content-digest"))
      return verify_failure::missing_component;
    const auto created = params.created();
    if (!created) return verify_failure::missing_created;
    if (*created > now + m_policy.max_clock_skew) return verify_failure::created_in_future;
    if (now - *created > m_policy.max_age) return verify_failure::too_old;
    const auto expires = params.expires();
    if ((m_policy.require_expires && !expires) || (expires && now > *expires)) return verify_failure::expired;
    if (m_policy.require_nonce && !params.nonce()) return verify_failure::missing_nonce;
    return std::nullopt;
  }

  static bool digest_ok(const message& msg, const signature_params& params) {
    const bool has_content = !msg.content.empty() || !msg.values("content-digest").empty();
    if (!has_content && !params.covers("content-digest")) return true;
    return verify_content_digest(joined(msg, "content-digest"), msg.content);
  }

  std::shared_ptr<key_store> m_keys;  // never null
  verify_policy m_policy;
  nonce_cache m_nonces;
};

}  // namespace sepal::http

#endif
