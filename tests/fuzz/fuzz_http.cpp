// libFuzzer harness: the structured-field parser (RFC 8941), the
// Accept-Signature parser and the RFC 9421 signature-base builder and
// verifier on attacker-controlled fields.
// Invariants: nothing throws; whatever parses re-serializes to text that
// parses to the same value; a request no key signed never verifies.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include <sepal/http/content_digest.hpp>
#include <sepal/http/signature_base.hpp>
#include <sepal/http/signer.hpp>
#include <sepal/http/structured_fields.hpp>
#include <sepal/http/verifier.hpp>

namespace {

namespace http = sepal::http;
namespace sf = sepal::http::sf;

void require(bool ok) {
  if (!ok) std::abort();
}

struct fixture {
  std::shared_ptr<http::memory_key_store> keys = std::make_shared<http::memory_key_store>();
  http::signing_key signer =
      http::signing_key::hmac_sha256_or_throw(sepal::secret_bytes::copy_of(std::vector<std::uint8_t>(32, 9)));
  fixture() { keys->add("k", "1", http::verification_key::hmac_sha256_or_throw(sepal::secret_bytes::copy_of(std::vector<std::uint8_t>(32, 9)))); }
};

/// Splits the input at NUL bytes: the fields of a request, in order.
std::vector<std::string_view> parts(std::string_view in, std::size_t n) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < n) {
    const auto z = in.find('\0');
    if (z == std::string_view::npos) break;
    out.push_back(in.substr(0, z));
    in.remove_prefix(z + 1);
  }
  out.push_back(in);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0: {  // dictionary: parse, serialize, parse again to the same value
      if (auto d = sf::parse_dictionary(in)) require(sf::parse_dictionary(sf::serialize(*d)) == d);
      // Accept-Signature (RFC 9421 §5.1, issue 17 gap 10): each entry
      // re-parses to itself; turning it into a profile never throws, and a
      // profile it yields covers every requested component and every one
      // of the signer's own profile (requests add, never remove).
      if (auto entries = http::parse_accept_signature(in)) {
        for (const auto& e : *entries) {
          const auto again = http::parse_accept_signature(e.serialize());
          require(again && again->size() == 1 && again->front().label == e.label &&
                  again->front().request == e.request);
          const auto p = http::profile_for(e, "k", f.signer);
          if (p) {
            require(p->label == e.label);
            const auto has = [&](const std::string& c) {
              return std::find(p->components.begin(), p->components.end(), c) != p->components.end();
            };
            for (const auto& c : e.request.items) require(has(std::get<std::string>(c.value)));
            for (const auto& c : http::signing_profile{}.components) require(has(c));
          }
        }
      }
      break;
    }
    case 1: {  // list and item
      if (auto l = sf::parse_list(in)) require(sf::parse_list(sf::serialize(*l)) == l);
      if (auto i = sf::parse_item(in)) require(sf::parse_item(sf::serialize(sf::member(*i))) == i);
      break;
    }
    case 2: {  // the signature base of a fuzzed request for fuzzed covered components
      const auto p = parts(in, 4);
      auto m = http::message::request("POST", std::string(p[0]));
      if (p.size() > 2) m.add("x-a", std::string(p[2]));
      if (p.size() > 3) m.add("Example-Dict", std::string(p[3]));
      if (auto list = sf::parse_list(p.size() > 1 ? p[1] : std::string_view{})) {
        sf::inner_list il;
        for (const auto& mem : *list)
          if (const auto* i = std::get_if<sf::item>(&mem)) il.items.push_back(*i);
        if (auto params = http::signature_params::from_member(il)) {
          const std::pair<std::string_view, http::field_type> types[] = {{"example-dict", http::field_type::dictionary}};
          (void)http::signature_base(m, *params, types);
          // The same components on a response bound to this request (req,
          // RFC 9421 §2.4), the fuzzed field also as a trailer (tr).
          auto response = http::message::response(200);
          if (p.size() > 2) response.add("x-a", std::string(p[2])).add_trailer("x-a", std::string(p[2]));
          (void)http::signature_base(response, m, *params, types);
          // Parameters sign() accepts (issue 17 gap 4) serialize to a
          // Signature-Input member that parses back to the same value.
          if (!http::detail::check_params(params->params())) {
            const auto text = sf::serialize(sf::member(params->inner_list()));
            const auto back = sf::parse_dictionary("a=" + text);
            require(back && back->size() == 1 && back->front().second == sf::member(params->inner_list()));
          }
        }
      }
      // @query-param's form-urlencoded decoding (issue 17): the re-encoding
      // is visible ASCII only, and decoding it again is a fixed point (the
      // UTF-8 replacement left only well-formed UTF-8).
      const auto once = http::detail::query_reencode(p[0]);
      for (char c : once) require(static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f);
      require(http::detail::query_reencode(once) == once);
      // A canonicalized line holds no CR or LF and no outer whitespace.
      const auto line = http::detail::canonical_line(in);
      require(line.find_first_of("\r\n") == std::string::npos);
      require(line.empty() || (line.front() != ' ' && line.back() != ' ' && line.front() != '\t' && line.back() != '\t'));
      break;
    }
    default: {  // a whole request at the verifier: never verifies without the key
      const auto p = parts(in, 4);
      auto m = http::message::request("GET", std::string(p[0]));
      if (p.size() > 1) m.add("Signature-Input", std::string(p[1]));
      if (p.size() > 2) m.add("Signature", std::string(p[2]));
      if (p.size() > 3) m.add("Content-Digest", std::string(p[3]));
      static http::request_verifier v(f.keys, [] {
        http::verify_policy p;
        p.required_components = {};
        p.tag.reset();
        p.require_nonce = false;
        return p;
      }());
      require(!v.verify(m, 1'800'000'000).has_value());
      (void)http::verify_content_digest(p.size() > 3 ? p[3] : in, in);
      break;
    }
  }
  return 0;
}
